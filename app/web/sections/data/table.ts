// One Delta table: its commits (with the run that wrote each, and which version the app serves), its columns
// with their types and descriptions, and its rows a page at a time at the version picked (time travel).
import type { CellValue, TableCommit, TableInfo, TableRows } from '../../../types.ts';
import { get } from '../../client.ts';
import { card, clear, errorBox, fmtInt, fmtTime, h, loading, table } from '../../dom.ts';

const PAGE_ROWS = 25;

function showCell(v: CellValue): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, '');
  return String(v);
}

function commitNote(e: TableCommit, info: TableInfo): string {
  const notes = [];
  if (e.version === info.version) notes.push('served');
  if (e.run) notes.push(`run ${e.run.runId}${e.run.status === 'failed' ? ' (failed)' : ''}`);
  return notes.join(' · ');
}

function historyCard(info: TableInfo, history: TableCommit[]): HTMLElement {
  return card(
    `History of ${info.name}`,
    info.description ? h('p', { class: 'muted small' }, info.description) : null,
    table(
      ['Version', 'Committed', 'Operation', 'Rows written', 'Run'],
      history.map((e) => [
        String(e.version),
        fmtTime(e.committedAt),
        e.operation,
        fmtInt(e.rowsWritten),
        commitNote(e, info),
      ]),
      { numeric: [true, false, false, true, false], testid: 'history' },
    ),
  );
}

function caption(r: TableRows): string {
  const which =
    r.version === r.servedVersion
      ? `Version ${r.version} (${r.version === r.latestVersion ? 'latest' : `served; latest is ${r.latestVersion}`})`
      : `Version ${r.version} of ${r.latestVersion} (time travel)`;
  const first = r.rows.length ? r.offset + 1 : 0;
  return `${which}: rows ${fmtInt(first)}–${fmtInt(r.offset + r.rows.length)} of ${fmtInt(r.rowCount)}.`;
}

function columnsCard(r: TableRows): HTMLElement {
  return table(
    ['Column', 'Type', 'Description'],
    r.columns.map((c) => [h('code', {}, c.name), c.type, c.description ?? '–']),
    { testid: 'columns' },
  );
}

/** The rows of `name` at `version` from `offset`, with the columns and the buttons to turn the page. */
async function loadRows(
  holder: HTMLElement,
  columns: HTMLElement,
  name: string,
  version: number,
  offset: number,
): Promise<void> {
  clear(holder, loading());
  try {
    const r = await get<TableRows>(`/tables/${encodeURIComponent(name)}/rows`, {
      version,
      offset,
      limit: PAGE_ROWS,
    });
    const turn = (to: number) => void loadRows(holder, columns, name, version, to);
    const last = (r.rowCount ?? 0) <= r.offset + r.rows.length;
    clear(columns, columnsCard(r));
    clear(
      holder,
      h('p', { class: 'muted small', 'data-testid': 'rows-caption' }, caption(r)),
      table(
        r.columns.map((c) => c.name),
        r.rows.map((row) => row.map(showCell)),
        { testid: 'rows', numeric: r.columns.map((c) => /int|double|float|decimal/.test(c.type)) },
      ),
      h(
        'div',
        { class: 'pager' },
        h(
          'button',
          {
            type: 'button',
            'data-testid': 'rows-previous',
            disabled: r.offset === 0,
            onClick: () => turn(Math.max(0, r.offset - PAGE_ROWS)),
          },
          '‹ Previous',
        ),
        h(
          'button',
          {
            type: 'button',
            'data-testid': 'rows-next',
            disabled: last,
            onClick: () => turn(r.offset + PAGE_ROWS),
          },
          'Next ›',
        ),
      ),
    );
  } catch (error) {
    clear(holder, errorBox(error));
  }
}

export async function showTable(detail: HTMLElement, info: TableInfo): Promise<void> {
  clear(detail, loading());
  const history = await get<TableCommit[]>(`/tables/${encodeURIComponent(info.name)}/history`);
  const rows = h('div', {}, loading());
  const columns = h('div', {});
  const show = (version: number) => loadRows(rows, columns, info.name, version, 0);
  const versionSelect = h(
    'select',
    {
      id: 'version-select',
      'data-testid': 'version-select',
      onChange: (e: Event) => void show(Number((e.target as HTMLSelectElement).value)),
    },
    history.map((e) =>
      h(
        'option',
        { value: e.version, selected: e.version === info.version },
        `version ${e.version} · ${fmtTime(e.committedAt)}`,
      ),
    ),
  );
  clear(
    detail,
    historyCard(info, history),
    card('Columns', columns),
    card(
      'Rows',
      h(
        'div',
        { class: 'row' },
        h('label', { for: 'version-select' }, 'Show the table as it was at'),
        versionSelect,
      ),
      rows,
    ),
  );
  await show(info.version ?? 0);
}
