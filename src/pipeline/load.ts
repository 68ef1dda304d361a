// Load, run once for the CLI and the load action: a plan (bucket, SQL target, datasets, objects) from lakehouse.yml,
// which an action's inputs may override; the run opens the bucket and the store, loads through the load stage
// (src/stages/load.ts), writes the manifest, and returns the report and the verdict.
import fs from 'node:fs';
import path from 'node:path';
import { openBucket } from '../bucket/index.ts';
import { configPath, type ResolvedConfig } from '../config/load.ts';
import type { DatasetConfig, SqlTargetConfig } from '../config/schema.ts';
import type { StoreOptions } from '../sql/index.ts';
import { QUARANTINE_TABLE, type SqlSession } from '../sql/types.ts';
import type { ObjectLoad } from '../sql/plan.ts';
import { load, type LoadManifest } from '../stages/load.ts';
import { count, formatDuration, formatNumber, someOf } from '../util/format.ts';
import { recordManifest, type RunContext } from './context.ts';
import {
  failure,
  LISTING_ROWS,
  listing,
  note,
  ok,
  table,
  type ReportBlock,
  type StageOutcome,
  type StageReport,
  type Verdict,
} from './report.ts';

export interface LoadPlan {
  /** The folder file:// buckets and PGlite paths are relative to. */
  root: string;
  bucket: string;
  target: SqlTargetConfig;
  datasets: DatasetConfig[];
  /** The ingest destination template: where each dataset's objects are. */
  destination: string;
  /** Only these objects (e.g. from an ingest manifest) instead of every object under each dataset's prefix. */
  objects?: string[];
  batchRows: number;
  /** An object quarantining more than this share of its rows fails the verdict (load.maxQuarantineShare). */
  maxQuarantineShare?: number;
  /** The folder of the run manifests. */
  manifests: string;
}

/**
 * Opens a session on the SQL target: the CLI passes openSqlStore (PGlite included), the load action a network-only
 * opener, so that its bundle never holds PGlite.
 */
export type StoreOpener = (
  target: SqlTargetConfig,
  root: string,
  options: StoreOptions,
) => Promise<SqlSession>;

/** What lakehouse.yml says to load: the profile's bucket into its SQL target, objects named as ingest names them. */
export function loadPlan(resolved: ResolvedConfig, datasets: DatasetConfig[]): LoadPlan {
  return {
    root: resolved.root,
    bucket: resolved.profile.bucket,
    target: resolved.profile.sql,
    datasets,
    destination: resolved.config.ingest.destination,
    batchRows: resolved.config.load.batchRows,
    maxQuarantineShare: resolved.config.load.maxQuarantineShare,
    manifests: configPath(resolved, resolved.profile.manifests),
  };
}

export async function runLoad(
  plan: LoadPlan,
  ctx: RunContext,
  openStore: StoreOpener,
): Promise<StageOutcome<LoadManifest>> {
  const { target } = plan;
  // A PGlite store that is not there yet: opening it creates it (PGlite's initdb, seconds of work).
  const newStore = target.engine === 'pglite' && !fs.existsSync(path.resolve(plan.root, target.path));
  if (ctx.dryRun && newStore) {
    // Opening it would create it, and a dry run changes nothing.
    ctx.log.info(
      `load (dry run): the PGlite store ${target.path} does not exist yet; every object in the bucket would be loaded`,
    );
    return { report: { stage: 'load', dryRun: true, title: loadTitle(true), blocks: [] }, verdict: ok };
  }
  const bucket = await openBucket(plan.bucket, plan.root, { log: ctx.log });
  // Said, so that a first run's seconds of creating the store do not pass without a word.
  if (newStore) ctx.log.info(`load: creating the PGlite store ${target.path} (the first run only)`);
  const opening = performance.now();
  const session = await openStore(target, plan.root, {
    batchRows: plan.batchRows,
    retry: { onRetry: (message) => ctx.log.warn(message) },
  });
  if (newStore)
    ctx.log.info(`load: PGlite store created in ${formatDuration((performance.now() - opening) / 1000)}`);
  let manifest: LoadManifest;
  try {
    manifest = await load({
      session,
      bucket,
      datasets: plan.datasets,
      destination: plan.destination,
      run: ctx.run,
      objects: plan.objects,
      dryRun: ctx.dryRun,
      log: ctx.log,
      progress: ctx.progress?.('load'),
    });
  } finally {
    await session.close();
  }
  const manifestPath = await recordManifest(plan.manifests, manifest, ctx);
  const share = plan.maxQuarantineShare ?? 0.05;
  const overShare = mostlyQuarantined(manifest, share);
  for (const o of overShare)
    ctx.log.warn(
      `${o.name}: ${o.rowsQuarantined} of ${o.rowsIn} rows quarantined (${percent(o.rowsQuarantined / o.rowsIn)}), more than load.maxQuarantineShare (${percent(share)}): is the file what the dataset's columns say?`,
    );
  return {
    result: manifest,
    manifestPath,
    report: loadReport(manifest, manifestPath),
    verdict: loadVerdict(manifest, overShare, share),
  };
}

/** Objects loaded in this run that quarantined more than `share` of their rows. */
function mostlyQuarantined(m: LoadManifest, share: number): ObjectLoad[] {
  return m.datasets
    .flatMap((d) => d.objects)
    .filter((o) => o.status === 'loaded' && o.rowsIn > 0 && o.rowsQuarantined / o.rowsIn > share);
}

/** One line per cause of failure, naming the objects (the first few, and how many): not one per object. */
function loadVerdict(m: LoadManifest, overShare: ObjectLoad[], share: number): Verdict {
  const failed = m.totals.failed;
  if (failed) {
    const byCause = new Map<string, string[]>();
    for (const o of m.datasets.flatMap((d) => d.objects))
      if (o.status === 'failed') byCause.set(o.reason, [...(byCause.get(o.reason) ?? []), o.name]);
    const causes = [...byCause].map(([reason, names]) =>
      names.length === 1
        ? `${names[0]}: ${reason}`
        : `${count(names.length, 'object')} (${someOf(names)}): ${reason}`,
    );
    return failure(
      `${count(failed, 'object')} failed and ${failed === 1 ? 'was' : 'were'} rolled back (the next run loads ${failed === 1 ? 'it' : 'them'}): ${causes.join('; ')}`,
    );
  }
  if (overShare.length)
    return failure(
      `${count(overShare.length, 'object')} quarantined more than ${percent(share)} of ${overShare.length === 1 ? 'its' : 'their'} rows (load.maxQuarantineShare): ${overShare.map((o) => `${o.name}: ${formatNumber(o.rowsQuarantined)} of ${count(o.rowsIn, 'row')} (${percent(o.rowsQuarantined / o.rowsIn)})`).join('; ')}`,
    );
  return ok;
}

function percent(share: number): string {
  return `${Number((share * 100).toPrecision(3))}%`;
}

export function loadReport(m: LoadManifest, manifestPath?: string): StageReport {
  const t = m.totals;
  const blocks: ReportBlock[] = [
    note(`target: ${m.target}`),
    note(`bucket: ${m.bucket}`),
    note(`run: ${m.runId}`),
    datasetTable(m),
  ];
  if (!m.dryRun)
    blocks.push(
      note(
        `rows in = rows loaded + rows quarantined: ${formatNumber(t.rowsIn)} = ${formatNumber(t.rowsLoaded)} + ${formatNumber(t.rowsQuarantined)}`,
      ),
    );
  const problems = new Map<string, number>();
  for (const o of m.datasets.flatMap((d) => d.objects))
    for (const [kind, n] of Object.entries(o.problems)) problems.set(kind, (problems.get(kind) ?? 0) + n);
  if (problems.size)
    blocks.push(
      note(
        `quarantined (see table ${QUARANTINE_TABLE}): ${[...problems].map(([k, n]) => `${formatNumber(n)} ${k}`).join(', ')}`,
      ),
    );
  if (!m.dryRun && t.loaded === 0 && t.skipped > 0 && t.failed === 0)
    blocks.push(
      note(
        `0 rows loaded: ${t.skipped === 1 ? 'the only object was' : `all ${formatNumber(t.skipped)} objects were`} already loaded (the audit table has ${t.skipped === 1 ? 'it' : 'them'} with the same MD5).`,
      ),
    );
  blocks.push(objectListing(m));
  if (manifestPath) blocks.push(note(`manifest: ${manifestPath}`));
  return { stage: 'load', dryRun: m.dryRun, title: loadTitle(m.dryRun), blocks };
}

function loadTitle(dryRun: boolean): string {
  return `Load${dryRun ? ' (dry run: nothing written)' : ''}`;
}

function datasetTable(m: LoadManifest) {
  const columns = ['dataset', 'table', 'mode', 'objects', 'loaded', 'skipped', 'failed', 'withdrawn'];
  return table(
    [...columns, 'rows in', 'rows loaded', 'rows quarantined', 'rows replaced'],
    m.datasets.map((d) => [
      d.dataset,
      d.table,
      d.mode,
      d.totals.objects,
      d.totals.loaded,
      d.totals.skipped,
      d.totals.failed,
      d.totals.withdrawn,
      d.totals.rowsIn,
      d.totals.rowsLoaded,
      d.totals.rowsQuarantined,
      d.totals.rowsReplaced,
    ]),
  );
}

/** Failures first; the log listed every object as it was loaded. */
function objectListing(m: LoadManifest) {
  const objects = m.datasets
    .flatMap((d) => d.objects)
    .sort((a, b) => Number(b.status === 'failed') - Number(a.status === 'failed'));
  return listing(
    ['object', 'status', 'rows in', 'loaded', 'quarantined', 'problems', 'reason'],
    objects.map((o) => [
      o.name,
      o.status,
      o.rowsIn,
      o.rowsLoaded,
      o.rowsQuarantined,
      Object.entries(o.problems)
        .map(([kind, n]) => `${kind}: ${formatNumber(n)}`)
        .join(', '),
      o.reason,
    ]),
    LISTING_ROWS,
  );
}
