// The table a DELETE or MERGE changes: its latest snapshot, checked writable, and its rows as a DuckDB view
// that carries the data file each row came from, so that only the files holding affected rows are rewritten.
import type { DuckDBConnection } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import type { Snapshot } from '../snapshot.ts';
import type { DeltaStorage } from '../storage.ts';
import type { DeltaTable } from '../table.ts';
import { openDeltaTable } from '../table.ts';
import { scanSql } from '../view.ts';
import { checkWritable } from './validation.ts';

/** The column of the target view naming each row's data file (its path as in the add action). */
export const FILE_COLUMN = '__delta_file';

export async function openTarget(
  conn: DuckDBConnection,
  location: string | DeltaStorage,
): Promise<{ table: DeltaTable; snapshot: Snapshot }> {
  const table = openDeltaTable(location, { conn });
  const snapshot = await table.snapshot();
  checkWritable(snapshot);
  return { table, snapshot };
}

/** Runs `use` with a temporary view of the snapshot's rows and their FILE_COLUMN, dropped afterwards. */
export async function withTargetView<T>(
  conn: DuckDBConnection,
  snapshot: Snapshot,
  use: (viewName: string) => Promise<T>,
): Promise<T> {
  const view = `__delta_target_${randomUUID().replace(/-/g, '')}`;
  await conn.run(`CREATE TEMP VIEW ${view} AS ${await scanSql(conn, snapshot, { fileColumn: FILE_COLUMN })}`);
  try {
    return await use(view);
  } finally {
    await conn.run(`DROP VIEW IF EXISTS ${view}`);
  }
}
