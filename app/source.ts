// The one interface the app reads its data through. Two implementations: local Delta tables through DuckDB
// (sources/local.ts) and a Databricks SQL warehouse (sources/databricks.ts). The API (api/) runs the same SQL
// (sql.ts) on either and normalises the values, so both give identical answers.
import type { StageManifest } from './sources/manifests.ts';
import type { TableName } from './sql.ts';

/** A value as a source returns it: 64-bit integers as numbers, DATE and TIMESTAMP as Dates (UTC). */
export type SourceValue =
  string | number | boolean | Date | null | SourceValue[] | { [key: string]: SourceValue };
export type SourceRow = Record<string, SourceValue>;
export type SourceParam = string | number | boolean | null;

export interface TableVersion {
  /** The version served: the one the last successful pipeline run wrote (or the latest, without run manifests). */
  version: number;
  /** When that version was committed (ISO-8601). */
  committedAt: string;
  /** The table's latest version, newer than `version` when a later run failed or is still running. */
  latestVersion: number;
}

export interface HistoryEntry {
  version: number;
  committedAt: string;
  operation: string;
  /** Rows written by the commit, when the writer recorded it. */
  rowsWritten: number | null;
}

/** A column as the table's schema has it: Spark SQL's type name, and its comment when it has one. */
export interface ColumnInfo {
  name: string;
  type: string;
  comment: string | null;
}

export interface DataSource {
  readonly kind: 'local' | 'databricks';
  /** Runs `sql` (from sql.ts) over the served versions of the tables; `:name` markers take `params`. */
  query(sql: string, params?: Record<string, SourceParam>): Promise<SourceRow[]>;
  /** The served and latest version of every table the source has (tables that do not exist are left out). */
  versions(): Promise<Partial<Record<TableName, TableVersion>>>;
  /** A table's commits, newest first. */
  history(table: TableName): Promise<HistoryEntry[]>;
  /** A table's columns at `version` (a warehouse gives those of the latest version). */
  columns(table: TableName, version: number): Promise<ColumnInfo[]>;
  /** Runs `makeSql(from)` where `from` names `table` as it was at `version`. */
  queryAt(
    table: TableName,
    version: number,
    makeSql: (from: string) => string,
    params?: Record<string, SourceParam>,
  ): Promise<SourceRow[]>;
  /** The pipeline's run manifests, when the source can see them (an empty list when it cannot). */
  manifests(): Promise<StageManifest[]>;
  close(): Promise<void>;
}

/** Why a source failed: on `unreachable` and `timeout` the app keeps serving its last good data. */
export type SourceErrorReason = 'unreachable' | 'timeout' | 'unauthorized' | 'query' | 'not-found';

export class SourceError extends Error {
  override name = 'SourceError';
  readonly reason: SourceErrorReason;
  constructor(reason: SourceErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

export function isOutage(error: unknown): boolean {
  return error instanceof SourceError && (error.reason === 'unreachable' || error.reason === 'timeout');
}
