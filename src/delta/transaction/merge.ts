// MERGE INTO a table, copy-on-write: files holding target rows that match the ON condition (every file with
// WHEN NOT MATCHED BY SOURCE) are read into a temporary table, DuckDB's own MERGE runs there, and its rows
// replace those files. With inserts only, the matched files stay and only the new rows are written.
import type { DuckDBConnection } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import { writeDataFiles } from '../files.ts';
import type { Snapshot } from '../snapshot.ts';
import type { DeltaStorage } from '../storage.ts';
import type { DeltaTable } from '../table.ts';
import { scanSql } from '../view.ts';
import { tableColumns, trimQuery } from './columns.ts';
import type { MergeTail } from './merge-statement.ts';
import { parseMergeTail } from './merge-statement.ts';
import type { CommonWriteOptions, WriteResult } from './operation.ts';
import { commitOperation, removeOf } from './operation.ts';
import { FILE_COLUMN, openTarget, withTargetView } from './target.ts';
import { checkInvariants, checkNotAppendOnly } from './validation.ts';

export interface MergeOptions extends CommonWriteOptions {
  /** The alias the statement uses for the target table, e.g. `t`. */
  targetAlias: string;
  /**
   * The MERGE after the target: `USING <source> [AS] s ON <condition> WHEN …`, in DuckDB's MERGE syntax
   * (UPDATE SET takes unqualified target columns). `INSERT *` and `UPDATE SET *` match columns by name, as in
   * Spark.
   */
  statementTail: string;
}

export interface MergeResult extends WriteResult {
  inserted: number;
  updated: number;
  deleted: number;
}

/** What DuckDB's MERGE did to the temporary table, which held `before` rows. */
interface MergeCounts {
  before: number;
  inserted: number;
  updated: number;
  deleted: number;
}

/** The temporary table the merge ran on, and the target's files it was filled from. */
interface MergedRows {
  temp: string;
  files: string[];
  counts: MergeCounts;
}

/**
 * MERGE INTO the table (copy-on-write). Files holding target rows that match some source row are read into a
 * temporary table, DuckDB's own MERGE runs on it, and its rows replace those files; unmatched files stay.
 */
export async function mergeDelta(
  conn: DuckDBConnection,
  location: string | DeltaStorage,
  options: MergeOptions,
): Promise<MergeResult> {
  const { table, snapshot } = await openTarget(conn, location);
  const tail = parseMergeTail(trimQuery(options.statementTail));
  const alias = options.targetAlias.trim();
  if (!/^([A-Za-z_][A-Za-z0-9_]*|"(?:[^"]|"")+")$/.test(alias)) {
    throw new Error(`mergeDelta: targetAlias must be an identifier, found "${options.targetAlias}"`);
  }
  const files = await withTargetView(conn, snapshot, (view) => matchedFiles(conn, view, alias, tail));
  // Only the affected files are read into the temporary table that DuckDB's MERGE then changes.
  const temp = `__delta_merge_${randomUUID().replace(/-/g, '')}`;
  await conn.run(
    `CREATE TEMP TABLE ${temp} AS ${await scanSql(conn, snapshot, { onlyFiles: new Set(files) })}`,
  );
  try {
    await checkOneSourceRowPerTarget(conn, temp, alias, tail, table.location);
    const counts = await mergeInto(conn, temp, alias, tail);
    if (counts.inserted + counts.updated + counts.deleted === 0) {
      return {
        version: snapshot.version,
        files: 0,
        rows: 0,
        committed: false,
        inserted: 0,
        updated: 0,
        deleted: 0,
      };
    }
    return await commitMerge(conn, table, snapshot, { temp, files, counts }, tail, options);
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${temp}`);
  }
}

/** The target's files that hold rows the merge may change. */
async function matchedFiles(
  conn: DuckDBConnection,
  view: string,
  alias: string,
  tail: MergeTail,
): Promise<string[]> {
  const matching = tail.matchesBySource
    ? `SELECT DISTINCT ${FILE_COLUMN} FROM ${view}`
    : `SELECT DISTINCT ${alias}.${FILE_COLUMN} FROM ${view} AS ${alias} JOIN ${tail.source} ON ${tail.condition}`;
  return (await conn.runAndReadAll(matching)).getRows().map(([f]) => String(f));
}

/**
 * Refuses a MERGE in which several source rows match one target row, as Delta Lake does
 * (DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE): which source row would update or delete that row is
 * undefined, and DuckDB's MERGE would silently apply each of them. Like Delta, the ON condition alone decides
 * (clause conditions do not), inserts-only merges change no target row, and a lone unconditional WHEN MATCHED
 * THEN DELETE removes the row whichever source row matched it.
 */
async function checkOneSourceRowPerTarget(
  conn: DuckDBConnection,
  temp: string,
  alias: string,
  tail: MergeTail,
  location: string,
): Promise<void> {
  if (tail.insertsOnly || tail.onlyUnconditionalDelete) return;
  const keys = targetColumnsOf(tail.condition, alias);
  const keyValues = keys.map((k, i) => `any_value(${alias}.${k}) AS k${i}`);
  const duplicate = await conn.runAndReadAll(
    `SELECT count(*) AS matches${keyValues.map((k) => `, ${k}`).join('')}
     FROM ${temp} AS ${alias} JOIN ${tail.source} ON ${tail.condition}
     GROUP BY ${alias}.rowid HAVING count(*) > 1 LIMIT 1`,
  );
  const row = duplicate.getRows()[0];
  if (!row) return;
  const key = keys.map((k, i) => `${alias}.${k} = ${sqlLiteral(row[i + 1])}`).join(', ');
  throw new Error(
    `mergeDelta: DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE: ${String(row[0])} source rows match the ` +
      `same target row of ${location} (${key || 'a row'}) under ON ${tail.condition}; a MERGE that updates or ` +
      `deletes matched rows needs at most one source row per target row. Deduplicate the source on the key.`,
  );
}

/** The target columns the ON condition names as `<alias>.<column>`, each once, for the error's key. */
function targetColumnsOf(condition: string, alias: string): string[] {
  const escaped = alias.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`(?<![A-Za-z0-9_."])${escaped}\\.("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)`, 'gi');
  return [...new Set([...condition.matchAll(pattern)].map((m) => m[1]!))];
}

function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  return typeof value === 'string' ? `'${value.replace(/'/g, "''")}'` : String(value);
}

async function mergeInto(
  conn: DuckDBConnection,
  temp: string,
  alias: string,
  tail: MergeTail,
): Promise<MergeCounts> {
  const before = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${temp}`)).getRows()[0]![0]);
  const merged = await conn.runAndReadAll(
    `MERGE INTO ${temp} AS ${alias} ${tail.duckdbTail} RETURNING merge_action`,
  );
  const counts: Record<string, number> = { INSERT: 0, UPDATE: 0, DELETE: 0 };
  for (const [action] of merged.getRows()) counts[String(action)] = (counts[String(action)] ?? 0) + 1;
  return { before, inserted: counts.INSERT!, updated: counts.UPDATE!, deleted: counts.DELETE! };
}

/** Writes the merged rows as new files and commits them in place of the files they were read from. */
async function commitMerge(
  conn: DuckDBConnection,
  table: DeltaTable,
  snapshot: Snapshot,
  { temp, files, counts }: MergedRows,
  tail: MergeTail,
  options: CommonWriteOptions,
): Promise<MergeResult> {
  // With inserts only, the matched files are unchanged: keep them and write just the new rows, which DuckDB
  // appended after the `before` rows that the temporary table was created with.
  const insertsOnly = counts.updated + counts.deleted === 0;
  if (!insertsOnly) checkNotAppendOnly(snapshot, 'MERGE');
  const output = insertsOnly
    ? `SELECT * FROM ${temp} WHERE rowid >= ${counts.before}`
    : `SELECT * FROM ${temp}`;
  await checkInvariants(conn, output, snapshot.schema, table.location);
  const { data, partitions } = tableColumns(snapshot);
  const written = await writeDataFiles(conn, table.storage, output, data, partitions);
  const now = Date.now();
  const removed = insertsOnly ? [] : files.map((f) => removeOf(snapshot.state.files.get(f)!, now));
  const request = {
    readVersion: snapshot.version,
    actions: [...removed.map((remove) => ({ remove })), ...written.adds.map((add) => ({ add }))],
    operation: 'MERGE',
    operationParameters: { predicate: JSON.stringify([tail.condition]) },
    operationMetrics: {
      numTargetRowsInserted: counts.inserted,
      numTargetRowsUpdated: counts.updated,
      numTargetRowsDeleted: counts.deleted,
      numTargetRowsCopied: insertsOnly ? 0 : counts.before - counts.updated - counts.deleted,
      numOutputRows: written.rows,
      numTargetFilesRemoved: removed.length,
      numTargetFilesAdded: written.adds.length,
    },
    isBlindAppend: false,
    userMetadata: options.userMetadata,
  };
  const { version, checkpoint } = await commitOperation(conn, table, request, options);
  const { inserted, updated, deleted } = counts;
  return {
    version,
    files: written.adds.length,
    rows: written.rows,
    committed: true,
    inserted,
    updated,
    deleted,
    checkpoint,
  };
}
