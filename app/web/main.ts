// app/web/ holds the browser side of the dashboard: this page, its tabs and routes, the API client, charts, DOM
// helpers, one module per section (sections/) and the stylesheets (styles/).
//
// The page: five sections behind tabs (#/overview, #/rules, #/sales, #/items, #/data[/table]). A section is
// drawn the first time it is shown, and again when its address changes (the Data section's table, a rules view
// pasted into the address bar); a section that writes its own address (route.ts) is not drawn again for it.
import { resizeCharts } from './charts.ts';
import { showRunBanner } from './client.ts';
import { clear, errorBox, loading } from './dom.ts';
import { currentRoute, routeKey, whenViewRemembered } from './route.ts';
import type { Route } from './route.ts';
import { renderData } from './sections/data/index.ts';
import { renderItems } from './sections/items.ts';
import { renderOverview } from './sections/overview.ts';
import { renderRules } from './sections/rules/index.ts';
import { renderSales } from './sections/sales.ts';
import { showCurrentTab, watchTabOverflow } from './tabs.ts';

type Render = (root: HTMLElement, rest: string | undefined, query: URLSearchParams) => Promise<void>;

const sections: Record<'overview' | 'rules' | 'sales' | 'items' | 'data', Render> = {
  overview: renderOverview,
  rules: renderRules,
  sales: renderSales,
  items: renderItems,
  data: renderData,
};
type Section = keyof typeof sections;

const drawn = new Map<Section, string>();
whenViewRemembered((section, key) => drawn.set(section as Section, key));

function sectionOf(route: Route): Section {
  return route.section in sections ? (route.section as Section) : 'overview';
}

function markTabs(section: Section): void {
  for (const name of Object.keys(sections) as Section[]) {
    const el = document.getElementById(`section-${name}`);
    if (el) el.hidden = name !== section;
    const tab = document.querySelector(`nav a[data-section="${name}"]`);
    if (name === section) tab?.setAttribute('aria-current', 'page');
    else tab?.removeAttribute('aria-current');
  }
  const nav = document.querySelector<HTMLElement>('nav.tabs');
  if (nav) showCurrentTab(nav);
}

async function show(): Promise<void> {
  const route = currentRoute();
  const section = sectionOf(route);
  markTabs(section);
  const root = document.getElementById(`section-${section}`) as HTMLElement;
  const key = routeKey(route);
  if (drawn.get(section) === key) {
    resizeCharts();
    return;
  }
  drawn.set(section, key);
  root.dataset.state = 'loading';
  if (!root.firstChild) clear(root, loading());
  try {
    await sections[section](root, route.rest, route.query);
    root.dataset.state = 'ready';
  } catch (error) {
    drawn.delete(section);
    clear(root, errorBox(error));
    root.dataset.state = 'error';
  }
  resizeCharts();
}

window.addEventListener('hashchange', () => void show());
const nav = document.querySelector<HTMLElement>('nav.tabs');
if (nav) watchTabOverflow(nav);
void showRunBanner();
void show();
