// What the rules explorer shows, in one plain object: the filters, the sort and the page. Every control changes
// it through the functions here and the API queries are made from it, so the view can be saved and restored
// (in the URL, say) by reading and writing this object alone.
export type SortKey =
  'antecedents' | 'consequents' | 'support' | 'confidence' | 'lift' | 'leverage' | 'conviction';
export type Side = 'any' | 'antecedent' | 'consequent';

// Type aliases rather than interfaces, so that they pass as query parameters (client.ts).

/** The filters of /api/rules and /api/rules/scatter. */
export type RuleFilters = {
  minSupport: number;
  minConfidence: number;
  minLift: number;
  q: string;
  side: Side;
};

export type RulesState = RuleFilters & {
  sort: SortKey;
  dir: 'asc' | 'desc';
  page: number;
  pageSize: number;
};

export function initialState(): RulesState {
  return {
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
}

export function filtersOf(state: RulesState): RuleFilters {
  return {
    minSupport: state.minSupport,
    minConfidence: state.minConfidence,
    minLift: state.minLift,
    q: state.q,
    side: state.side,
  };
}

/** The query of /api/rules: the filters, the sort and the page. */
export function pageQueryOf(
  state: RulesState,
): RuleFilters & Pick<RulesState, 'sort' | 'dir' | 'page' | 'pageSize'> {
  return {
    ...filtersOf(state),
    sort: state.sort,
    dir: state.dir,
    page: state.page,
    pageSize: state.pageSize,
  };
}

/** A new filter shows its first page. */
export function setFilter<K extends keyof RuleFilters>(
  state: RulesState,
  key: K,
  value: RuleFilters[K],
): void {
  (state as RuleFilters)[key] = value;
  state.page = 1;
}

/** Sorting by the column already sorted by turns the order round; another column starts from the largest
 * numbers, or from A for text. */
export function sortBy(state: RulesState, key: SortKey, numeric: boolean): void {
  if (state.sort === key) state.dir = state.dir === 'asc' ? 'desc' : 'asc';
  else {
    state.sort = key;
    state.dir = numeric ? 'desc' : 'asc';
  }
  state.page = 1;
}

export function turnPage(state: RulesState, by: number): void {
  state.page += by;
}
