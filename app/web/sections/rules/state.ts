// What the rules explorer shows, in one plain object: the items picked, the bounds on metrics, the sort, the
// page and the columns shown. Every control changes it through the functions here, the API queries are made
// from it, and it is written to and read from the page's address, so that a view can be shared as a link.
import type { RuleMetric } from '../../../types.ts';
import type { Query } from '../../client.ts';

export type Side = 'any' | 'antecedent' | 'consequent';
export type Match = 'all' | 'any';
export interface Range {
  min?: number;
  max?: number;
}

export type RulesState = {
  /** Exact items a rule must hold (all of them, or any, as `match` says), on `side`. */
  items: string[];
  side: Side;
  match: Match;
  /** Bounds by metric key (`lift`, `zhangsMetric` …). */
  ranges: Record<string, Range>;
  sort: string;
  dir: 'asc' | 'desc';
  page: number;
  pageSize: number;
  /** The metric columns shown, by key. */
  columns: string[];
};

export const TEXT_SORTS = ['antecedents', 'consequents'];
export const DEFAULT_COLUMNS = ['support', 'confidence', 'lift', 'leverage', 'conviction'];
export const PAGE_SIZES = [10, 25, 50, 100];

export function initialState(metrics: RuleMetric[]): RulesState {
  const keys = metrics.map((m) => m.key);
  return {
    items: [],
    side: 'any',
    match: 'all',
    ranges: {},
    sort: keys.includes('lift') ? 'lift' : 'antecedents',
    dir: 'desc',
    page: 1,
    pageSize: 25,
    columns: DEFAULT_COLUMNS.filter((k) => keys.includes(k)),
  };
}

const capitalised = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);
export const minParam = (key: string) => `min${capitalised(key)}`;
export const maxParam = (key: string) => `max${capitalised(key)}`;

/** The filters as the API takes them (/api/rules, /scatter, /export.csv). */
export function filtersOf(state: RulesState): Query {
  const query: Query = { item: state.items, side: state.side, match: state.match };
  for (const [key, range] of Object.entries(state.ranges)) {
    if (range.min !== undefined) query[minParam(key)] = range.min;
    if (range.max !== undefined) query[maxParam(key)] = range.max;
  }
  return query;
}

export function orderOf(state: RulesState): Query {
  return { sort: state.sort, dir: state.dir };
}

/** The query of /api/rules: the filters, the sort and the page. */
export function pageQueryOf(state: RulesState): Query {
  return { ...filtersOf(state), ...orderOf(state), page: state.page, pageSize: state.pageSize };
}

/** The view as an address query: what differs from the initial view. */
export function toAddress(state: RulesState, metrics: RuleMetric[]): URLSearchParams {
  const initial = initialState(metrics);
  const search = new URLSearchParams();
  for (const item of state.items) search.append('item', item);
  if (state.side !== initial.side) search.set('side', state.side);
  if (state.match !== initial.match) search.set('match', state.match);
  for (const [name, value] of Object.entries(filtersOf(state)))
    if (/^(min|max)[A-Z]/.test(name)) search.set(name, String(value));
  if (state.sort !== initial.sort || state.dir !== initial.dir) {
    search.set('sort', state.sort);
    search.set('dir', state.dir);
  }
  if (state.page !== 1) search.set('page', String(state.page));
  if (state.pageSize !== initial.pageSize) search.set('pageSize', String(state.pageSize));
  if (state.columns.join(',') !== initial.columns.join(',')) search.set('cols', state.columns.join(','));
  return search;
}

function numberIn(search: URLSearchParams, name: string): number | undefined {
  const raw = search.get(name);
  const n = raw === null || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

function oneOf<T extends string>(value: string | null, allowed: readonly T[], fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}

/** The view an address describes; what it does not say, or says wrongly, is as in the initial view. */
export function fromAddress(search: URLSearchParams, metrics: RuleMetric[]): RulesState {
  const state = initialState(metrics);
  const keys = metrics.map((m) => m.key);
  state.items = [...new Set(search.getAll('item').filter(Boolean))];
  state.side = oneOf(search.get('side'), ['any', 'antecedent', 'consequent'], state.side);
  state.match = oneOf(search.get('match'), ['all', 'any'], state.match);
  for (const key of keys) {
    const range = { min: numberIn(search, minParam(key)), max: numberIn(search, maxParam(key)) };
    if (range.min !== undefined || range.max !== undefined) state.ranges[key] = range;
  }
  state.sort = oneOf(search.get('sort'), [...TEXT_SORTS, ...keys], state.sort);
  state.dir = oneOf(search.get('dir'), ['asc', 'desc'], state.dir);
  const page = numberIn(search, 'page');
  if (page !== undefined && Number.isInteger(page) && page >= 1) state.page = page;
  const size = numberIn(search, 'pageSize');
  if (size !== undefined && PAGE_SIZES.includes(size)) state.pageSize = size;
  const columns = search.get('cols');
  if (columns !== null) state.columns = columns.split(',').filter((k) => keys.includes(k));
  return state;
}

/** A filter changed: the first page of what passes. */
export function changeFilter(state: RulesState, change: (s: RulesState) => void): void {
  change(state);
  state.page = 1;
}

export function setBound(
  state: RulesState,
  key: string,
  bound: keyof Range,
  value: number | undefined,
): void {
  changeFilter(state, (s) => {
    const range = { ...s.ranges[key], [bound]: value };
    if (range.min === undefined && range.max === undefined) delete s.ranges[key];
    else s.ranges[key] = range;
  });
}

/**
 * Sorting by the column already sorted by turns the order round; another column starts from the largest
 * numbers, or from A for text.
 */
export function sortBy(state: RulesState, key: string): void {
  if (state.sort === key) state.dir = state.dir === 'asc' ? 'desc' : 'asc';
  else {
    state.sort = key;
    state.dir = TEXT_SORTS.includes(key) ? 'asc' : 'desc';
  }
  state.page = 1;
}

export function turnPage(state: RulesState, by: number): void {
  state.page = Math.max(1, state.page + by);
}

/** Puts everything of `next` into `state` (the reset, or a view read from the address). */
export function replaceState(state: RulesState, next: RulesState): void {
  Object.assign(state, next);
}
