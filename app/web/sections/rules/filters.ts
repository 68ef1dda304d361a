// The filter bar of the rules explorer: a slider for each threshold, the item search with the side it must be
// on, and the number of rules that pass. Each control writes the state (state.ts) and asks for a reload after
// a pause that suits it: none for a choice, a little for a slider, more for typing.
import type { RulesBounds } from '../../../types.ts';
import { fmtInt, fmtNum, fmtPct, h } from '../../dom.ts';
import type { RuleFilters, RulesState, Side } from './state.ts';
import { setFilter } from './state.ts';

/** Asks for the rules again in `delayMs` (a later call within that time replaces it). */
export type Reload = (delayMs?: number) => void;

const SLIDER_DELAY_MS = 120;
const TYPING_DELAY_MS = 250;

interface SliderOptions {
  id: string;
  label: string;
  max: number;
  step: number;
  value: number;
  show: (value: number) => string;
  onChange: (value: number) => void;
}

function slider(o: SliderOptions): HTMLElement {
  const output = h(
    'output',
    { for: o.id, class: 'slider-value', 'data-testid': `${o.id}-value` },
    o.show(o.value),
  );
  const input = h('input', {
    type: 'range',
    id: o.id,
    'data-testid': o.id,
    min: 0,
    max: o.max,
    step: o.step,
    value: o.value,
    'aria-label': o.label,
    onInput: (e: Event) => {
      const v = Number((e.target as HTMLInputElement).value);
      output.textContent = o.show(v);
      o.onChange(v);
    },
  });
  return h('div', { class: 'control' }, h('label', { for: o.id }, o.label, output), input);
}

/** A round step that divides `max` into about `steps` stops. */
function niceStep(max: number, steps: number): number {
  if (!(max > 0)) return 0.01;
  const raw = max / steps;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return Number((Math.ceil(raw / magnitude) * magnitude).toPrecision(2));
}

function itemSearch(onQuery: (q: string) => void, onSide: (side: Side) => void): HTMLElement {
  const search = h('input', {
    type: 'search',
    id: 'rule-search',
    'data-testid': 'rule-search',
    placeholder: 'Item, e.g. whole milk',
    'aria-label': 'Search rules by item',
    onInput: (e: Event) => onQuery((e.target as HTMLInputElement).value),
  });
  const side = h(
    'select',
    {
      id: 'rule-side',
      'data-testid': 'rule-side',
      'aria-label': 'Where the item is',
      onChange: (e: Event) => onSide((e.target as HTMLSelectElement).value as Side),
    },
    h('option', { value: 'any' }, 'either side'),
    h('option', { value: 'antecedent' }, 'the “if” side'),
    h('option', { value: 'consequent' }, 'the “then” side'),
  );
  return h(
    'div',
    { class: 'control' },
    h('label', { for: 'rule-search' }, 'Item'),
    h('div', { class: 'search' }, search, side),
  );
}

/** The element that shows how many rules pass the filters; showCount() fills it in. */
export function ruleCount(): HTMLElement {
  return h('strong', { 'data-testid': 'rule-count' }, '…');
}

/** The count, with the filters it is for as `data-query` (what the end-to-end tests compare with the API). */
export function showCount(count: HTMLElement, total: number | null, filters: RuleFilters): void {
  count.textContent = fmtInt(total);
  count.dataset.total = String(total ?? 0);
  count.dataset.query = new URLSearchParams(
    Object.entries(filters).map(([k, v]) => [k, String(v)]),
  ).toString();
}

export function filterBar(
  bounds: RulesBounds,
  state: RulesState,
  reload: Reload,
  count: HTMLElement,
): HTMLElement {
  const set =
    <K extends keyof RuleFilters>(key: K, delayMs: number) =>
    (value: RuleFilters[K]) => {
      setFilter(state, key, value);
      reload(delayMs);
    };
  const maxSupport = bounds.support.max ?? 0.01;
  return h(
    'div',
    { class: 'card controls' },
    slider({
      id: 'support-slider',
      label: 'Min support',
      max: maxSupport,
      step: niceStep(maxSupport, 200),
      value: state.minSupport,
      show: (v) => fmtPct(v, 2),
      onChange: set('minSupport', SLIDER_DELAY_MS),
    }),
    slider({
      id: 'confidence-slider',
      label: 'Min confidence',
      max: 1,
      step: 0.01,
      value: state.minConfidence,
      show: (v) => fmtPct(v, 0),
      onChange: set('minConfidence', SLIDER_DELAY_MS),
    }),
    slider({
      id: 'lift-slider',
      label: 'Min lift',
      max: Math.ceil(bounds.lift.max ?? 1),
      step: 0.05,
      value: state.minLift,
      show: (v) => fmtNum(v, 2),
      onChange: set('minLift', SLIDER_DELAY_MS),
    }),
    itemSearch(set('q', TYPING_DELAY_MS), set('side', 0)),
    h(
      'div',
      { class: 'count' },
      count,
      h('span', {}, ' rules found'),
      h('span', { class: 'muted small' }, ` of ${fmtInt(bounds.rules)}`),
    ),
  );
}
