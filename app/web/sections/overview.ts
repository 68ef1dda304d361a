// The overview: the key figures (transactions, baskets, items, customers, rules, date range), the last
// pipeline run from its manifests, and the version of each table with a link to its history.
import type { Overview } from '../../types.ts';
import { get } from '../client.ts';
import { card, clear, fmtInt, fmtTime, h, table } from '../dom.ts';

function kpi(label: string, value: string, testid: string, extra = ''): HTMLElement {
  return h(
    'div',
    { class: 'kpi' },
    h('div', { class: 'kpi-label' }, label),
    h('div', { class: `kpi-value ${extra}`.trim(), 'data-testid': testid }, value),
  );
}

export async function renderOverview(root: HTMLElement): Promise<void> {
  const o = await get<Overview>('/overview');
  const run = o.lastRun?.stages ?? [];
  clear(
    root,
    h(
      'div',
      { class: 'kpis' },
      kpi('Transactions', fmtInt(o.transactions), 'kpi-transactions'),
      kpi('Baskets', fmtInt(o.baskets), 'kpi-baskets'),
      kpi('Items', fmtInt(o.items), 'kpi-items'),
      kpi('Customers', fmtInt(o.customers), 'kpi-customers'),
      kpi('Rules', fmtInt(o.rules), 'kpi-rules'),
      kpi(
        'Date range',
        o.firstDate && o.lastDate ? `${o.firstDate} – ${o.lastDate}` : '–',
        'kpi-dates',
        'compact',
      ),
    ),
    h(
      'div',
      { class: 'grid two' },
      card(
        'Last pipeline run',
        run.length === 0
          ? h('p', { class: 'muted' }, 'No run manifest is available to this app.')
          : table(
              ['Stage', 'Run', 'Started', 'Finished'],
              run.map((s) => [s.stage, s.runId, fmtTime(s.startedAt), fmtTime(s.finishedAt)]),
              { testid: 'last-run' },
            ),
      ),
      card(
        'Table versions',
        table(
          ['Table', 'Version', 'Committed'],
          o.tables.map((t) => [
            h('a', { href: `#/data/${t.name}` }, t.name),
            t.version === null ? 'missing' : String(t.version),
            fmtTime(t.committedAt),
          ]),
          { numeric: [false, true, false], testid: 'table-versions' },
        ),
      ),
    ),
  );
}
