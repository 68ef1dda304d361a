// The rules as a table: the two sides as lists of items, then the metric columns chosen (any metric of the rules
// table), each header a button that sorts by it (aria-sort says how the table is sorted), and the pager under
// it. Above it: which columns to show, a sort menu (the way to sort on a phone, where the rows become cards) and
// the CSV download of exactly the rules that pass. The server sorts and pages; state.ts holds how.
import type { Rule, RuleMetric, RulesPage } from '../../../types.ts';
import { fmtInt, fmtNum, fmtPct, h } from '../../dom.ts';
import type { RulesState } from './state.ts';
import { PAGE_SIZES, TEXT_SORTS } from './state.ts';

const PERCENT = new Set(['support', 'confidence', 'antecedentSupport', 'consequentSupport']);

export function showMetric(key: string, value: number | null): string {
  if (value === null) return key === 'conviction' ? '∞' : '–';
  if (PERCENT.has(key)) return fmtPct(value, 2);
  return fmtNum(value, key === 'leverage' ? 5 : 3);
}

const SIDE_LABELS: Record<string, string> = { antecedents: 'If a basket has', consequents: 'it also has' };

interface Column {
  key: string;
  label: string;
  numeric: boolean;
  description: string | null;
}

function columnsOf(metrics: RuleMetric[], state: RulesState): Column[] {
  const text = TEXT_SORTS.map((key) => ({
    key,
    label: SIDE_LABELS[key] ?? key,
    numeric: false,
    description: null,
  }));
  const shown = metrics.filter((m) => state.columns.includes(m.key));
  return [
    ...text,
    ...shown.map((m) => ({ key: m.key, label: m.label, numeric: true, description: m.description })),
  ];
}

function header(column: Column, state: RulesState, onSort: (key: string) => void): HTMLElement {
  const sorted = state.sort === column.key;
  const direction = state.dir === 'asc' ? 'ascending' : 'descending';
  return h(
    'th',
    { class: column.numeric ? 'num' : undefined, 'aria-sort': sorted ? direction : 'none', scope: 'col' },
    h(
      'button',
      {
        type: 'button',
        class: 'sort',
        'data-sort': column.key,
        title: column.description ?? undefined,
        onClick: () => onSort(column.key),
      },
      column.label,
      h(
        'span',
        { class: 'sort-mark', 'aria-hidden': 'true' },
        sorted ? (state.dir === 'asc' ? '▲' : '▼') : '↕',
      ),
    ),
  );
}

function itemList(items: string[]): HTMLElement {
  return h(
    'ul',
    { class: 'items' },
    items.map((item) => h('li', {}, item)),
  );
}

function cell(rule: Rule, column: Column): HTMLElement {
  const attrs = { 'data-label': column.label, 'data-key': column.key };
  if (!column.numeric)
    return h(
      'td',
      { ...attrs, class: 'side' },
      itemList(column.key === 'antecedents' ? rule.antecedents : rule.consequents),
    );
  const value = rule.metrics[column.key] ?? null;
  return h(
    'td',
    { ...attrs, class: 'num', 'data-value': value === null ? '' : String(value) },
    showMetric(column.key, value),
  );
}

/** One page of rules; `onSort` is called with the key of the column whose header was pressed. */
export function rulesTable(
  page: RulesPage,
  metrics: RuleMetric[],
  state: RulesState,
  onSort: (key: string) => void,
): HTMLElement {
  const columns = columnsOf(metrics, state);
  const body = page.rows.length
    ? page.rows.map((r) =>
        h(
          'tr',
          {},
          columns.map((c) => cell(r, c)),
        ),
      )
    : [h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'No rule passes these filters.'))];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      // The order the server answered with (what the end-to-end tests wait for).
      { class: 'rules', 'data-testid': 'rules-table', 'data-sort': page.sort, 'data-dir': page.dir },
      h('caption', { class: 'visually-hidden' }, 'Association rules; the column headers sort the table.'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((c) => header(c, state, onSort)),
        ),
      ),
      h('tbody', {}, body),
    ),
  );
}

/** Checkboxes for the metric columns, with all and the initial few. */
export function columnChooser(
  metrics: RuleMetric[],
  state: RulesState,
  onChange: (columns: string[]) => void,
): HTMLElement {
  const boxes = metrics.map((m) =>
    h(
      'label',
      { class: 'check' },
      h('input', {
        type: 'checkbox',
        value: m.key,
        checked: state.columns.includes(m.key),
        'data-testid': `column-${m.key}`,
        onChange: (e: Event) => {
          const on = (e.target as HTMLInputElement).checked;
          const shown = (key: string) => (key === m.key ? on : state.columns.includes(key));
          onChange(metrics.map((x) => x.key).filter(shown));
        },
      }),
      m.label,
    ),
  );
  const all = h(
    'button',
    { type: 'button', 'data-testid': 'columns-all', onClick: () => onChange(metrics.map((m) => m.key)) },
    'All',
  );
  return h(
    'details',
    { class: 'chooser', 'data-testid': 'column-chooser' },
    h('summary', {}, `Columns (${state.columns.length} of ${metrics.length})`),
    h('div', { class: 'checks' }, boxes, all),
  );
}

/** A menu of every sort (a header can only sort by a column shown), and the order. */
export function sortMenu(
  metrics: RuleMetric[],
  state: RulesState,
  onSort: (key: string, dir: 'asc' | 'desc') => void,
): HTMLElement {
  const keys = [...TEXT_SORTS.map((k) => [k, SIDE_LABELS[k] ?? k]), ...metrics.map((m) => [m.key, m.label])];
  const select = h(
    'select',
    {
      'data-testid': 'sort-select',
      'aria-label': 'Sort by',
      onChange: (e: Event) => onSort((e.target as HTMLSelectElement).value, state.dir),
    },
    keys.map(([key, label]) => h('option', { value: key, selected: key === state.sort }, label)),
  );
  const flip = h(
    'button',
    {
      type: 'button',
      'data-testid': 'sort-dir',
      'aria-label': `Order: ${state.dir === 'asc' ? 'ascending' : 'descending'}; press to reverse`,
      onClick: () => onSort(state.sort, state.dir === 'asc' ? 'desc' : 'asc'),
    },
    state.dir === 'asc' ? '▲ low first' : '▼ high first',
  );
  return h('div', { class: 'sort-menu' }, h('span', { class: 'muted small' }, 'Sort by'), select, flip);
}

/** Previous, "Page n of m", next, and the page size; `onTurn` gets -1 or +1, `onSize` the new size. */
export function pager(
  page: RulesPage,
  onTurn: (by: number) => void,
  onSize: (size: number) => void,
): HTMLElement[] {
  const pages = Math.max(1, Math.ceil((page.total ?? 0) / page.pageSize));
  const size = h(
    'select',
    {
      'aria-label': 'Rules per page',
      'data-testid': 'page-size',
      onChange: (e: Event) => onSize(Number((e.target as HTMLSelectElement).value)),
    },
    PAGE_SIZES.map((n) => h('option', { value: n, selected: n === page.pageSize }, `${n} a page`)),
  );
  return [
    size,
    h('button', { type: 'button', disabled: page.page <= 1, onClick: () => onTurn(-1) }, '‹ Previous'),
    h('span', { 'data-testid': 'rules-page' }, `Page ${fmtInt(page.page)} of ${fmtInt(pages)}`),
    h('button', { type: 'button', disabled: page.page >= pages, onClick: () => onTurn(1) }, 'Next ›'),
  ];
}
