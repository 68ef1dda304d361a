// The pipeline as the CLI runs it: config → stage → manifest → next stage. Each function opens what its stage
// needs, runs the stage function from src/stages, writes the manifest and prints a summary that says why.
import fs from 'node:fs';
import { glob } from 'tinyglobby';
import { openBucket } from '../bucket/index.ts';
import { configPath, findDataset, type ResolvedConfig } from '../config/load.ts';
import type { DatasetConfig } from '../config/schema.ts';
import { generateGroceries } from '../generate/groceries.ts';
import { openSqlStore } from '../sql/index.ts';
import { ingest, type IngestManifest } from '../stages/ingest.ts';
import { datasetPrefix, load, loadTables, type LoadManifest } from '../stages/load.ts';
import { writeManifest } from '../stages/manifest.ts';
import type { Logger } from '../util/log.ts';
import { progress } from '../util/progress.ts';
import type { RunInfo } from '../util/run.ts';
import { formatBytes, textTable } from '../util/table.ts';

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
