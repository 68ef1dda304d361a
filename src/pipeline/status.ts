// `lakehouse status`: what is in the bucket, what the SQL store has loaded (its audit table, by MD5), what waits,
// and how many rows each dataset has in its table and in quarantine.
import type { Bucket } from '../bucket/index.ts';
import { openBucket } from '../bucket/index.ts';
import type { ResolvedConfig } from '../config/load.ts';
import type { DatasetConfig } from '../config/schema.ts';
import { openSqlStore, type SqlSession } from '../sql/index.ts';
import { datasetPrefix, loadTables } from '../stages/load.ts';
import type { Logger } from '../util/log.ts';
import { formatBytes } from '../util/format.ts';
import { note, ok, table, type StageOutcome } from './report.ts';

export interface DatasetStatus {
  dataset: string;
  /** Objects under the dataset's prefix, and their bytes. */
  objects: number;
  bytes: number;
  /** Objects whose last load has their current MD5. */
  loaded: number;
  pending: number;
  table: string;
  rows: number;
  quarantined: number;
}

export async function storeStatus(
  resolved: ResolvedConfig,
  datasets: DatasetConfig[],
  log: Logger,
): Promise<StageOutcome<DatasetStatus[]>> {
  const bucket = await openBucket(resolved.profile.bucket, resolved.root, { log });
  const session = await openSqlStore(resolved.profile.sql, resolved.root, {
    batchRows: resolved.config.load.batchRows,
    brief: true,
  });
  try {
    const result: DatasetStatus[] = [];
    for (const dataset of datasets)
      result.push(await datasetStatus(session, bucket, dataset, resolved.config.ingest.destination));
    const rows = result.map((s) => [
      s.dataset,
      s.objects,
      formatBytes(s.bytes),
      s.loaded,
      s.pending,
      s.rows,
      s.quarantined,
    ]);
    const columns = [
      'dataset',
      'bucket objects',
      'size',
      'loaded',
      'pending',
      'rows in table',
      'quarantined',
    ];
    const report = {
      stage: 'status' as const,
      dryRun: false,
      title: 'Status',
      blocks: [note(`bucket: ${bucket.uri}`), note(`store: ${session.description}`), table(columns, rows)],
    };
    return { result, report, verdict: ok };
  } finally {
    await session.close();
  }
}

async function datasetStatus(
  session: SqlSession,
  bucket: Bucket,
  dataset: DatasetConfig,
  destination: string,
): Promise<DatasetStatus> {
  const tables = loadTables(dataset);
  for (const ddl of session.dialect.ensureTables(tables)) await session.execute(ddl);
  const status = { dataset: dataset.name, objects: 0, bytes: 0, loaded: 0, pending: 0, table: tables.target };
  // One statement for every object's last load, not one per object.
  const standing = await session.query<{ object_name: string; md5: string }>(
    session.dialect.standingLoads(tables, bucket.uri),
  );
  const loadedMd5 = new Map(standing.map((l) => [l.object_name, l.md5]));
  for await (const object of bucket.list(datasetPrefix(destination, dataset.name))) {
    status.objects++;
    status.bytes += object.size;
    if (loadedMd5.get(object.name) === object.md5) status.loaded++;
    else status.pending++;
  }
  const [counts] = await session.query<{ n: number | string }>(
    `SELECT count(*) AS n FROM ${session.dialect.table(tables.target)}`,
  );
  const quarantined = await session.query<{ dataset: string; n: number | string }>(
    `SELECT dataset, count(*) AS n FROM ${session.dialect.table(tables.quarantine)} GROUP BY dataset`,
  );
  return {
    ...status,
    rows: Number(counts!.n),
    quarantined: Number(quarantined.find((q) => q.dataset === dataset.name)?.n ?? 0),
  };
}
