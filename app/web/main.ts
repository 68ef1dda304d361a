// The page: five sections behind tabs (#/overview, #/rules, #/sales, #/items, #/data[/table]). A section is
// drawn the first time it is shown; the Data section again when its table changes.
import { resizeCharts } from './charts.ts';
import { clear, errorBox, loading } from './dom.ts';
import { renderData } from './sections/data.ts';
import { renderItems } from './sections/items.ts';
import { renderOverview } from './sections/overview.ts';
import { renderRules } from './sections/rules/index.ts';
import { renderSales } from './sections/sales.ts';

const sections = {
  overview: renderOverview,
  rules: renderRules,
  sales: renderSales,
  items: renderItems,
  data: renderData,
} as const;
type Section = keyof typeof sections;

const drawn = new Map<Section, string>();

function route(): { section: Section; rest: string | undefined } {
  const [, name, ...rest] = location.hash.split('/');
  const section = (name && name in sections ? name : 'overview') as Section;
  return { section, rest: rest.length ? decodeURIComponent(rest.join('/')) : undefined };
}

async function show(): Promise<void> {
  const { section, rest } = route();
  for (const name of Object.keys(sections) as Section[]) {
    const el = document.getElementById(`section-${name}`);
    if (el) el.hidden = name !== section;
    const tab = document.querySelector(`nav a[data-section="${name}"]`);
    if (tab) {
      if (name === section) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
  }
  const root = document.getElementById(`section-${section}`) as HTMLElement;
  const key = rest ?? '';
  if (drawn.get(section) === key) {
    resizeCharts();
    return;
  }
  drawn.set(section, key);
  root.dataset.state = 'loading';
  if (!root.firstChild) clear(root, loading());
  try {
    await sections[section](root, rest);
    root.dataset.state = 'ready';
  } catch (error) {
    drawn.delete(section);
    clear(root, errorBox(error));
    root.dataset.state = 'error';
  }
  resizeCharts();
}

window.addEventListener('hashchange', () => void show());
void show();
