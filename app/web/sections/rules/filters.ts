// The filter bar of the rules explorer: thresholds on support, confidence and lift (a slider and a number each;
// lift on a log scale), the item picker, bounds on every other metric, the number of rules that pass (announced
// to screen readers when it changes) and a reset. Each control writes the state (state.ts) and asks for a reload
// after a pause that suits it: none for a choice, a little for a slider, more for typing.
import type { RuleItem, RuleMetric, RulesBounds } from '../../../types.ts';
import type { Query } from '../../client.ts';
import { queryString } from '../../client.ts';
import { fmtInt, fmtNum, fmtPct, h } from '../../dom.ts';
import { itemPicker } from './picker.ts';
import { thresholdControl } from './sliders.ts';
import type { Range, RulesState } from './state.ts';
import { changeFilter, setBound } from './state.ts';

/** Asks for the rules again in `delayMs` (a later call within that time replaces it). */
export type Reload = (delayMs?: number) => void;

const SLIDER_DELAY_MS = 120;
const TYPING_DELAY_MS = 300;

/** The thresholds with a slider: the metric, how the slider runs, how a value reads. */
const SLIDERS = [
  { key: 'support', scale: 'linear', show: (v: number) => fmtPct(v, 2) },
  { key: 'confidence', scale: 'linear', step: 0.01, show: (v: number) => fmtPct(v, 0) },
  { key: 'lift', scale: 'log', show: (v: number) => fmtNum(v, 2) },
] as const;

/** The element that shows how many rules pass the filters; showCount() fills it in. */
export function ruleCount(): { live: HTMLElement; count: HTMLElement; of: HTMLElement } {
  const count = h('strong', { 'data-testid': 'rule-count' }, '…');
  const of = h('span', { class: 'muted small' });
  const live = h(
    'p',
    { class: 'count', 'aria-live': 'polite', 'aria-atomic': 'true' },
    count,
    ' rules found',
    of,
  );
  return { live, count, of };
}

/** The count, with the filters it is for as `data-query` (what the end-to-end tests compare with the API). */
export function showCount(count: HTMLElement, total: number | null, filters: Query): void {
  count.textContent = fmtInt(total);
  count.dataset.total = String(total ?? 0);
  count.dataset.query = queryString(filters);
}

function boundInput(metric: RuleMetric, bound: keyof Range, state: RulesState, reload: Reload) {
  const word = bound === 'min' ? 'Lowest' : 'Highest';
  const edge = bound === 'min' ? metric.min : metric.max;
  return h('input', {
    type: 'number',
    step: 'any',
    inputmode: 'decimal',
    class: 'bound',
    'data-testid': `${bound}-${metric.key}`,
    'aria-label': `${word} ${metric.label}`,
    placeholder: edge === null ? 'any' : fmtNum(edge, 4),
    value: state.ranges[metric.key]?.[bound] ?? '',
    onInput: (e: Event) => {
      const raw = (e.target as HTMLInputElement).value.trim();
      const value = raw === '' ? undefined : Number(raw);
      if (value !== undefined && !Number.isFinite(value)) return;
      setBound(state, metric.key, bound, value);
      reload(TYPING_DELAY_MS);
    },
  });
}

/** Bounds on every metric: a lowest and a highest value (the sliders set the lowest of theirs). */
function moreFilters(bounds: RulesBounds, state: RulesState, reload: Reload): HTMLElement {
  const sliders = new Set<string>(SLIDERS.map((s) => s.key));
  const rows = bounds.metrics.map((m) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row', title: m.description ?? undefined }, m.label),
      h(
        'td',
        {},
        sliders.has(m.key)
          ? h('span', { class: 'muted small' }, 'slider above')
          : boundInput(m, 'min', state, reload),
      ),
      h('td', {}, boundInput(m, 'max', state, reload)),
    ),
  );
  return h(
    'details',
    { class: 'more-filters', 'data-testid': 'more-filters' },
    h('summary', {}, 'Every metric: lowest and highest values'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, 'Metric'), h('th', {}, 'At least'), h('th', {}, 'At most'))),
        h('tbody', {}, rows),
      ),
    ),
  );
}

function sliderControls(bounds: RulesBounds, state: RulesState, reload: Reload): HTMLElement[] {
  return SLIDERS.flatMap((s) => {
    const metric = bounds.metrics.find((m) => m.key === s.key);
    if (!metric || metric.min === null || metric.max === null) return [];
    return [
      thresholdControl({
        id: `${s.key}-slider`,
        label: `Min ${metric.label.toLowerCase()}`,
        min: metric.min,
        max: metric.max,
        scale: s.scale,
        step: 'step' in s ? s.step : undefined,
        value: state.ranges[s.key]?.min,
        show: s.show,
        onChange: (value) => {
          setBound(state, s.key, 'min', value);
          reload(SLIDER_DELAY_MS);
        },
      }),
    ];
  });
}

export interface FilterBarOptions {
  bounds: RulesBounds;
  items: RuleItem[];
  state: RulesState;
  reload: Reload;
  count: ReturnType<typeof ruleCount>;
  onReset: () => void;
}

export function filterBar(o: FilterBarOptions): HTMLElement {
  const { state, reload } = o;
  o.count.of.textContent = ` of ${fmtInt(o.bounds.rules)}`;
  const picker = itemPicker({
    items: o.items,
    picked: state.items,
    side: state.side,
    match: state.match,
    onItems: (items) => (changeFilter(state, (s) => (s.items = items)), reload(0)),
    onSide: (side) => (changeFilter(state, (s) => (s.side = side)), reload(0)),
    onMatch: (match) => (changeFilter(state, (s) => (s.match = match)), reload(0)),
  });
  const reset = h(
    'button',
    { type: 'button', 'data-testid': 'rules-reset', onClick: o.onReset },
    'Reset filters',
  );
  return h(
    'div',
    { class: 'card controls' },
    h('div', { class: 'thresholds' }, sliderControls(o.bounds, state, reload)),
    picker,
    h('div', { class: 'count-row' }, o.count.live, reset),
    moreFilters(o.bounds, state, reload),
  );
}
