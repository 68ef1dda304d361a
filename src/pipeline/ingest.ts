// Ingest, run once for the CLI and the ingest action: a plan (sources, bucket, destination, settings) from
// lakehouse.yml, which an action's inputs may override; the run opens the bucket, uploads through the ingest stage
// (src/stages/ingest.ts), writes the manifest, and returns the report and the verdict.
import fs from 'node:fs';
import { openBucket, type GcsBucketOptions } from '../bucket/index.ts';
import { configPath, type ResolvedConfig } from '../config/load.ts';
import type { DatasetConfig, IngestSettings } from '../config/schema.ts';
import { ingest, type IngestManifest, type IngestSource } from '../stages/ingest.ts';
import { count, formatBytes, formatNumber } from '../util/format.ts';
import { recordManifest, type RunContext } from './context.ts';
import {
  failure,
  LISTING_ROWS,
  listing,
  note,
  ok,
  table,
  type Cell,
  type ReportBlock,
  type StageOutcome,
  type StageReport,
  type Verdict,
} from './report.ts';

export interface IngestPlan {
  sources: IngestSource[];
  /** file://<folder> (relative to `root`) or gs://<bucket>[/<prefix>]. */
  bucket: string;
  root: string;
  /** The object name template; the load finds the objects by the same one. */
  destination: string;
  settings: Omit<IngestSettings, 'destination'>;
  /** A gs:// bucket's credentials, project and retries. */
  gcs?: GcsBucketOptions;
  /** The folder of the run manifests. */
  manifests: string;
}

/** What lakehouse.yml says to ingest: each dataset's source folder and glob, to the profile's bucket. */
export function ingestPlan(resolved: ResolvedConfig, datasets: DatasetConfig[]): IngestPlan {
  const { destination, ...settings } = resolved.config.ingest;
  return {
    sources: datasets.map((d) => ({
      dataset: d.name,
      path: configPath(resolved, d.source.path),
      glob: d.source.glob,
    })),
    bucket: resolved.profile.bucket,
    root: resolved.root,
    destination,
    settings,
    manifests: configPath(resolved, resolved.profile.manifests),
  };
}

export async function runIngest(plan: IngestPlan, ctx: RunContext): Promise<StageOutcome<IngestManifest>> {
  const { settings } = plan;
  const bucket = await openBucket(plan.bucket, plan.root, {
    resumableThreshold: Math.round(settings.resumableThresholdMB * 1024 * 1024),
    log: ctx.log,
    ...plan.gcs,
  });
  const manifest = await ingest({
    sources: ctx.dryRun ? existingSources(plan.sources, ctx) : plan.sources,
    bucket,
    destination: plan.destination,
    run: ctx.run,
    concurrency: settings.concurrency,
    gzip: settings.gzip,
    skipUnchanged: settings.skipUnchanged,
    deleteMissing: settings.deleteMissing,
    dryRun: ctx.dryRun,
    log: ctx.log,
    progress: ctx.progress?.('ingest'),
  });
  const manifestPath = await recordManifest(plan.manifests, manifest, ctx);
  return {
    result: manifest,
    manifestPath,
    report: ingestReport(manifest, manifestPath),
    verdict: ingestVerdict(manifest),
  };
}

/** A dry run generates no sample, so a source folder that does not exist yet has nothing to plan. */
function existingSources(sources: IngestSource[], ctx: RunContext): IngestSource[] {
  return sources.filter((s) => {
    if (fs.existsSync(s.path)) return true;
    ctx.log.info(`ingest (dry run): dataset ${s.dataset}: no folder ${s.path} yet, nothing to plan`);
    return false;
  });
}

function ingestVerdict(m: IngestManifest): Verdict {
  const { conflicts, failed, files } = m.totals;
  if (conflicts + failed === 0) return ok;
  const first = m.objects.find((o) => o.status === 'conflict' || o.status === 'failed')!;
  return failure(
    `${count(conflicts, 'conflict')} and ${count(failed, 'failed upload')} of ${count(files, 'file')}; first: ${first.name}: ${first.reason}`,
  );
}

export function ingestReport(m: IngestManifest, manifestPath?: string): StageReport {
  const t = m.totals;
  const blocks: ReportBlock[] = [datasetTable(m)];
  if (!m.dryRun && t.uploaded === 0 && t.skipped > 0)
    blocks.push(
      note(
        `0 objects uploaded: ${t.skipped === 1 ? 'the only file is' : `all ${formatNumber(t.skipped)} files are`} unchanged since ${t.skipped === 1 ? 'it was' : 'they were'} uploaded (their MD5 matches the bucket's).`,
      ),
    );
  if (t.missing + t.deleted > 0)
    blocks.push(
      note(
        t.deleted
          ? `${count(t.deleted, 'object')} deleted because their source file is gone; the load withdraws their rows.`
          : `${count(t.missing, 'object')} whose source file is gone ${t.missing === 1 ? 'is' : 'are'} kept in the bucket (${t.missing === 1 ? 'its' : 'their'} rows stay loaded); ingest.deleteMissing: true deletes ${t.missing === 1 ? 'it' : 'them'}.`,
      ),
    );
  blocks.push(objectListing(m));
  if (manifestPath) blocks.push(note(`manifest: ${manifestPath} (run ${m.runId})`));
  return {
    stage: 'ingest',
    dryRun: m.dryRun,
    title: `Ingest → ${m.bucket}${m.dryRun ? ' (dry run)' : ''}`,
    blocks,
  };
}

/** A row per dataset; the time and throughput are the run's, so with several datasets a total row holds them. */
function datasetTable(m: IngestManifest) {
  const seconds = (Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000;
  const row = (name: string, objects: IngestManifest['objects'], timed: boolean): Cell[] => {
    const n = (status: string) => objects.filter((o) => o.status === status).length;
    const bytes = objects.filter((o) => o.status === 'uploaded').reduce((s, o) => s + o.size, 0);
    return [
      name,
      objects.length,
      n('uploaded'),
      n('skipped'),
      n('conflict'),
      n('failed'),
      ...(m.dryRun ? [n('planned')] : []),
      formatBytes(bytes),
      timed ? seconds.toFixed(1) : '',
      timed && seconds > 0 ? `${formatBytes(Math.round(bytes / seconds))}/s` : '',
    ];
  };
  const datasets = [...new Set(m.objects.map((o) => o.dataset))];
  const rows = datasets.map((d) =>
    row(
      d,
      m.objects.filter((o) => o.dataset === d),
      datasets.length === 1,
    ),
  );
  if (datasets.length !== 1) rows.push(row('total', m.objects, true));
  const columns = ['dataset', 'files', 'uploaded', 'skipped', 'conflicts', 'failed'];
  return table(
    [...columns, ...(m.dryRun ? ['planned'] : []), 'uploaded_bytes', 'seconds', 'throughput'],
    rows,
  );
}

/** Problems first, then what changed; unchanged files only as a count. */
function objectListing(m: IngestManifest) {
  const order = {
    conflict: 0,
    failed: 1,
    missing: 2,
    deleted: 3,
    uploaded: 4,
    planned: 5,
    skipped: 6,
  } as const;
  const shown = m.objects
    .filter((o) => o.status !== 'skipped')
    .sort((a, b) => order[a.status] - order[b.status] || a.name.localeCompare(b.name));
  return listing(
    ['status', 'object', 'size', 'generation', 'reason'],
    shown.map((o) => [o.status, o.name, formatBytes(o.size), o.generation ?? '', o.reason]),
    LISTING_ROWS,
    { empty: 'Nothing to upload: every file matches its object.' },
  );
}
