// The rules as a table, one column per field of a rule, sorted by clicking a column's header, and the pager
// under it. The server sorts and pages (state.ts holds which column, which way, which page).
import type { Rule, RulesPage } from '../../../types.ts';
import { fmtNum, fmtPct, h } from '../../dom.ts';
import type { RulesState, SortKey } from './state.ts';

interface Column {
  key: SortKey;
  label: string;
  numeric: boolean;
  show: (r: Rule) => string;
}

export const columns: Column[] = [
  { key: 'antecedents', label: 'If a basket has', numeric: false, show: (r) => r.antecedents ?? '' },
  { key: 'consequents', label: 'it also has', numeric: false, show: (r) => r.consequents ?? '' },
  { key: 'support', label: 'Support', numeric: true, show: (r) => fmtPct(r.support, 2) },
  { key: 'confidence', label: 'Confidence', numeric: true, show: (r) => fmtPct(r.confidence, 1) },
  { key: 'lift', label: 'Lift', numeric: true, show: (r) => fmtNum(r.lift, 3) },
  { key: 'leverage', label: 'Leverage', numeric: true, show: (r) => fmtNum(r.leverage, 5) },
  {
    key: 'conviction',
    label: 'Conviction',
    numeric: true,
    show: (r) => (r.conviction === null ? '∞' : fmtNum(r.conviction, 3)),
  },
];

function header(column: Column, state: RulesState, onSort: (column: Column) => void): HTMLElement {
  const sorted = state.sort === column.key;
  return h(
    'th',
    {
      class: `${column.numeric ? 'num ' : ''}sortable`,
      'aria-sort': sorted ? (state.dir === 'asc' ? 'ascending' : 'descending') : 'none',
      'data-sort': column.key,
      tabindex: 0,
      onClick: () => onSort(column),
    },
    column.label,
    h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, sorted ? (state.dir === 'asc' ? '▲' : '▼') : ''),
  );
}

function rows(page: RulesPage): HTMLElement[] {
  if (page.rows.length === 0) {
    return [
      h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'No rule passes these filters.')),
    ];
  }
  return page.rows.map((r) =>
    h(
      'tr',
      {},
      columns.map((c) => h('td', { class: c.numeric ? 'num' : undefined }, c.show(r))),
    ),
  );
}

/** One page of rules; `onSort` is called with the column whose header was clicked. */
export function rulesTable(
  page: RulesPage,
  state: RulesState,
  onSort: (column: Column) => void,
): HTMLElement {
  const head = h(
    'tr',
    {},
    columns.map((c) => header(c, state, onSort)),
  );
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', { 'data-testid': 'rules-table' }, h('thead', {}, head), h('tbody', {}, rows(page))),
  );
}

/** Previous, "Page n of m", next; `onTurn` is called with -1 or +1. */
export function pagerButtons(page: RulesPage, onTurn: (by: number) => void): HTMLElement[] {
  const pages = Math.max(1, Math.ceil((page.total ?? 0) / page.pageSize));
  return [
    h('button', { type: 'button', disabled: page.page <= 1, onClick: () => onTurn(-1) }, '‹ Previous'),
    h('span', { 'data-testid': 'rules-page' }, `Page ${page.page} of ${pages}`),
    h('button', { type: 'button', disabled: page.page >= pages, onClick: () => onTurn(1) }, 'Next ›'),
  ];
}
