// Association rules: threshold sliders, an item search, the rule count, a confidence/lift scatter coloured by
// support, and a sortable, paged table. Every filter runs in SQL on the server.
import type { Rule, RulesBounds, RulesPage, RulesScatter } from '../../types.ts';
import { axisStyle, chart } from '../charts.ts';
import { get } from '../client.ts';
import { card, clear, errorBox, escapeHtml, fmtInt, fmtNum, fmtPct, h } from '../dom.ts';

type SortKey = 'antecedents' | 'consequents' | 'support' | 'confidence' | 'lift' | 'leverage' | 'conviction';

interface State {
  minSupport: number;
  minConfidence: number;
  minLift: number;
  q: string;
  side: 'any' | 'antecedent' | 'consequent';
  sort: SortKey;
  dir: 'asc' | 'desc';
  page: number;
  pageSize: number;
}

const columns: { key: SortKey; label: string; numeric: boolean; show: (r: Rule) => string }[] = [
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

function slider(
  id: string,
  label: string,
  max: number,
  step: number,
  value: number,
  show: (v: number) => string,
  onChange: (v: number) => void,
): HTMLElement {
  const output = h('output', { for: id, class: 'slider-value', 'data-testid': `${id}-value` }, show(value));
  const input = h('input', {
    type: 'range',
    id,
    'data-testid': id,
    min: 0,
    max,
    step,
    value,
    'aria-label': label,
    onInput: (e: Event) => {
      const v = Number((e.target as HTMLInputElement).value);
      output.textContent = show(v);
      onChange(v);
    },
  });
  return h('div', { class: 'control' }, h('label', { for: id }, label, output), input);
}

function niceStep(max: number, steps: number): number {
  if (!(max > 0)) return 0.01;
  const raw = max / steps;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return Number((Math.ceil(raw / magnitude) * magnitude).toPrecision(2));
}

export async function renderRules(root: HTMLElement): Promise<void> {
  const bounds = await get<RulesBounds>('/rules/bounds');
  const state: State = {
    minSupport: 0,
    minConfidence: 0,
    minLift: 0,
    q: '',
    side: 'any',
    sort: 'lift',
    dir: 'desc',
    page: 1,
    pageSize: 25,
  };
  const maxSupport = bounds.support.max ?? 0.01;
  const supportStep = niceStep(maxSupport, 200);
  const maxLift = Math.ceil(bounds.lift.max ?? 1);

  const count = h('strong', { 'data-testid': 'rule-count' }, '…');
  const scatterEl = h('div', { class: 'chart tall', 'data-testid': 'rules-scatter' });
  const scatterNote = h('p', { class: 'muted small' });
  scatterNote.title = 'Scroll on the plot to zoom';
  const tableHolder = h('div', {});
  const pager = h('div', { class: 'pager' });
  let timer: number | undefined;
  let sequence = 0;

  const refresh = (delay = 120) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void load(), delay);
  };
  const filters = () => ({
    minSupport: state.minSupport,
    minConfidence: state.minConfidence,
    minLift: state.minLift,
    q: state.q,
    side: state.side,
  });

  async function load(): Promise<void> {
    const mine = ++sequence;
    const params = filters();
    try {
      const [page, scatter] = await Promise.all([
        get<RulesPage>('/rules', {
          ...params,
          sort: state.sort,
          dir: state.dir,
          page: state.page,
          pageSize: state.pageSize,
        }),
        get<RulesScatter>('/rules/scatter', params),
      ]);
      if (mine !== sequence) return; // a newer request is on its way
      count.textContent = fmtInt(page.total);
      count.dataset.total = String(page.total ?? 0);
      count.dataset.query = new URLSearchParams(
        Object.entries(params).map(([k, v]) => [k, String(v)]),
      ).toString();
      drawTable(page);
      drawScatter(scatter);
    } catch (error) {
      if (mine === sequence) clear(tableHolder, errorBox(error));
    }
  }

  function drawTable(page: RulesPage): void {
    const head = h(
      'tr',
      {},
      columns.map((c) =>
        h(
          'th',
          {
            class: `${c.numeric ? 'num ' : ''}sortable`,
            'aria-sort': state.sort === c.key ? (state.dir === 'asc' ? 'ascending' : 'descending') : 'none',
            'data-sort': c.key,
            tabindex: 0,
            onClick: () => {
              if (state.sort === c.key) state.dir = state.dir === 'asc' ? 'desc' : 'asc';
              else {
                state.sort = c.key;
                state.dir = c.numeric ? 'desc' : 'asc';
              }
              state.page = 1;
              refresh(0);
            },
          },
          c.label,
          h(
            'span',
            { class: 'sort-mark', 'aria-hidden': 'true' },
            state.sort === c.key ? (state.dir === 'asc' ? '▲' : '▼') : '',
          ),
        ),
      ),
    );
    const body = h(
      'tbody',
      {},
      page.rows.length === 0
        ? h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'No rule passes these filters.'))
        : page.rows.map((r) =>
            h(
              'tr',
              {},
              columns.map((c) => h('td', { class: c.numeric ? 'num' : undefined }, c.show(r))),
            ),
          ),
    );
    clear(
      tableHolder,
      h(
        'div',
        { class: 'table-wrap' },
        h('table', { 'data-testid': 'rules-table' }, h('thead', {}, head), body),
      ),
    );
    const total = page.total ?? 0;
    const pages = Math.max(1, Math.ceil(total / page.pageSize));
    clear(
      pager,
      h(
        'button',
        { type: 'button', disabled: page.page <= 1, onClick: () => ((state.page -= 1), refresh(0)) },
        '‹ Previous',
      ),
      h('span', { 'data-testid': 'rules-page' }, `Page ${page.page} of ${pages}`),
      h(
        'button',
        { type: 'button', disabled: page.page >= pages, onClick: () => ((state.page += 1), refresh(0)) },
        'Next ›',
      ),
    );
  }

  function drawScatter(s: RulesScatter): void {
    scatterNote.textContent = s.truncated
      ? `Showing the ${fmtInt(s.points.length)} rules with the highest lift of ${fmtInt(s.total)}.`
      : `${fmtInt(s.total)} rules.`;
    const supports = s.points.map((p) => p.support ?? 0);
    chart(scatterEl, {
      grid: { left: 56, right: 96, top: 24, bottom: 48, containLabel: true },
      xAxis: {
        type: 'value',
        name: 'Confidence',
        nameLocation: 'middle',
        nameGap: 30,
        min: 0,
        // Up to the next tenth above the highest confidence: rules rarely reach 1.
        max: (extent: { max: number }) => Math.min(1, Math.ceil(extent.max * 10 + 1e-9) / 10 || 1),
        ...axisStyle,
      },
      yAxis: { type: 'value', name: 'Lift', nameLocation: 'middle', nameGap: 40, scale: true, ...axisStyle },
      // Scroll or pinch on the plot to zoom.
      dataZoom: [
        { type: 'inside', xAxisIndex: 0, filterMode: 'none' },
        { type: 'inside', yAxisIndex: 0, filterMode: 'none' },
      ],
      visualMap: {
        type: 'continuous',
        dimension: 2,
        min: Math.min(...supports, 0),
        max: Math.max(...supports, 0.0001),
        right: 0,
        top: 'middle',
        text: ['support', ''],
        calculable: false,
        inRange: { color: ['#c7d2fe', '#6366f1', '#312e81'] },
        formatter: (v: number) => fmtPct(v, 2),
      },
      tooltip: {
        trigger: 'item',
        formatter: (p: { data: [number, number, number, string, string] }) => {
          const [confidence, lift, support, a, b] = p.data;
          return `<b>${escapeHtml(a)}</b> → <b>${escapeHtml(b)}</b><br/>confidence ${fmtPct(confidence)} · lift ${fmtNum(lift)} · support ${fmtPct(support, 2)}`;
        },
      },
      series: [
        {
          type: 'scatter',
          symbolSize: 9,
          itemStyle: { opacity: 0.85 },
          data: s.points.map((p) => [p.confidence, p.lift, p.support, p.antecedents, p.consequents]),
        },
      ],
    });
  }

  const search = h('input', {
    type: 'search',
    id: 'rule-search',
    'data-testid': 'rule-search',
    placeholder: 'Item, e.g. whole milk',
    'aria-label': 'Search rules by item',
    onInput: (e: Event) => {
      state.q = (e.target as HTMLInputElement).value;
      state.page = 1;
      refresh(250);
    },
  });
  const side = h(
    'select',
    {
      id: 'rule-side',
      'data-testid': 'rule-side',
      'aria-label': 'Where the item is',
      onChange: (e: Event) => {
        state.side = (e.target as HTMLSelectElement).value as State['side'];
        state.page = 1;
        refresh(0);
      },
    },
    h('option', { value: 'any' }, 'either side'),
    h('option', { value: 'antecedent' }, 'the “if” side'),
    h('option', { value: 'consequent' }, 'the “then” side'),
  );

  const setThreshold = (key: 'minSupport' | 'minConfidence' | 'minLift') => (v: number) => {
    state[key] = v;
    state.page = 1;
    refresh();
  };

  clear(
    root,
    h(
      'div',
      { class: 'card controls' },
      slider(
        'support-slider',
        'Min support',
        maxSupport,
        supportStep,
        0,
        (v) => fmtPct(v, 2),
        setThreshold('minSupport'),
      ),
      slider(
        'confidence-slider',
        'Min confidence',
        1,
        0.01,
        0,
        (v) => fmtPct(v, 0),
        setThreshold('minConfidence'),
      ),
      slider('lift-slider', 'Min lift', maxLift, 0.05, 0, (v) => fmtNum(v, 2), setThreshold('minLift')),
      h(
        'div',
        { class: 'control' },
        h('label', { for: 'rule-search' }, 'Item'),
        h('div', { class: 'search' }, search, side),
      ),
      h(
        'div',
        { class: 'count' },
        count,
        h('span', {}, ' rules found'),
        h('span', { class: 'muted small' }, ` of ${fmtInt(bounds.rules)}`),
      ),
    ),
    h(
      'div',
      { class: 'grid rules-grid' },
      card('Confidence against lift', scatterEl, scatterNote),
      card('Rules', tableHolder, pager),
    ),
  );
  await load();
}
