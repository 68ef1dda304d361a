// Fetching the API. Every answer carries `meta`; when the data is stale (the source is out of reach), the
// banner says so and how old the data is. Another banner says which pipeline run the page shows, and when a
// later run failed, where and why.
import type { Envelope, Meta, Snapshot } from '../types.ts';
import { clear, fmtAge, fmtTime, h } from './dom.ts';

export type Query = Record<string, string | number | readonly string[] | undefined>;

/** The query string of `params`: a list gives the parameter once per value; undefined leaves it out. */
export function queryString(params: Query): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value as readonly string[]) search.append(name, v);
    else search.append(name, String(value));
  }
  return search.toString();
}

export async function get<T>(path: string, params: Query = {}): Promise<T> {
  const query = queryString(params);
  const response = await fetch(`/api${path}${query ? `?${query}` : ''}`, {
    headers: { Accept: 'application/json' },
  });
  const body = (await response.json().catch(() => ({}))) as Partial<Envelope<T>> & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `${path}: HTTP ${response.status}`);
  if (body.meta) showMeta(body.meta);
  return body.data as T;
}

let lastStale: Meta | undefined;

function showMeta(meta: Meta): void {
  const badge = document.getElementById('source-badge');
  if (badge) {
    badge.textContent = meta.source === 'databricks' ? 'Databricks SQL warehouse' : 'Local Delta tables';
    badge.dataset.source = meta.source;
  }
  const banner = document.getElementById('stale-banner');
  if (!banner) return;
  if (meta.stale) {
    lastStale = meta;
    banner.hidden = false;
    banner.textContent =
      `The data source is out of reach: showing the last data read, ${fmtAge(meta.ageSeconds)} old ` +
      `(as of ${fmtTime(meta.asOf)}).`;
  } else if (lastStale) {
    lastStale = undefined;
    banner.hidden = true;
  }
}

/** Where a failed run stopped: the notebook, cell (and its title) and line. */
export function failedWhere(failure: {
  notebook: string | null;
  cell: number | null;
  title: string | null;
  line: number | null;
}): string {
  const parts = [failure.notebook?.split('/').at(-1) ?? 'the transform'];
  if (failure.cell !== null) parts.push(`cell ${failure.cell}${failure.title ? ` “${failure.title}”` : ''}`);
  if (failure.line !== null) parts.push(`line ${failure.line}`);
  return parts.join(', ');
}

/** The run the tables come from; when a later run failed, where and why, and that its versions are not shown. */
export async function showRunBanner(): Promise<void> {
  const banner = document.getElementById('run-banner');
  if (!banner) return;
  const snapshot = await get<Snapshot>('/runs/snapshot').catch(() => undefined);
  if (!snapshot?.run && !snapshot?.failedAfter) return;
  const failed = snapshot.failedAfter;
  const served = snapshot.run
    ? `Showing the tables of run ${snapshot.run.runId}, finished ${fmtTime(snapshot.run.finishedAt)}.`
    : 'No run has finished successfully yet: showing the latest table versions.';
  clear(
    banner,
    h('span', { 'data-testid': 'run-served' }, served),
    failed
      ? h(
          'span',
          { 'data-testid': 'run-failed' },
          ` A later run, ${failed.runId}, failed at ${failedWhere(failed.failure)}: ${failed.failure.message}. ` +
            `Its ${failed.tablesWritten.length} new table versions are not shown.`,
        )
      : null,
  );
  banner.classList.toggle('failed', Boolean(failed));
  banner.hidden = false;
}
