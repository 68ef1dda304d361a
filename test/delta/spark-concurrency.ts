// Our writer and Spark appending to one table at the same time (put-if-absent on the local file system).
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDeltaTable, writeDelta } from '../../src/delta/index.ts';
import type { SparkStatement } from '../helpers/spark.ts';
import { deltaPath } from './spark-rows.ts';

export const SPARK_INSERTS = 8;
const MAX_APPENDS = 150;

export interface ConcurrentRun {
  location: string;
  /** The versions our writer committed. */
  ours: number[];
}

/** Spark's side: one INSERT (one commit) per statement, first in the job. */
export function concurrentStatements(location: string): SparkStatement[] {
  return Array.from({ length: SPARK_INSERTS }, (_, i) => ({
    id: `concurrent/insert/${i}`,
    sql: `INSERT INTO ${deltaPath(location)} VALUES (${1000 + i}, 2, ${i})`,
    maxRows: 0,
  }));
}

/**
 * Our side: from Spark's first commit on, one-row appends one after another until Spark's inserts are all in the
 * log (or the job ended). Returns the versions our commits got.
 */
export async function concurrentAppends(
  conn: DuckDBConnection,
  location: string,
  job: Promise<unknown>,
): Promise<number[]> {
  let ended = false;
  void job.finally(() => (ended = true)).catch(() => undefined);
  const table = openDeltaTable(location);
  const sparkCommits = async () =>
    (await table.history()).filter((h) => h.engineInfo?.includes('Delta-Lake')).length;
  while (!ended && (await sparkCommits()) === 0) await new Promise((r) => setTimeout(r, 100));
  const versions: number[] = [];
  for (let n = 1; n <= MAX_APPENDS && !ended; n++) {
    const result = await writeDelta(conn, location, `SELECT ${n}::BIGINT AS id, 1 AS writer, ${n} AS n`, {
      mode: 'append',
    });
    versions.push(result.version);
    if ((await sparkCommits()) >= SPARK_INSERTS) break;
    // About as often as Spark commits, so that neither floods the log.
    await new Promise((r) => setTimeout(r, 150));
  }
  return versions;
}
