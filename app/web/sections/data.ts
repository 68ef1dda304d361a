// The Delta tables: each with its version history, and its rows at any version (time travel).
import type { CellValue, HistoryEntry, TableInfo, TableRows } from '../../types.ts';
import { get } from '../client.ts';
import { card, clear, errorBox, fmtInt, fmtTime, h, loading, table } from '../dom.ts';

function showCell(v: CellValue): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, '');
  return String(v);
}

export async function renderData(root: HTMLElement, selected: string | undefined): Promise<void> {
  const tables = await get<TableInfo[]>('/tables');
  const existing = tables.filter((t) => t.version !== null);
  const current = existing.find((t) => t.name === selected) ?? existing[0];
  const detail = h('div', { class: 'data-detail' });
  clear(root, h('div', { class: 'data-layout' }, card('Delta tables', tableList(tables, current)), detail));
  if (!current) {
    clear(
      detail,
      card('No tables', h('p', { class: 'muted' }, 'The source has none of the app’s tables yet.')),
    );
    return;
  }
  await showTable(detail, current);
}

/** Links to every table the app reads, with its latest version; a table the source lacks is marked missing. */
function tableList(tables: TableInfo[], current: TableInfo | undefined): HTMLElement {
  return h(
    'ul',
    { class: 'table-list', 'data-testid': 'table-list' },
    tables.map((t) =>
      h(
        'li',
        {},
        t.version === null
          ? h('span', { class: 'muted' }, t.name, ' (missing)')
          : h(
              'a',
              {
                href: `#/data/${t.name}`,
                class: t.name === current?.name ? 'active' : undefined,
                'aria-current': t.name === current?.name ? 'page' : undefined,
              },
              h('span', {}, t.name),
              h('span', { class: 'pill' }, `v${t.version}`),
            ),
      ),
    ),
  );
}

/** A table's history, and its rows at the version picked (the latest first). */
async function showTable(detail: HTMLElement, current: TableInfo): Promise<void> {
  clear(detail, loading());
  const history = await get<HistoryEntry[]>(`/tables/${encodeURIComponent(current.name)}/history`);
  const rowsHolder = h('div', {}, loading());
  const showRows = (version: number) => loadRows(rowsHolder, current.name, version);
  const versionSelect = h(
    'select',
    {
      id: 'version-select',
      'data-testid': 'version-select',
      'aria-label': 'Version',
      onChange: (e: Event) => void showRows(Number((e.target as HTMLSelectElement).value)),
    },
    history.map((e) =>
      h(
        'option',
        { value: e.version, selected: e.version === current.version },
        `version ${e.version} · ${fmtTime(e.committedAt)}`,
      ),
    ),
  );
  clear(
    detail,
    card(
      `History of ${current.name}`,
      table(
        ['Version', 'Committed', 'Operation', 'Rows written'],
        history.map((e) => [String(e.version), fmtTime(e.committedAt), e.operation, fmtInt(e.rowsWritten)]),
        { numeric: [true, false, false, true], testid: 'history' },
      ),
    ),
    card(
      'Rows',
      h(
        'div',
        { class: 'row' },
        h('label', { for: 'version-select' }, 'Show the table as it was at'),
        versionSelect,
      ),
      rowsHolder,
    ),
  );
  await showRows(current.version ?? 0);
}

async function loadRows(holder: HTMLElement, name: string, version: number): Promise<void> {
  clear(holder, loading());
  try {
    const r = await get<TableRows>(`/tables/${encodeURIComponent(name)}/rows`, { version, limit: 25 });
    clear(
      holder,
      h(
        'p',
        { class: 'muted small', 'data-testid': 'rows-caption' },
        `Version ${r.version}${r.version === r.latestVersion ? ' (latest)' : ` of ${r.latestVersion} (time travel)`}: ` +
          `${fmtInt(r.rowCount)} rows, the first ${fmtInt(r.rows.length)} shown.`,
      ),
      table(
        r.columns,
        r.rows.map((row) => row.map(showCell)),
        { testid: 'rows', numeric: r.columns.map((_, i) => typeof r.rows[0]?.[i] === 'number') },
      ),
    );
  } catch (error) {
    clear(holder, errorBox(error));
  }
}
