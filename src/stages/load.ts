// Load: bucket objects → the SQL store, one transaction per object (see src/sql/plan.ts). Objects are found by
// listing the bucket under each dataset's prefix, so an object whose load failed in an earlier run is picked up
// by the next one, and an object already loaded is skipped by its audit row. An object loaded earlier and gone
// from the bucket since has its rows withdrawn (src/sql/withdraw.ts).
import picomatch from 'picomatch';
import { FileBucket } from '../bucket/file.ts';
import { datasetPrefix } from './ingest.ts';
import type { Bucket, BucketObject } from '../bucket/types.ts';
import type { DatasetConfig } from '../config/schema.ts';
import { loadObject, type LoadHooks, type ObjectLoad } from '../sql/plan.ts';
import { ensureLoadTables, moveBucketIdentity } from '../sql/tables.ts';
import {
  AUDIT_TABLE,
  QUARANTINE_TABLE,
  STAGING_META,
  type LoadTables,
  type SqlSession,
} from '../sql/types.ts';
import { withdrawObject } from '../sql/withdraw.ts';
import { consoleLogger, type Logger } from '../util/log.ts';
import { noProgress, type Progress } from '../util/progress.ts';
import type { RunInfo } from '../util/run.ts';
import type { Manifest } from './manifest.ts';

export { datasetPrefix } from './ingest.ts';

export interface LoadOptions {
  session: SqlSession;
  bucket: Bucket;
  datasets: DatasetConfig[];
  /** The ingest destination template: it tells where each dataset's objects are. */
  destination: string;
  run: RunInfo;
  /** Load only these object names (e.g. from an ingest manifest) instead of listing the bucket. */
  objects?: string[];
  dryRun?: boolean;
  hooks?: LoadHooks;
  log?: Logger;
  progress?: Progress;
}

export interface DatasetLoad {
  dataset: string;
  table: string;
  mode: 'append' | 'merge';
  objects: ObjectLoad[];
  totals: LoadTotals;
}

export interface LoadTotals {
  objects: number;
  loaded: number;
  skipped: number;
  failed: number;
  /** Objects gone from the bucket whose rows were withdrawn. */
  withdrawn: number;
  rowsIn: number;
  rowsLoaded: number;
  rowsQuarantined: number;
  rowsReplaced: number;
  blankLines: number;
}

export interface LoadManifest extends Manifest {
  stage: 'load';
  bucket: string;
  target: string;
  datasets: DatasetLoad[];
  totals: LoadTotals;
}

export async function load(options: LoadOptions): Promise<LoadManifest> {
  const { session, bucket, run, log = consoleLogger, progress = noProgress } = options;
  const startedAt = new Date().toISOString();
  const datasets: DatasetLoad[] = [];
  for (const dataset of options.datasets) {
    const tables = loadTables(dataset);
    if (!options.dryRun) await prepareTables(session, tables, bucket, log);
    const { objects, inBucket } = await datasetObjects(bucket, dataset, options);
    log.info(
      `load ${dataset.name}: ${objects.length} object(s) in ${bucket.uri} → ${tables.target} (${session.description})`,
    );
    const results: ObjectLoad[] = [];
    const report = (result: ObjectLoad) => {
      results.push(result);
      const counts =
        result.status === 'loaded'
          ? `: ${result.rowsIn} in = ${result.rowsLoaded} loaded + ${result.rowsQuarantined} quarantined`
          : '';
      (result.status === 'failed' ? log.error : log.info)(
        `  ${result.status.padEnd(7)} ${result.name}${counts} (${result.reason})`,
      );
    };
    for (const [i, object] of objects.entries()) {
      const label = `${i + 1}/${objects.length} ${object.name}`;
      report(
        await loadObject(session, tables, {
          bucketUri: bucket.uri,
          object,
          open: () => bucket.read(object.name, { generation: object.generation }),
          csv: dataset.csv,
          runId: run.id,
          dryRun: options.dryRun,
          hooks: options.hooks,
          onRows: (rows) => progress.update(`${label}: ${rows.toLocaleString('en-US')} rows`),
        }),
      );
    }
    for (const gone of await goneObjects(session, tables, bucket, inBucket, options.dryRun))
      report(
        await withdrawObject(session, tables, {
          bucketUri: bucket.uri,
          objectName: gone.object_name,
          generation: gone.generation,
          runId: run.id,
          dryRun: options.dryRun,
        }),
      );
    progress.done();
    datasets.push({
      dataset: dataset.name,
      table: tables.target,
      mode: tables.mode,
      objects: results,
      totals: sum(results),
    });
  }
  return {
    stage: 'load',
    runId: run.id,
    startedAt,
    finishedAt: new Date().toISOString(),
    dryRun: options.dryRun ?? false,
    bucket: bucket.uri,
    target: session.description,
    datasets,
    totals: sum(datasets.flatMap((d) => d.objects)),
  };
}

export function loadTables(dataset: DatasetConfig): LoadTables {
  // A key identifies a row, so an empty key is a bad record (quarantined while parsing), not a NULL key.
  const isKey = (name: string) => dataset.load.mode === 'merge' && dataset.keys.includes(name);
  const columns = dataset.columns.map((c) => (isKey(c.name) ? { ...c, nullable: false } : c));
  return {
    dataset: dataset.name,
    target: dataset.load.table ?? dataset.name,
    columns,
    keys: dataset.keys,
    mode: dataset.load.mode,
    audit: AUDIT_TABLE,
    quarantine: QUARANTINE_TABLE,
    staging: {
      name: 'lakehouse_staging',
      columns: [...STAGING_META, ...dataset.columns.map((c) => c.name)],
    },
  };
}

/** The objects to load, and the names of every object under the dataset's prefix (to tell what is gone). */
async function datasetObjects(
  bucket: Bucket,
  dataset: DatasetConfig,
  options: LoadOptions,
): Promise<{ objects: BucketObject[]; inBucket: Set<string> }> {
  const prefix = datasetPrefix(options.destination, dataset.name);
  const matches = picomatch(dataset.source.glob, {
    basename: !dataset.source.glob.includes('/'),
    dot: false,
  });
  const objects: BucketObject[] = [];
  const inBucket = new Set<string>();
  for await (const object of bucket.list(prefix)) {
    inBucket.add(object.name);
    if (!options.objects && matches(object.name.slice(prefix.length))) objects.push(object);
  }
  if (!options.objects) return { objects: objects.sort((a, b) => a.name.localeCompare(b.name)), inBucket };
  for (const name of options.objects.filter((n) => n.startsWith(prefix))) {
    const object = await bucket.stat(name);
    if (!object) throw new Error(`object ${name} is not in ${bucket.uri} (was it ingested?)`);
    objects.push(object);
  }
  return { objects, inBucket };
}

/**
 * Creates or updates the tables; and where the bucket was keyed on its absolute path by an earlier version (a
 * file:// bucket), re-keys the audit on the bucket as configured, so that nothing is loaded twice.
 */
async function prepareTables(
  session: SqlSession,
  tables: LoadTables,
  bucket: Bucket,
  log: Logger,
): Promise<void> {
  await ensureLoadTables(session, tables);
  if (!(bucket instanceof FileBucket) || bucket.absoluteUri === bucket.uri) return;
  const moved = await moveBucketIdentity(session, tables, bucket.absoluteUri, bucket.uri);
  if (moved) log.info(`load: ${moved} audit row(s) of ${bucket.absoluteUri} re-keyed on ${bucket.uri}`);
}

/**
 * Objects whose rows stand in the table but which are gone from the bucket: not listed under the prefix, and
 * not there when asked one by one (an object outside the prefix, or one written since the listing).
 */
async function goneObjects(
  session: SqlSession,
  tables: LoadTables,
  bucket: Bucket,
  inBucket: Set<string>,
  dryRun = false,
): Promise<{ object_name: string; generation: string }[]> {
  const standing = await session
    .query<{ object_name: string; generation: string }>(session.dialect.standingLoads(tables, bucket.uri))
    // A dry run creates no tables: on a new store nothing stands.
    .catch((e: unknown) => {
      if (dryRun) return [];
      throw e;
    });
  const gone = [];
  for (const load of standing)
    if (!inBucket.has(load.object_name) && !(await bucket.stat(load.object_name))) gone.push(load);
  return gone;
}

function sum(objects: ObjectLoad[]): LoadTotals {
  const count = (s: ObjectLoad['status']) => objects.filter((o) => o.status === s).length;
  const add = (k: keyof ObjectLoad & keyof LoadTotals) => objects.reduce((n, o) => n + (o[k] as number), 0);
  return {
    objects: objects.length,
    loaded: count('loaded'),
    skipped: count('skipped'),
    failed: count('failed'),
    withdrawn: count('withdrawn'),
    rowsIn: add('rowsIn'),
    rowsLoaded: add('rowsLoaded'),
    rowsQuarantined: add('rowsQuarantined'),
    rowsReplaced: add('rowsReplaced'),
    blankLines: add('blankLines'),
  };
}
