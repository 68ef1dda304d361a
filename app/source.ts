// The one interface the app reads its data through. Two implementations: local Delta tables through DuckDB
// (sources/local.ts) and a Databricks SQL warehouse (sources/databricks.ts). The API (api/) runs the same SQL
// (sql.ts) on either and normalises the values, so both give identical answers.
import type { TableName } from './sql.ts';

/** A value as a source returns it: 64-bit integers as numbers, DATE and TIMESTAMP as Dates (UTC). */
export type SourceValue =
  string | number | boolean | Date | null | SourceValue[] | { [key: string]: SourceValue };
export type SourceRow = Record<string, SourceValue>;
export type SourceParam = string | number | boolean | null;

export interface TableVersion {
  version: number;
  /** When that version was committed (ISO-8601). */
  committedAt: string;
}

export interface HistoryEntry {
  version: number;
  committedAt: string;
  operation: string;
  /** Rows written by the commit, when the writer recorded it. */
  rowsWritten: number | null;
}

/** The last pipeline run, from the stage manifests. */
export interface RunSummary {
  stages: { stage: string; runId: string; startedAt: string; finishedAt: string }[];
}

export interface DataSource {
  readonly kind: 'local' | 'databricks';
  /** Runs `sql` (from sql.ts) over the latest versions of the tables; `:name` markers take `params`. */
  query(sql: string, params?: Record<string, SourceParam>): Promise<SourceRow[]>;
  /** The latest version of every table the source has (tables that do not exist are left out). */
  versions(): Promise<Partial<Record<TableName, TableVersion>>>;
  /** A table's commits, newest first. */
  history(table: TableName): Promise<HistoryEntry[]>;
  /** Runs `makeSql(from)` where `from` names `table` as it was at `version`. */
  queryAt(
    table: TableName,
    version: number,
    makeSql: (from: string) => string,
    params?: Record<string, SourceParam>,
  ): Promise<SourceRow[]>;
  /** The last pipeline run, when the source can see the run manifests. */
  lastRun(): Promise<RunSummary | null>;
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
