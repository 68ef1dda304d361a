// The transform on the embedded engine: the notebooks on DuckDB, reading the profile's SQL store and writing Delta
// tables under its delta folder (src/stages/transform.ts). With skipUnchanged (as `lakehouse run` asks), a run whose
// inputs are those of the last one is skipped and the last run's tables stand.
import fs from 'node:fs';
import { ConfigError, configPath, type ResolvedConfig } from '../config/load.ts';
import type { NotebookParams } from '../notebooks/params.ts';
import { createStoreSource } from '../notebooks/sql-source.ts';
import { openSqlStore, type SqlSession } from '../sql/index.ts';
import { readLatestManifest } from '../stages/manifest.ts';
import {
  inputFingerprint,
  isUnchanged,
  loadsState,
  planTransform,
  transform,
  TransformFailedError,
  type TransformManifest,
  type TransformOptions,
} from '../stages/transform.ts';
import { count, formatDuration } from '../util/format.ts';
import { recordManifest, type RunContext } from './context.ts';
import { note, ok, table, type ReportBlock, type StageOutcome, type StageReport } from './report.ts';

export interface LocalTransformRequest {
  /** Run these notebooks instead of the config's list. */
  notebooks?: string[];
  /** Parameters over the config's `transform.parameters`. */
  params?: NotebookParams;
  /** Skip the run when nothing it reads changed since the last one. */
  skipUnchanged?: boolean;
  /** In a dry run: the stages before this one would change what the notebooks read, so no run would be skipped. */
  inputsWillChange?: boolean;
}

/** The notebooks a transform runs (absolute paths) and their parameters, whatever the engine. */
export function transformInputs(
  resolved: ResolvedConfig,
  request: { notebooks?: string[]; params?: NotebookParams },
): { notebooks: string[]; params: NotebookParams } {
  const settings = resolved.config.transform;
  const listed = request.notebooks?.length ? request.notebooks : settings.notebooks;
  const notebooks = listed.map((n) => configPath(resolved, n));
  if (notebooks.length === 0)
    throw new ConfigError(
      'transform: no notebooks to run (list them under transform.notebooks in lakehouse.yml)',
    );
  return {
    notebooks,
    // full_refresh: an incremental run unless asked (`--full-refresh`, or the config's parameters).
    params: {
      dataset: resolved.config.datasets[0]!.name,
      full_refresh: false,
      ...settings.parameters,
      ...request.params,
    },
  };
}

/** The config's DuckDB settings, the spill folder resolved against the project. */
function duckdbSettings(resolved: ResolvedConfig): TransformOptions['duckdb'] {
  const { spillDirectory, ...limits } = resolved.config.transform.duckdb;
  return { ...limits, spillDirectory: configPath(resolved, spillDirectory) };
}

export async function runLocalTransform(
  resolved: ResolvedConfig,
  request: LocalTransformRequest,
  ctx: RunContext,
): Promise<StageOutcome<TransformManifest>> {
  const { notebooks, params } = transformInputs(resolved, request);
  const deltaRoot = configPath(resolved, resolved.profile.delta);
  ctx.log.info(`transform: ${count(notebooks.length, 'notebook')} on DuckDB → Delta tables in ${deltaRoot}`);
  if (ctx.dryRun) return dryRunTransform(resolved, { ...request, notebooks, params }, ctx);
  const manifests = configPath(resolved, resolved.profile.manifests);
  const session = await openSqlStore(resolved.profile.sql, resolved.root);
  try {
    const { fingerprint, last } = await lastRunInputs(session, manifests, notebooks, params);
    if (request.skipUnchanged && isUnchanged(last, fingerprint)) {
      ctx.log.info(`transform: skipped: ${unchangedSince(last)} (\`lakehouse transform\` runs it anyway)`);
      return { result: last, report: transformReport(last, false), verdict: ok };
    }
    const manifest = await transform({
      fingerprint,
      notebooks,
      deltaRoot,
      source: createStoreSource(session),
      params,
      run: ctx.run,
      log: ctx.log,
      progress: ctx.progress?.('transform'),
      duckdb: duckdbSettings(resolved),
    }).catch(async (error: unknown) => {
      // A failed run leaves a manifest too: where it stopped and the table versions it wrote before.
      if (error instanceof TransformFailedError) await recordManifest(manifests, error.manifest, ctx);
      throw error;
    });
    const manifestPath = await recordManifest(manifests, manifest, ctx);
    return { result: manifest, manifestPath, report: transformReport(manifest, true), verdict: ok };
  } finally {
    await session.close();
  }
}

const TITLE = 'Transform on DuckDB';

/** What the inputs are now, and the last run (whose inputs had the fingerprint it recorded). */
async function lastRunInputs(
  session: SqlSession,
  manifests: string,
  notebooks: string[],
  params: NotebookParams,
) {
  const fingerprint = await inputFingerprint(notebooks, params, await loadsState(session));
  const last = await readLatestManifest<TransformManifest>(manifests, 'transform');
  return { fingerprint, last };
}

function unchangedSince(last: TransformManifest): string {
  // A table written twice in a run (a work table emptied at the end) still has one version standing.
  const tables = new Set(last.tables.map((t) => t.table)).size;
  return `nothing changed since run ${last.runId} (same loads, notebooks and parameters); its ${count(tables, 'table version')} ${tables === 1 ? 'stands' : 'stand'}`;
}

/**
 * What a real run would do: skip, when it would (nothing it reads changed, and the stages before it in this run
 * would change nothing), else write each notebook's tables. An existing store is read to tell; a missing PGlite
 * store is not created (the load would create it, so the transform would run).
 */
async function dryRunTransform(
  resolved: ResolvedConfig,
  request: LocalTransformRequest & { notebooks: string[]; params: NotebookParams },
  ctx: RunContext,
): Promise<StageOutcome<TransformManifest>> {
  const report = { stage: 'transform' as const, dryRun: true, title: TITLE, blocks: [] };
  const target = resolved.profile.sql;
  const storeExists = target.engine !== 'pglite' || fs.existsSync(configPath(resolved, target.path));
  if (request.skipUnchanged && !request.inputsWillChange && storeExists) {
    const session = await openSqlStore(target, resolved.root);
    const manifests = configPath(resolved, resolved.profile.manifests);
    const { fingerprint, last } = await lastRunInputs(
      session,
      manifests,
      request.notebooks,
      request.params,
    ).finally(() => session.close());
    if (isUnchanged(last, fingerprint)) {
      ctx.log.info(`transform (dry run): would skip: ${unchangedSince(last)}`);
      return { report, verdict: ok };
    }
  }
  for (const p of await planTransform(request.notebooks))
    ctx.log.info(`transform (dry run): ${p.notebook} would write ${p.tables.join(', ') || 'no table'}`);
  return { report, verdict: ok };
}

/** What the run wrote, and the result worth seeing first: the notebooks' last query (the top rules by lift). */
export function transformReport(m: TransformManifest, ran: boolean, title = TITLE): StageReport {
  const blocks: ReportBlock[] = [];
  if (ran) {
    const seconds = m.notebooks.reduce((s, n) => s + n.seconds, 0);
    blocks.push(
      note(
        `${count(m.notebooks.length, 'notebook')}, ${count(m.tables.length, 'table version')} written in ${formatDuration(seconds)}`,
      ),
    );
  }
  const top = m.queries.at(-1);
  if (top?.rows.length)
    blocks.push(
      table(
        top.columns,
        top.rows.map((r) => top.columns.map((c) => display(r[c]))),
        { caption: top.title ?? 'last query' },
      ),
    );
  return { stage: 'transform', dryRun: false, title, blocks };
}

function display(value: unknown): string | number {
  if (typeof value === 'number') return Number.isInteger(value) ? value : Number(value.toPrecision(4));
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.join(', ');
  return value === null || value === undefined ? '' : String(value);
}
