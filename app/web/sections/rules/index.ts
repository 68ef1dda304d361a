// The rules section: association rules behind a filter bar, as a confidence/lift scatter and a sortable, paged
// table. Every filter, sort and page runs in SQL on the server. The parts:
//
//   state.ts    what is shown (filters, sort, page) and the API queries made from it
//   filters.ts  the threshold sliders, the item search and the rule count
//   table.ts    the table of rules, its sortable headers and the pager
//   scatter.ts  the scatter chart
//
// This file puts them on the page and reloads the rules when the state changes; when reloads overlap, only the
// answer to the latest is shown.
import type { RulesBounds, RulesPage, RulesScatter } from '../../../types.ts';
import { get } from '../../client.ts';
import { card, clear, errorBox, h } from '../../dom.ts';
import { filterBar, ruleCount, showCount } from './filters.ts';
import { drawScatter, scatterView } from './scatter.ts';
import { filtersOf, initialState, pageQueryOf, sortBy, turnPage } from './state.ts';
import type { RulesState } from './state.ts';
import { pagerButtons, rulesTable } from './table.ts';

function fetchRules(state: RulesState): Promise<[RulesPage, RulesScatter]> {
  return Promise.all([
    get<RulesPage>('/rules', pageQueryOf(state)),
    get<RulesScatter>('/rules/scatter', filtersOf(state)),
  ]);
}

export async function renderRules(root: HTMLElement): Promise<void> {
  const bounds = await get<RulesBounds>('/rules/bounds');
  const state = initialState();
  const count = ruleCount();
  const scatter = scatterView();
  const table = h('div', {});
  const pager = h('div', { class: 'pager' });
  let timer: number | undefined;
  let latest = 0;

  const reload = (delayMs = 120) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void load(), delayMs);
  };

  async function load(): Promise<void> {
    const request = ++latest;
    const filters = filtersOf(state);
    try {
      const [page, points] = await fetchRules(state);
      if (request !== latest) return; // a newer request is on its way
      showCount(count, page.total, filters);
      clear(
        table,
        rulesTable(page, state, (column) => (sortBy(state, column.key, column.numeric), reload(0))),
      );
      clear(pager, ...pagerButtons(page, (by) => (turnPage(state, by), reload(0))));
      drawScatter(scatter, points);
    } catch (error) {
      if (request === latest) clear(table, errorBox(error));
    }
  }

  clear(
    root,
    filterBar(bounds, state, reload, count),
    h(
      'div',
      { class: 'grid rules-grid' },
      card('Confidence against lift', scatter.chart, scatter.note),
      card('Rules', table, pager),
    ),
  );
  await load();
}
