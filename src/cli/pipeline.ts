// The pipeline as the CLI runs it: config → stage → manifest → next stage. Each function opens what its stage
// needs, runs the stage function from src/stages, writes the manifest and prints a summary that says why.
import fs from 'node:fs';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { openBucket } from '../bucket/index.ts';
import { configPath, findDataset, type ResolvedConfig } from '../config/load.ts';
import type { DatasetConfig } from '../config/schema.ts';
import { generateGroceries } from '../generate/groceries.ts';
import { openSqlStore } from '../sql/index.ts';
import { createStoreSource } from '../notebooks/sql-source.ts';
import { ingest, type IngestManifest } from '../stages/ingest.ts';
import { createDatabricksClient } from '../databricks/rest.ts';
import { authFromSettings, type DatabricksAuth } from '../databricks/auth.ts';
import {
  databricksSettings,
  describeCompute,
  planDatabricksTransform,
  transformOnDatabricks,
  type DatabricksTransformResult,
} from '../stages/transform-databricks.ts';
import { inputFingerprint, planTransform, transform, type TransformManifest } from '../stages/transform.ts';
import { AUDIT_TABLE, type SqlSession } from '../sql/types.ts';
import { datasetPrefix, load, loadTables, type LoadManifest } from '../stages/load.ts';
import { readLatestManifest, writeManifest } from '../stages/manifest.ts';
import { errorMessage, type Logger } from '../util/log.ts';
import { progress } from '../util/progress.ts';
import type { RunInfo } from '../util/run.ts';
import { formatBytes, textTable } from '../util/table.ts';
import { abortOnSignals } from '../util/signals.ts';
import { deployRender, type DeployResult } from '../stages/deploy.ts';

export interface PipelineContext {
  resolved: ResolvedConfig;
  run: RunInfo;
  log: Logger;
  dryRun: boolean;
  /** Restrict to these datasets (all when empty). */
  datasets: string[];
}

export class StageFailedError extends Error {
  override name = 'StageFailedError';
}

/** The profile's bucket; a gs:// bucket logs its retries through the pipeline's logger. */
function openProfileBucket(ctx: PipelineContext) {
  const { resolved } = ctx;
  return openBucket(resolved.profile.bucket, resolved.root, {
    resumableThreshold: resolved.config.ingest.resumableThresholdMB * 1024 * 1024,
    log: ctx.log,
  });
}

export function selectedDatasets(ctx: PipelineContext): DatasetConfig[] {
  const { config } = ctx.resolved;
  return ctx.datasets.length ? ctx.datasets.map((d) => findDataset(config, d)) : config.datasets;
}

/** Generates a dataset's synthetic sample when its source folder has no matching file. */
export async function ensureSamples(ctx: PipelineContext): Promise<void> {
  for (const dataset of selectedDatasets(ctx)) {
    const sample = dataset.source.sample;
    const folder = configPath(ctx.resolved, dataset.source.path);
    if (!sample) continue;
    if (fs.existsSync(folder) && (await glob(dataset.source.glob, { cwd: folder })).length > 0) continue;
    ctx.log.info(
      `generate: no ${dataset.source.glob} in ${dataset.source.path}; writing a synthetic sample (${sample.rows.toLocaleString('en-US')} rows, seed ${sample.seed})`,
    );
    if (ctx.dryRun) continue;
    const result = await generateGroceries({ rows: sample.rows, seed: sample.seed, outDir: folder });
    ctx.log.info(
      `generate: ${result.files.length} files, ${result.lines.toLocaleString('en-US')} lines (${Object.entries(
        result.dirty,
      )
        .map(([k, n]) => `${n} ${k.replace('_', ' ')}`)
        .join(', ')})`,
    );
  }
}

export async function runIngestStage(ctx: PipelineContext): Promise<IngestManifest> {
  const { resolved } = ctx;
  const settings = resolved.config.ingest;
  const bucket = await openProfileBucket(ctx);
  const sources = selectedDatasets(ctx).map((d) => ({
    dataset: d.name,
    path: configPath(resolved, d.source.path),
    glob: d.source.glob,
  }));
  const manifest = await ingest({
    // A dry run generated no sample, so a dataset whose sample folder does not exist yet has nothing to plan.
    sources: ctx.dryRun ? sources.filter((s) => fs.existsSync(s.path)) : sources,
    bucket,
    destination: settings.destination,
    run: ctx.run,
    concurrency: settings.concurrency,
    gzip: settings.gzip,
    skipUnchanged: settings.skipUnchanged,
    dryRun: ctx.dryRun,
    log: ctx.log,
    progress: progress('ingest'),
  });
  if (!ctx.dryRun) await writeManifest(configPath(resolved, resolved.profile.manifests), manifest);
  printIngestSummary(ctx.log, manifest);
  const { conflicts, failed } = manifest.totals;
  if (conflicts || failed)
    throw new StageFailedError(
      `ingest: ${conflicts} object(s) changed by someone else since they were listed (not overwritten) and ${failed} failed; see above`,
    );
  return manifest;
}

export async function runLoadStage(
  ctx: PipelineContext,
  objects?: string[],
): Promise<LoadManifest | undefined> {
  const { resolved } = ctx;
  const bucket = await openProfileBucket(ctx);
  const sql = resolved.profile.sql;
  if (ctx.dryRun && sql.engine === 'pglite' && !fs.existsSync(configPath(resolved, sql.path))) {
    ctx.log.info(
      `load (dry run): the PGlite store ${sql.path} does not exist yet; every object in the bucket would be loaded`,
    );
    return undefined;
  }
  const session = await openSqlStore(resolved.profile.sql, resolved.root, {
    batchRows: resolved.config.load.batchRows,
  });
  try {
    const manifest = await load({
      session,
      bucket,
      datasets: selectedDatasets(ctx),
      destination: resolved.config.ingest.destination,
      run: ctx.run,
      objects,
      dryRun: ctx.dryRun,
      log: ctx.log,
      progress: progress('load'),
    });
    if (!ctx.dryRun) await writeManifest(configPath(resolved, resolved.profile.manifests), manifest);
    printLoadSummary(ctx.log, manifest);
    if (manifest.totals.failed)
      throw new StageFailedError(
        `load: ${manifest.totals.failed} object(s) failed and were rolled back; see above`,
      );
    return manifest;
  } finally {
    await session.close();
  }
}

export interface TransformRequest {
  /** Run these notebooks instead of the config's list. */
  notebooks?: string[];
  /** Parameters over the config's `transform.parameters`. */
  params?: Record<string, string>;
  /** Skip the run when nothing it reads changed since the last one (as `lakehouse run` does). */
  skipUnchanged?: boolean;
}

/** The notebooks a transform runs (absolute paths) and their parameters, whatever the engine. */
export function transformInputs(
  ctx: PipelineContext,
  request: TransformRequest,
): { notebooks: string[]; params: Record<string, string | number | boolean> } {
  const { resolved } = ctx;
  const settings = resolved.config.transform;
  const notebooks = (request.notebooks?.length ? request.notebooks : settings.notebooks).map((n) =>
    configPath(resolved, n),
  );
  if (notebooks.length === 0)
    throw new StageFailedError(
      'transform: no notebooks to run (list them under transform.notebooks in lakehouse.yml)',
    );
  const params = { dataset: resolved.config.datasets[0]!.name, ...settings.parameters, ...request.params };
  return { notebooks, params };
}

export async function runTransformStage(
  ctx: PipelineContext,
  request: TransformRequest = {},
): Promise<TransformManifest | undefined> {
  const { resolved } = ctx;
  const { notebooks, params } = transformInputs(ctx, request);
  const deltaRoot = configPath(resolved, resolved.profile.delta);
  ctx.log.info(`transform: ${notebooks.length} notebook(s) on DuckDB → Delta tables in ${deltaRoot}`);
  if (ctx.dryRun) {
    for (const p of await planTransform(notebooks))
      ctx.log.info(`transform (dry run): ${p.notebook} would write ${p.tables.join(', ') || 'no table'}`);
    return undefined;
  }
  const manifests = configPath(resolved, resolved.profile.manifests);
  const session = await openSqlStore(resolved.profile.sql, resolved.root);
  try {
    const fingerprint = await inputFingerprint(notebooks, params, await loadState(session));
    const last = await readLatestManifest<TransformManifest>(manifests, 'transform');
    if (request.skipUnchanged && last?.fingerprint === fingerprint && tablesExist(last)) {
      ctx.log.info(
        `transform: skipped: nothing changed since run ${last.runId} (same loads, notebooks and parameters); its ${last.tables.length} table versions stand (\`lakehouse transform\` runs it anyway)`,
      );
      printTopRules(ctx.log, last);
      return last;
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
    await writeManifest(manifests, manifest);
    printTransformSummary(ctx.log, manifest);
    return manifest;
  } finally {
    await session.close();
  }
}

/**
 * `lakehouse transform --on databricks`: the notebooks imported into the profile's workspace folder and run as one
 * Databricks job run (see src/stages/transform-databricks.ts). A dry run prints the plan and sends nothing.
 */
export async function runDatabricksTransformStage(
  ctx: PipelineContext,
  request: TransformRequest & { timeoutMinutes?: number; pollMs?: number } = {},
): Promise<DatabricksTransformResult | undefined> {
  const { resolved } = ctx;
  const settings = await databricksSettings(resolved, {
    notebooks: request.notebooks,
    parameters: request.params,
    timeoutSeconds: request.timeoutMinutes === undefined ? undefined : Math.ceil(request.timeoutMinutes * 60),
  });
  const plan = planDatabricksTransform(settings);
  const compute = describeCompute(settings);
  ctx.log.info(
    `transform: ${plan.notebooks.length} notebook(s) on Databricks (${compute}) in ${plan.workspaceFolder}${ctx.dryRun ? ' (dry run: nothing sent)' : ''}`,
  );
  if (ctx.dryRun) {
    ctx.log.info(
      textTable(
        plan.notebooks.map((n, i) => ({
          task: n.taskKey,
          notebook: path.relative(resolved.root, n.source),
          'workspace path': n.path,
          'runs after': i ? plan.notebooks[i - 1]!.taskKey : '',
        })),
      ),
    );
    ctx.log.info(`parameters: ${JSON.stringify(plan.parameters)}`);
    return undefined;
  }
  const databricks = resolved.profile.databricks;
  const where = `profiles.${resolved.profileName}.databricks`;
  if (!databricks?.host)
    throw new StageFailedError(`${where}.host: expected the workspace URL, found nothing`);
  let auth: DatabricksAuth;
  try {
    auth = authFromSettings(databricks, where);
  } catch (e) {
    throw new StageFailedError(errorMessage(e));
  }
  const client = createDatabricksClient({ host: databricks.host, auth, log: ctx.log });
  // Ctrl-C (or a SIGTERM) cancels the Databricks run rather than leaving it running with no one waiting.
  const stop = abortOnSignals((signal) => ctx.log.warn(`${signal}: cancelling the Databricks run`));
  try {
    const result = await transformOnDatabricks(client, plan, {
      log: ctx.log,
      pollMs: request.pollMs,
      signal: stop.signal,
    });
    ctx.log.info(`transform: Databricks run ${result.runId} ${result.resultState}: ${result.runPageUrl}`);
    return result;
  } finally {
    stop.dispose();
  }
}

/** The loads as the audit table has them: what the transform's extraction would read. */
async function loadState(session: SqlSession): Promise<string> {
  const rows = await session
    .query<{ n: number | string; last: number | string | null }>(
      `SELECT count(*) AS n, max(id) AS last FROM ${session.dialect.table(AUDIT_TABLE)}`,
    )
    .catch(() => [{ n: 0, last: null }]);
  return `${rows[0]!.n}:${rows[0]!.last ?? ''}`;
}

function tablesExist(manifest: TransformManifest): boolean {
  return manifest.tables.every((t) =>
    fs.existsSync(path.join(manifest.deltaRoot, ...t.table.split('.'), '_delta_log')),
  );
}

export function printTransformSummary(log: Logger, m: TransformManifest): void {
  const seconds = m.notebooks.reduce((s, n) => s + n.seconds, 0);
  log.info(
    `transform: ${m.notebooks.length} notebooks, ${m.tables.length} table versions written in ${seconds.toFixed(1)} s`,
  );
  printTopRules(log, m);
}

/** The notebooks' last query shows the result worth seeing first (the top rules by lift). */
function printTopRules(log: Logger, m: TransformManifest): void {
  const top = m.queries.at(-1);
  if (top?.rows.length)
    log.info(
      `\n${top.title ?? 'last query'}\n${textTable(
        top.rows.map((r) => Object.fromEntries(top.columns.map((c) => [c, display(r[c])]))),
        top.columns,
      )}`,
    );
}

function display(value: unknown): string | number {
  if (typeof value === 'number') return Number.isInteger(value) ? value : Number(value.toPrecision(4));
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.join(', ');
  return value === null || value === undefined ? '' : String(value);
}

/** What is in the bucket, what is loaded, and what is waiting. */
export async function printStatus(ctx: PipelineContext): Promise<void> {
  const { resolved, log } = ctx;
  const bucket = await openProfileBucket(ctx);
  const session = await openSqlStore(resolved.profile.sql, resolved.root, {
    batchRows: resolved.config.load.batchRows,
  });
  try {
    const rows = [];
    for (const dataset of selectedDatasets(ctx)) {
      const tables = loadTables(dataset);
      for (const ddl of session.dialect.ensureTables(tables)) await session.execute(ddl);
      let objects = 0;
      let bytes = 0;
      let loaded = 0;
      let pending = 0;
      for await (const object of bucket.list(
        datasetPrefix(resolved.config.ingest.destination, dataset.name),
      )) {
        objects++;
        bytes += object.size;
        const [last] = await session.query<{ md5: string }>(
          session.dialect.lastLoad(tables, bucket.uri, object.name),
        );
        if (last?.md5 === object.md5) loaded++;
        else pending++;
      }
      const [counts] = await session.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM ${session.dialect.table(tables.target)}`,
      );
      const quarantined = await session.query<{ dataset: string; n: number | string }>(
        `SELECT dataset, count(*) AS n FROM ${session.dialect.table(tables.quarantine)} GROUP BY dataset`,
      );
      rows.push({
        dataset: dataset.name,
        'bucket objects': objects,
        size: formatBytes(bytes),
        loaded,
        pending,
        [`rows in ${tables.target}`]: Number(counts!.n),
        quarantined: Number(quarantined.find((q) => q.dataset === dataset.name)?.n ?? 0),
      });
    }
    log.info(`bucket ${bucket.uri}\nstore  ${session.description}\n\n${textTable(rows)}`);
  } finally {
    await session.close();
  }
}

function printIngestSummary(log: Logger, m: IngestManifest): void {
  const byDataset = [...new Set(m.objects.map((o) => o.dataset))].map((dataset) => {
    const objects = m.objects.filter((o) => o.dataset === dataset);
    const n = (s: string) => objects.filter((o) => o.status === s).length;
    return {
      dataset,
      files: objects.length,
      uploaded: n('uploaded'),
      skipped: n('skipped'),
      conflicts: n('conflict'),
      failed: n('failed'),
      ...(m.dryRun ? { planned: n('planned') } : {}),
      bytes: formatBytes(objects.filter((o) => o.status === 'uploaded').reduce((s, o) => s + o.size, 0)),
    };
  });
  log.info(`\ningest summary${m.dryRun ? ' (dry run: nothing written)' : ''}\n${textTable(byDataset)}`);
  if (!m.dryRun && m.totals.uploaded === 0 && m.totals.skipped > 0)
    log.info(
      `0 objects uploaded: all ${m.totals.skipped} files are unchanged since they were uploaded (their MD5 matches the bucket's).`,
    );
}

function printLoadSummary(log: Logger, m: LoadManifest): void {
  const rows = m.datasets.map((d) => ({
    dataset: d.dataset,
    table: d.table,
    objects: d.totals.objects,
    loaded: d.totals.loaded,
    skipped: d.totals.skipped,
    failed: d.totals.failed,
    'rows in': d.totals.rowsIn,
    'rows loaded': d.totals.rowsLoaded,
    quarantined: d.totals.rowsQuarantined,
    replaced: d.totals.rowsReplaced,
  }));
  log.info(`\nload summary${m.dryRun ? ' (dry run: nothing written)' : ''}\n${textTable(rows)}`);
  const t = m.totals;
  if (!m.dryRun && t.loaded > 0)
    log.info(
      `rows in = rows loaded + rows quarantined: ${t.rowsIn} = ${t.rowsLoaded} + ${t.rowsQuarantined}`,
    );
  const problems = new Map<string, number>();
  for (const o of m.datasets.flatMap((d) => d.objects))
    for (const [kind, n] of Object.entries(o.problems)) problems.set(kind, (problems.get(kind) ?? 0) + n);
  if (problems.size)
    log.info(
      `quarantined (see table lakehouse_quarantine): ${[...problems].map(([k, n]) => `${n} ${k}`).join(', ')}`,
    );
  if (!m.dryRun && t.loaded === 0 && t.skipped > 0 && t.failed === 0)
    log.info(
      `0 rows loaded: all ${t.skipped} objects were already loaded (the audit table has them with the same MD5).`,
    );
}

export interface DeployRequest {
  /** The commit Render builds (API mode); default: the latest commit of the service's branch. */
  commit?: string;
  clearCache?: boolean;
  wait: boolean;
  timeoutMinutes?: number;
  pollSeconds?: number;
}

/** `lakehouse deploy`: the app to the profile's Render service, followed until it is live (src/stages/deploy.ts). */
export async function runDeployStage(
  ctx: PipelineContext,
  request: DeployRequest,
): Promise<DeployResult | undefined> {
  const where = `profiles.${ctx.resolved.profileName}.render`;
  const render = ctx.resolved.profile.render;
  const mode = render?.serviceId ? 'api' : render?.deployHookUrl ? 'hook' : undefined;
  if (!render || !mode)
    throw new StageFailedError(
      `${where}: expected serviceId (with apiKey) or deployHookUrl to deploy the app to Render, found ${render ? 'neither' : 'no render section'}`,
    );
  const target =
    mode === 'api'
      ? `Render service ${render.serviceId} (${request.commit ? `commit ${request.commit}` : 'latest commit of its branch'})`
      : "the Render service's deploy hook (latest commit of its branch)";
  ctx.log.info(`deploy: the app to ${target}${ctx.dryRun ? ' (dry run: nothing sent)' : ''}`);
  if (ctx.dryRun) return undefined;
  if (mode === 'api' && !render.apiKey)
    throw new StageFailedError(`${where}.apiKey: expected a Render API key (as \${env:NAME}), found nothing`);
  // Ctrl-C stops following the deploy; the deploy itself goes on on Render.
  const stop = abortOnSignals((signal) => ctx.log.warn(`${signal}: no longer following the Render deploy`));
  try {
    const result = await deployRender({
      render: {
        apiKey: mode === 'api' ? render.apiKey : undefined,
        serviceId: mode === 'api' ? render.serviceId : undefined,
        hookUrl: mode === 'hook' ? render.deployHookUrl : undefined,
        baseUrl: render.apiUrl,
      },
      commit: request.commit,
      clearCache: request.clearCache,
      wait: request.wait,
      pollMs: request.pollSeconds === undefined ? undefined : request.pollSeconds * 1000,
      timeoutMs: (request.timeoutMinutes ?? 15) * 60_000,
      signal: stop.signal,
      log: ctx.log,
    });
    ctx.log.info(`deploy: ${result.status}${result.url ? ` at ${result.url}` : ''}`);
    return result;
  } catch (e) {
    throw new StageFailedError(errorMessage(e));
  } finally {
    stop.dispose();
  }
}
