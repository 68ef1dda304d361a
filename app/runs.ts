// What the run manifests say, for the app: which table versions to serve (those of the last fully successful
// transform run, so that a failed or running transform never mixes versions), which run that is and whether a
// later one failed, how fresh the served data is, and the history of every run.
import type { StageManifest, TransformManifest } from './sources/manifests.ts';
import type { Freshness, PipelineRun, RunFailure, RunStatus, Snapshot, StageRun } from './types.ts';

export interface FreshnessThresholds {
  warnAfterSeconds: number;
  errorAfterSeconds: number;
}

/** dbt's defaults would be none; these are lakehouse.yml's (`app.freshness`) when nothing is given. */
export const DEFAULT_FRESHNESS: FreshnessThresholds = {
  warnAfterSeconds: 36 * 3600,
  errorAfterSeconds: 72 * 3600,
};

function transforms(manifests: StageManifest[]): TransformManifest[] {
  return manifests
    .filter((m): m is TransformManifest => m.stage === 'transform')
    .sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
}

const failed = (m: TransformManifest) => m.status === 'failed';

/**
 * The version of each table to serve: the newest that a successful transform run wrote. Versions written by a
 * failed run, by a run still going, or outside any run are not served. Tables no successful run wrote are absent
 * (the source serves their latest version).
 */
export function servedVersions(manifests: StageManifest[]): Map<string, number> {
  const versions = new Map<string, number>();
  for (const run of transforms(manifests)) {
    if (failed(run)) continue;
    for (const { table, version } of run.tables) {
      if (version !== undefined && version >= (versions.get(table) ?? -1)) versions.set(table, version);
    }
  }
  return versions;
}

function failureOf(m: TransformManifest): RunFailure {
  const f = m.failure;
  return {
    message: f?.message ?? 'the run failed',
    notebook: f?.notebook ?? null,
    cell: f?.cell ?? null,
    title: f?.title ?? null,
    line: f?.line ?? null,
  };
}

export function freshnessOf(since: string | null, thresholds: FreshnessThresholds, now: number): Freshness {
  const ageSeconds = since === null ? null : Math.max(0, Math.round((now - Date.parse(since)) / 1000));
  const status =
    ageSeconds === null
      ? 'unknown'
      : ageSeconds > thresholds.errorAfterSeconds
        ? 'error'
        : ageSeconds > thresholds.warnAfterSeconds
          ? 'warn'
          : 'fresh';
  return { status, since, ageSeconds, ...thresholds };
}

/**
 * The run served and the last failed run after it. `newestCommit` is the newest commit time of the versions
 * served, the data's age when no run manifest says when it was written.
 */
export function snapshotOf(
  manifests: StageManifest[],
  newestCommit: string | null,
  thresholds: FreshnessThresholds,
  now: number,
): Snapshot {
  const runs = transforms(manifests);
  const served = runs.filter((m) => !failed(m)).at(-1);
  const failure = runs.filter((m) => failed(m) && (!served || m.startedAt >= served.finishedAt)).at(-1);
  return {
    run: served ? { runId: served.runId, finishedAt: served.finishedAt } : null,
    failedAfter: failure
      ? {
          runId: failure.runId,
          finishedAt: failure.finishedAt,
          failure: failureOf(failure),
          tablesWritten: failure.tables.map((t) => ({ table: t.table, version: t.version ?? null })),
        }
      : null,
    freshness: freshnessOf(served?.finishedAt ?? newestCommit, thresholds, now),
  };
}

function seconds(from: string, to: string): number {
  return Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
}

/** A stage's status and counts, in the words of its manifest. */
function stageRun(m: StageManifest): StageRun {
  const base = {
    startedAt: m.startedAt,
    finishedAt: m.finishedAt,
    seconds: seconds(m.startedAt, m.finishedAt),
  };
  if (m.stage === 'ingest') {
    const { files, uploaded, skipped, failed: bad, bytes } = m.totals;
    const status: RunStatus = bad > 0 ? 'failed' : 'succeeded';
    return {
      stage: 'ingest',
      status,
      ...base,
      counts: { files, uploaded, skipped, failed: bad, bytes },
      failure: null,
    };
  }
  if (m.stage === 'load') {
    const { objects, loaded, failed: bad, rowsLoaded, rowsQuarantined } = m.totals;
    const status: RunStatus = bad > 0 ? 'failed' : 'succeeded';
    const counts = { objects, loaded, failed: bad, rowsLoaded, rowsQuarantined };
    return { stage: 'load', status, ...base, counts, failure: null };
  }
  return {
    stage: 'transform',
    status: failed(m) ? 'failed' : 'succeeded',
    ...base,
    counts: { notebooks: m.notebooks.length, tables: m.tables.length },
    failure: failed(m) ? failureOf(m) : null,
  };
}

/** Every run, newest first: the stages that ran under one run id, failed when any of them failed. */
export function runHistory(manifests: StageManifest[]): PipelineRun[] {
  const byRun = new Map<string, StageManifest[]>();
  for (const m of manifests) byRun.set(m.runId, [...(byRun.get(m.runId) ?? []), m]);
  const runs = [...byRun].map(([runId, list]): PipelineRun => {
    const stages = list.map(stageRun).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    const startedAt = stages[0]!.startedAt;
    const finishedAt = stages
      .map((s) => s.finishedAt)
      .sort()
      .at(-1)!;
    const status: RunStatus = stages.some((s) => s.status === 'failed') ? 'failed' : 'succeeded';
    return { runId, status, startedAt, finishedAt, seconds: seconds(startedAt, finishedAt), stages };
  });
  return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** The transform run that wrote each version of `table`, with its status. */
export function writersOf(
  manifests: StageManifest[],
  table: string,
): Map<number, { runId: string; status: RunStatus }> {
  const writers = new Map<number, { runId: string; status: RunStatus }>();
  for (const run of transforms(manifests)) {
    for (const t of run.tables) {
      if (t.table === table && t.version !== undefined)
        writers.set(t.version, { runId: run.runId, status: failed(run) ? 'failed' : 'succeeded' });
    }
  }
  return writers;
}
