// The page's address: `#/<section>[/<rest>][?<query>]`, e.g. `#/rules?item=butter&minLift=2` or
// `#/data/gold.item_popularity`. A section that keeps its view in the query (the rules explorer) writes it back
// with rememberView(), without a reload, so that the address can be shared and the tab returns to that view.
export interface Route {
  section: string;
  rest: string | undefined;
  query: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#/, '');
  const [pathPart = '', queryPart = ''] = hash.split(/\?(.*)/s, 2);
  const [, section = '', ...rest] = pathPart.split('/');
  return {
    section,
    rest: rest.length ? decodeURIComponent(rest.join('/')) : undefined,
    query: new URLSearchParams(queryPart),
  };
}

/** The key a section is drawn for: its path and query. */
export function routeKey(route: Route): string {
  return `${route.rest ?? ''}?${route.query.toString()}`;
}

type Remember = (section: string, key: string) => void;
let onRemember: Remember = () => undefined;

/** main.ts learns here that a section changed its own address (so that it does not draw it again). */
export function whenViewRemembered(callback: Remember): void {
  onRemember = callback;
}

/** Puts `query` in the address of `section` (replacing the entry: no new history step) and in its tab's link. */
export function rememberView(section: string, query: URLSearchParams): void {
  const text = query.toString();
  const hash = `#/${section}${text ? `?${text}` : ''}`;
  if (location.hash !== hash) history.replaceState(null, '', hash);
  document.querySelector(`nav a[data-section="${section}"]`)?.setAttribute('href', hash);
  onRemember(section, `?${text}`);
}
