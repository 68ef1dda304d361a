// Building the page from data: text always goes in as Text nodes, so a value like `<script>` shows as text.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children.flat());
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** For the few places that need HTML strings (chart tooltips). */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const fmtInt = (n: number | null | undefined) =>
  n === null || n === undefined ? '–' : integer.format(n);
export const fmtNum = (n: number | null | undefined, digits = 3) =>
  n === null || n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits });
export const fmtPct = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined ? '–' : `${(n * 100).toFixed(digits)}%`;

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

export function fmtAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return 'unknown';
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

export function card(title: string, ...body: (Child | Child[])[]): HTMLElement {
  return h('div', { class: 'card' }, h('h2', {}, title), ...body);
}

export function loading(): HTMLElement {
  return h('div', { class: 'loading' }, 'Loading…');
}

export function errorBox(error: unknown): HTMLElement {
  return h('div', { class: 'error', role: 'alert' }, error instanceof Error ? error.message : String(error));
}

/** A plain table: headers and rows of cells (text). */
export function table(
  headers: string[],
  rows: Child[][],
  options: { numeric?: boolean[]; testid?: string } = {},
): HTMLElement {
  const numeric = options.numeric ?? [];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { 'data-testid': options.testid },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((t, i) => h('th', { class: numeric[i] ? 'num' : undefined }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            r.map((v, i) => h('td', { class: numeric[i] ? 'num' : undefined }, v)),
          ),
        ),
      ),
    ),
  );
}
