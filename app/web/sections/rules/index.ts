// The rules section: association rules behind a filter bar, as a confidence/lift scatter and a sortable, paged
// table. Every filter, sort and page runs in SQL on the server. The parts:
//
//   state.ts    what is shown (items, bounds, sort, page, columns), the API queries and the address made from it
//   filters.ts  the thresholds (sliders.ts), the item picker (picker.ts), bounds on every metric, count, reset
//   table.ts    the table, its sort buttons and menu, the column chooser and the pager
//   scatter.ts  the scatter chart
//
// This file puts them on the page and reloads the rules when the state changes; when reloads overlap, only the
// answer to the latest is shown. After each change the view is written to the address (route.ts).
import type { RuleItem, RulesBounds, RulesPage, RulesScatter } from '../../../types.ts';
import { get, queryString } from '../../client.ts';
import { card, clear, errorBox, fmtInt, h } from '../../dom.ts';
import { rememberView } from '../../route.ts';
import { filterBar, ruleCount, showCount } from './filters.ts';
import { drawScatter, scatterView } from './scatter.ts';
import * as rulesState from './state.ts';
import type { RulesState } from './state.ts';
import { columnChooser, pager, rulesTable, sortMenu } from './table.ts';

function fetchRules(state: RulesState): Promise<[RulesPage, RulesScatter]> {
  return Promise.all([
    get<RulesPage>('/rules', rulesState.pageQueryOf(state)),
    get<RulesScatter>('/rules/scatter', rulesState.filtersOf(state)),
  ]);
}

/** The download of exactly the rules that pass, in the order shown. */
function csvLink(state: RulesState, total: number | null): HTMLElement {
  const query = queryString({ ...rulesState.filtersOf(state), ...rulesState.orderOf(state) });
  return h(
    'a',
    {
      class: 'button',
      href: `/api/rules/export.csv?${query}`,
      download: 'association_rules.csv',
      'data-testid': 'rules-csv',
    },
    `Download CSV (${fmtInt(total)} rules)`,
  );
}

/** The section as it runs: its state, its parts on the page, and the reload in progress. */
interface View {
  state: RulesState;
  metrics: RulesBounds['metrics'];
  table: HTMLElement;
  toolbar: HTMLElement;
  pager: HTMLElement;
  scatter: ReturnType<typeof scatterView>;
  count: ReturnType<typeof ruleCount>;
  /** The number of the latest request: an answer to an earlier one is dropped. */
  latest: number;
  timer?: number;
  /** The sort button last pressed: focus goes back to it once the table is drawn again. */
  focusSort?: string;
}

function remember(view: View): void {
  rememberView('rules', rulesState.toAddress(view.state, view.metrics));
}

/** Asks for the rules again in `delayMs` (a later call within that time replaces it). */
function reload(view: View, delayMs = 120): void {
  window.clearTimeout(view.timer);
  view.timer = window.setTimeout(() => void load(view), delayMs);
}

function drawToolbar(view: View, page: RulesPage): void {
  const { state, metrics } = view;
  const wasOpen = view.toolbar.querySelector('details')?.open ?? false;
  const chooser = columnChooser(metrics, state, (columns) => {
    state.columns = columns;
    remember(view);
    drawTable(view, page);
  }) as HTMLDetailsElement;
  chooser.open = wasOpen;
  const menu = sortMenu(metrics, state, (key, dir) => {
    rulesState.changeFilter(state, (s) => ((s.sort = key), (s.dir = dir)));
    reload(view, 0);
  });
  clear(view.toolbar, chooser, menu, csvLink(state, page.total));
}

function drawTable(view: View, page: RulesPage): void {
  const { state } = view;
  const sort = (key: string) => {
    view.focusSort = key;
    rulesState.sortBy(state, key);
    reload(view, 0);
  };
  clear(view.table, rulesTable(page, view.metrics, state, sort));
  drawToolbar(view, page);
  const turn = (by: number) => (rulesState.turnPage(state, by), reload(view, 0));
  const size = (n: number) => (rulesState.changeFilter(state, (s) => (s.pageSize = n)), reload(view, 0));
  clear(view.pager, ...pager(page, turn, size));
  if (view.focusSort) view.table.querySelector<HTMLElement>(`button[data-sort="${view.focusSort}"]`)?.focus();
  view.focusSort = undefined;
}

async function load(view: View): Promise<void> {
  const request = ++view.latest;
  remember(view);
  try {
    const [page, points] = await fetchRules(view.state);
    if (request !== view.latest) return; // a newer request is on its way
    showCount(view.count.count, page.total, rulesState.filtersOf(view.state));
    drawTable(view, page);
    drawScatter(view.scatter, points);
  } catch (error) {
    if (request === view.latest) clear(view.table, errorBox(error));
  }
}

function drawFilters(view: View, holder: HTMLElement, bounds: RulesBounds, items: RuleItem[]): void {
  const onReset = () => {
    rulesState.replaceState(view.state, rulesState.initialState(view.metrics));
    drawFilters(view, holder, bounds, items);
    reload(view, 0);
  };
  const options = { bounds, items, state: view.state, count: view.count, onReset };
  clear(holder, filterBar({ ...options, reload: (delayMs) => reload(view, delayMs) }));
}

export async function renderRules(
  root: HTMLElement,
  _rest?: string,
  query = new URLSearchParams(),
): Promise<void> {
  const [bounds, items] = await Promise.all([
    get<RulesBounds>('/rules/bounds'),
    get<RuleItem[]>('/rules/items'),
  ]);
  const view: View = {
    state: rulesState.fromAddress(query, bounds.metrics),
    metrics: bounds.metrics,
    table: h('div', {}),
    toolbar: h('div', { class: 'rules-toolbar' }),
    pager: h('div', { class: 'pager' }),
    scatter: scatterView(),
    count: ruleCount(),
    latest: 0,
  };
  const filters = h('div', {});
  drawFilters(view, filters, bounds, items);
  clear(
    root,
    filters,
    h(
      'div',
      { class: 'grid rules-grid' },
      card('Confidence against lift', view.scatter.chart, view.scatter.note),
      card('Rules', view.toolbar, view.table, view.pager),
    ),
  );
  await load(view);
}
