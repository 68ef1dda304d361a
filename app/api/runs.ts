// /api/runs: what the run manifests say. The run whose table versions are served and a later one that failed,
// with how fresh the data is (/snapshot); every run with its stages, status, duration and counts (/); the
// lineage from source objects to tables (/lineage).
import { Hono } from 'hono';
import type { Datasets } from '../data.ts';
import { lineageOf } from '../lineage.ts';
import { runHistory, snapshotOf } from '../runs.ts';
import type { Snapshot } from '../types.ts';
import type { ApiEnv } from './respond.ts';
import { answer } from './respond.ts';

/** The snapshot served now; without run manifests its age is that of the newest table version served. */
export async function currentSnapshot(data: Datasets): Promise<Snapshot> {
  const versions = Object.values(await data.versions());
  const newest =
    versions
      .map((v) => v.committedAt)
      .sort()
      .at(-1) ?? null;
  return snapshotOf(await data.source.manifests(), newest, data.freshness, data.now());
}

const runs = new Hono<ApiEnv>();

runs.get('/', (c) => answer(c, async (data) => runHistory(await data.source.manifests())));
runs.get('/snapshot', (c) => answer(c, (data) => currentSnapshot(data)));
runs.get('/lineage', (c) => answer(c, async (data) => lineageOf(await data.source.manifests())));

export default runs;
