// The transform on the embedded engine: the notebooks on DuckDB, reading the profile's SQL store and writing Delta
// tables under its delta folder (src/stages/transform.ts). With skipUnchanged (as `lakehouse run` asks), a run whose
// inputs are those of the last one is skipped and the last run's tables stand.
import { ConfigError, configPath, type ResolvedConfig } from '../config/load.ts';
import type { NotebookParams } from '../notebooks/params.ts';
import { createStoreSource } from '../notebooks/sql-source.ts';
import { openSqlStore } from '../sql/index.ts';
import { readLatestManifest } from '../stages/manifest.ts';
import {
  inputFingerprint,
  isUnchanged,
  loadsState,
  planTransform,
  transform,
  type TransformManifest,
} from '../stages/transform.ts';
import { recordManifest, type RunContext } from './context.ts';
import { note, ok, table, type ReportBlock, type StageOutcome, type StageReport } from './report.ts';

export interface LocalTransformRequest {
  /** Run these notebooks instead of the config's list. */
  notebooks?: string[];
  /** Parameters over the config's `transform.parameters`. */
  params?: NotebookParams;
  /** Skip the run when nothing it reads changed since the last one. */
  skipUnchanged?: boolean;
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
    params: { dataset: resolved.config.datasets[0]!.name, ...settings.parameters, ...request.params },
  };
}

export async function runLocalTransform(
  resolved: ResolvedConfig,
  request: LocalTransformRequest,
  ctx: RunContext,
): Promise<StageOutcome<TransformManifest>> {
  const { notebooks, params } = transformInputs(resolved, request);
  const deltaRoot = configPath(resolved, resolved.profile.delta);
  ctx.log.info(`transform: ${notebooks.length} notebook(s) on DuckDB → Delta tables in ${deltaRoot}`);
  if (ctx.dryRun) {
    for (const p of await planTransform(notebooks))
      ctx.log.info(`transform (dry run): ${p.notebook} would write ${p.tables.join(', ') || 'no table'}`);
    return { report: { stage: 'transform', dryRun: true, title: TITLE, blocks: [] }, verdict: ok };
  }
  const manifests = configPath(resolved, resolved.profile.manifests);
  const session = await openSqlStore(resolved.profile.sql, resolved.root);
  try {
    const fingerprint = await inputFingerprint(notebooks, params, await loadsState(session));
    const last = await readLatestManifest<TransformManifest>(manifests, 'transform');
    if (request.skipUnchanged && isUnchanged(last, fingerprint)) {
      ctx.log.info(
        `transform: skipped: nothing changed since run ${last.runId} (same loads, notebooks and parameters); its ${last.tables.length} table versions stand (\`lakehouse transform\` runs it anyway)`,
      );
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
    });
    const manifestPath = await recordManifest(manifests, manifest, ctx);
    return { result: manifest, manifestPath, report: transformReport(manifest, true), verdict: ok };
  } finally {
    await session.close();
  }
}

const TITLE = 'Transform on DuckDB';

/** What the run wrote, and the result worth seeing first: the notebooks' last query (the top rules by lift). */
export function transformReport(m: TransformManifest, ran: boolean, title = TITLE): StageReport {
  const blocks: ReportBlock[] = [];
  if (ran) {
    const seconds = m.notebooks.reduce((s, n) => s + n.seconds, 0);
    blocks.push(
      note(
        `${m.notebooks.length} notebooks, ${m.tables.length} table versions written in ${seconds.toFixed(1)} s`,
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
