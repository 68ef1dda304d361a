// DELETE by a DuckDB predicate, copy-on-write: files where every row matches are removed, files where some
// rows match are rewritten without them, and files with no match stay as they are.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { WrittenFiles } from '../files.ts';
import { writeDataFiles } from '../files.ts';
import type { Snapshot } from '../snapshot.ts';
import type { DeltaStorage } from '../storage.ts';
import type { DeltaTable } from '../table.ts';
import { scanSql } from '../view.ts';
import { tableColumns } from './columns.ts';
import type { CommonWriteOptions, WriteResult } from './operation.ts';
import { commitOperation, removeOf } from './operation.ts';
import { FILE_COLUMN, openTarget, withTargetView } from './target.ts';
import { checkNotAppendOnly } from './validation.ts';

export interface DeleteResult extends WriteResult {
  deletedRows: number;
}

interface AffectedFile {
  path: string;
  deleted: number;
  total: number;
}

/** Deletes the rows for which the DuckDB predicate `predicateSql` is true, rewriting only the files that hold them. */
export async function deleteWhere(
  conn: DuckDBConnection,
  location: string | DeltaStorage,
  predicateSql: string,
  options: CommonWriteOptions = {},
): Promise<DeleteResult> {
  const { table, snapshot } = await openTarget(conn, location);
  checkNotAppendOnly(snapshot, 'DELETE');
  const predicate = `(${predicateSql})`;
  const affected = await withTargetView(conn, snapshot, (view) => affectedFiles(conn, view, predicate));
  if (affected.length === 0) {
    return { version: snapshot.version, files: 0, rows: 0, committed: false, deletedRows: 0 };
  }
  const deletedRows = affected.reduce((n, f) => n + f.deleted, 0);
  const written = await rewriteKeptRows(conn, table, snapshot, affected, predicate);
  const now = Date.now();
  const removed = affected.map((f) => removeOf(snapshot.state.files.get(f.path)!, now));
  const request = {
    readVersion: snapshot.version,
    actions: [...removed.map((remove) => ({ remove })), ...written.adds.map((add) => ({ add }))],
    operation: 'DELETE',
    operationParameters: { predicate: JSON.stringify([predicateSql]) },
    operationMetrics: {
      numRemovedFiles: removed.length,
      numAddedFiles: written.adds.length,
      numDeletedRows: deletedRows,
      numCopiedRows: written.rows,
    },
    isBlindAppend: false,
    userMetadata: options.userMetadata,
  };
  const { version, checkpoint } = await commitOperation(conn, table, request, options);
  return {
    version,
    files: written.adds.length,
    rows: written.rows,
    committed: true,
    deletedRows,
    checkpoint,
  };
}

/** The files holding rows the predicate deletes, with how many of their rows it deletes. */
async function affectedFiles(
  conn: DuckDBConnection,
  view: string,
  predicate: string,
): Promise<AffectedFile[]> {
  const counts = await conn.runAndReadAll(
    `SELECT ${FILE_COLUMN}, count(*) FILTER (WHERE ${predicate}) AS deleted, count(*) AS total ` +
      `FROM ${view} GROUP BY ${FILE_COLUMN} HAVING count(*) FILTER (WHERE ${predicate}) > 0`,
  );
  return counts.getRows().map(([file, deleted, total]) => ({
    path: String(file),
    deleted: Number(deleted),
    total: Number(total),
  }));
}

/** Writes again the rows the predicate keeps, from the affected files that keep any. */
async function rewriteKeptRows(
  conn: DuckDBConnection,
  table: DeltaTable,
  snapshot: Snapshot,
  affected: AffectedFile[],
  predicate: string,
): Promise<WrittenFiles> {
  const rewrite = new Set(affected.filter((f) => f.deleted < f.total).map((f) => f.path));
  if (rewrite.size === 0) return { adds: [], rows: 0, bytes: 0 };
  const { data, partitions } = tableColumns(snapshot);
  const kept = await scanSql(conn, snapshot, { onlyFiles: rewrite });
  const query = `SELECT * FROM (${kept}) AS kept WHERE NOT coalesce(${predicate}, false)`;
  return writeDataFiles(conn, table.storage, query, data, partitions);
}
