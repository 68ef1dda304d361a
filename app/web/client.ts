// Fetching the API. Every answer carries `meta`; when the data is stale (the source is out of reach), the
// banner says so and how old the data is.
import type { Envelope, Meta } from '../types.ts';
import { fmtAge, fmtTime } from './dom.ts';

export async function get<T>(path: string, params: Record<string, string | number> = {}): Promise<T> {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
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
