// app/web/sections/ holds one module per dashboard section: overview (this file), rules/, sales, items, data/.
//
// The overview, the story at a glance: the totals; sales in the last 30 days of the data against the 30 before;
// how fresh the data served is, against app.freshness in lakehouse.yml, and which run wrote it; the most sold
// items and the strongest rules; and the version of each table (served, and the latest when a later run failed).
import type { Freshness, Overview, Rule, TopItem, Trend } from '../../types.ts';
import { get } from '../client.ts';
import { card, clear, fmtAge, fmtInt, fmtNum, fmtPct, fmtTime, h, table } from '../dom.ts';

function kpi(label: string, value: string, testid: string, ...extra: (HTMLElement | null)[]): HTMLElement {
  return h(
    'div',
    { class: 'kpi' },
    h('div', { class: 'kpi-label' }, label),
    h('div', { class: 'kpi-value', 'data-testid': testid }, value),
    ...extra,
  );
}

/** "▲ 4.2% vs the 30 days before", green when up. */
function change(current: number | null, previous: number | null, days: number): HTMLElement | null {
  if (current === null || previous === null || previous === 0) return null;
  const ratio = current / previous - 1;
  const direction = ratio > 0.0005 ? 'up' : ratio < -0.0005 ? 'down' : 'flat';
  const mark = { up: '▲', down: '▼', flat: '■' }[direction];
  return h(
    'div',
    { class: `trend ${direction}`, 'data-testid': 'trend' },
    h('span', { 'aria-hidden': 'true' }, `${mark} `),
    `${ratio >= 0 ? '+' : '−'}${fmtPct(Math.abs(ratio))} vs the ${days} days before (${fmtInt(previous)})`,
  );
}

function trendKpis(t: Trend): HTMLElement[] {
  const when = t.current.from && t.current.to ? `${t.current.from} – ${t.current.to}` : '';
  return [
    kpi(
      `Items sold, last ${t.days} days`,
      fmtInt(t.current.itemsSold),
      'kpi-trend-items',
      change(t.current.itemsSold, t.previous.itemsSold, t.days),
      h('div', { class: 'muted small' }, when),
    ),
    kpi(
      `Baskets, last ${t.days} days`,
      fmtInt(t.current.baskets),
      'kpi-trend-baskets',
      change(t.current.baskets, t.previous.baskets, t.days),
    ),
  ];
}

const FRESHNESS_WORDS = { fresh: 'Fresh', warn: 'Getting old', error: 'Too old', unknown: 'Unknown' };

function freshnessCard(f: Freshness, run: Overview['snapshot']['run']): HTMLElement {
  return card(
    'Freshness',
    h(
      'p',
      { class: `freshness ${f.status}`, 'data-testid': 'freshness', 'data-status': f.status },
      h('strong', {}, FRESHNESS_WORDS[f.status]),
      f.ageSeconds === null ? '' : `: the data was written ${fmtAge(f.ageSeconds)} ago`,
    ),
    h(
      'p',
      { class: 'muted small' },
      run
        ? `By run ${run.runId}, finished ${fmtTime(run.finishedAt)}. `
        : f.since
          ? `Newest table version: ${fmtTime(f.since)}. `
          : '',
      `Warns after ${fmtAge(f.warnAfterSeconds)}, an error after ${fmtAge(f.errorAfterSeconds)} (app.freshness in lakehouse.yml).`,
    ),
  );
}

function topItemsCard(items: TopItem[]): HTMLElement {
  const most = Math.max(1, ...items.map((i) => i.itemsSold ?? 0));
  return card(
    'Most sold items',
    h(
      'ol',
      { class: 'bars', 'data-testid': 'overview-top-items' },
      items.map((i) =>
        h(
          'li',
          {},
          h('span', { class: 'bar-label' }, i.item),
          h('span', {
            class: 'bar',
            style: `--share: ${((i.itemsSold ?? 0) / most).toFixed(3)}`,
            'aria-hidden': 'true',
          }),
          h(
            'span',
            { class: 'bar-value' },
            `${fmtInt(i.itemsSold)} · in ${fmtPct(i.basketShare)} of baskets`,
          ),
        ),
      ),
    ),
    h('a', { href: '#/items' }, 'All items and customers →'),
  );
}

function rulesCard(rules: Rule[]): HTMLElement {
  return card(
    'Strongest rules (by lift)',
    table(
      ['If a basket has', 'it also has', 'Lift', 'Confidence'],
      rules.map((r) => [
        r.antecedents.join(', '),
        r.consequents.join(', '),
        fmtNum(r.metrics.lift ?? null, 2),
        fmtPct(r.metrics.confidence ?? null),
      ]),
      { numeric: [false, false, true, true], testid: 'overview-rules' },
    ),
    h('a', { href: '#/rules' }, 'Explore every rule →'),
  );
}

function versionsCard(o: Overview): HTMLElement {
  return card(
    'Table versions',
    table(
      ['Table', 'Served', 'Latest', 'Committed'],
      o.tables.map((t) => [
        h('a', { href: `#/data/${t.name}` }, t.name),
        t.version === null ? 'missing' : String(t.version),
        t.latestVersion === null ? '–' : String(t.latestVersion),
        fmtTime(t.committedAt),
      ]),
      { numeric: [false, true, true, false], testid: 'table-versions' },
    ),
  );
}

export async function renderOverview(root: HTMLElement): Promise<void> {
  const o = await get<Overview>('/overview');
  clear(
    root,
    h(
      'div',
      { class: 'kpis' },
      kpi('Transactions', fmtInt(o.transactions), 'kpi-transactions'),
      kpi('Baskets', fmtInt(o.baskets), 'kpi-baskets'),
      kpi('Customers', fmtInt(o.customers), 'kpi-customers'),
      kpi('Items', fmtInt(o.items), 'kpi-items'),
      kpi('Rules', fmtInt(o.rules), 'kpi-rules'),
      kpi('Date range', o.firstDate && o.lastDate ? `${o.firstDate} – ${o.lastDate}` : '–', 'kpi-dates'),
    ),
    h(
      'div',
      { class: 'grid three' },
      ...trendKpis(o.trend),
      freshnessCard(o.snapshot.freshness, o.snapshot.run),
    ),
    h('div', { class: 'grid two' }, topItemsCard(o.topItems), rulesCard(o.strongestRules)),
    versionsCard(o),
  );
}
