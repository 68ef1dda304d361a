// Load: bucket objects → the SQL store, one transaction per object (see src/sql/plan.ts). Objects are found by
// listing the bucket under each dataset's prefix, so an object whose load failed in an earlier run is picked up
// by the next one, and an object already loaded is skipped by its audit row.
import picomatch from 'picomatch';
import type { Bucket, BucketObject } from '../bucket/types.ts';
import type { DatasetConfig } from '../config/schema.ts';
import { loadObject, type LoadHooks, type ObjectLoad } from '../sql/plan.ts';
import { AUDIT_TABLE, QUARANTINE_TABLE, type LoadTables, type SqlSession } from '../sql/types.ts';
import { consoleLogger, type Logger } from '../util/log.ts';
import { noProgress, type Progress } from '../util/progress.ts';
import type { RunInfo } from '../util/run.ts';
import type { Manifest } from './manifest.ts';

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
    if (!options.dryRun) for (const ddl of session.dialect.ensureTables(tables)) await session.execute(ddl);
    const objects = await datasetObjects(bucket, dataset, options);
    log.info(
      `load ${dataset.name}: ${objects.length} object(s) in ${bucket.uri} → ${tables.target} (${session.description})`,
    );
    const results: ObjectLoad[] = [];
    for (const [i, object] of objects.entries()) {
      const label = `${i + 1}/${objects.length} ${object.name}`;
      const result = await loadObject(session, tables, {
        bucketUri: bucket.uri,
        object,
        open: () => bucket.read(object.name, { generation: object.generation }),
        csv: dataset.csv,
        runId: run.id,
        dryRun: options.dryRun,
        hooks: options.hooks,
        onRows: (rows) => progress.update(`${label}: ${rows.toLocaleString('en-US')} rows`),
      });
      results.push(result);
      const counts =
        result.status === 'loaded'
          ? `: ${result.rowsIn} in = ${result.rowsLoaded} loaded + ${result.rowsQuarantined} quarantined`
          : '';
      (result.status === 'failed' ? log.error : log.info)(
        `  ${result.status.padEnd(7)} ${object.name}${counts} (${result.reason})`,
      );
    }
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
      columns: ['lakehouse_line', 'lakehouse_reason', 'lakehouse_raw', ...dataset.columns.map((c) => c.name)],
    },
  };
}

/** The static part of the destination template for a dataset: `{dataset}/{file}` → `transactions/`. */
export function datasetPrefix(destination: string, dataset: string): string {
  const head = destination.replaceAll('{dataset}', dataset);
  const cut = head.indexOf('{');
  return cut === -1 ? head : head.slice(0, cut);
}

async function datasetObjects(
  bucket: Bucket,
  dataset: DatasetConfig,
  options: LoadOptions,
): Promise<BucketObject[]> {
  const prefix = datasetPrefix(options.destination, dataset.name);
  const matches = picomatch(dataset.source.glob, {
    basename: !dataset.source.glob.includes('/'),
    dot: false,
  });
  const objects: BucketObject[] = [];
  if (options.objects) {
    for (const name of options.objects.filter((n) => n.startsWith(prefix))) {
      const object = await bucket.stat(name);
      if (!object) throw new Error(`object ${name} is not in ${bucket.uri} (was it ingested?)`);
      objects.push(object);
    }
    return objects;
  }
  for await (const object of bucket.list(prefix))
    if (matches(object.name.slice(prefix.length))) objects.push(object);
  return objects.sort((a, b) => a.name.localeCompare(b.name));
}

function sum(objects: ObjectLoad[]): LoadTotals {
  const count = (s: ObjectLoad['status']) => objects.filter((o) => o.status === s).length;
  const add = (k: keyof ObjectLoad & keyof LoadTotals) => objects.reduce((n, o) => n + (o[k] as number), 0);
  return {
    objects: objects.length,
    loaded: count('loaded'),
    skipped: count('skipped'),
    failed: count('failed'),
    rowsIn: add('rowsIn'),
    rowsLoaded: add('rowsLoaded'),
    rowsQuarantined: add('rowsQuarantined'),
    rowsReplaced: add('rowsReplaced'),
    blankLines: add('blankLines'),
  };
}
