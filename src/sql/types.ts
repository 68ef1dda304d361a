// The contract between the load plan (shared by every engine) and one SQL engine: a session that runs
// statements and bulk-loads rows, and a dialect that writes the plan's statements in the engine's SQL.
import type { ColumnConfig } from '../config/schema.ts';

export type SqlEngine = 'pglite' | 'postgres' | 'mysql' | 'sqlserver';

export type SqlValue = string | number | bigint | boolean | null | Date;

export interface Statement {
  sql: string;
  params: SqlValue[];
}

export interface SqlSession {
  readonly engine: SqlEngine;
  readonly dialect: LoadDialect;
  /** A description safe to print (no password). */
  readonly description: string;
  query<T = Record<string, unknown>>(statement: Statement | string): Promise<T[]>;
  /** Runs a statement and returns the number of rows it changed. */
  execute(statement: Statement | string): Promise<number>;
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Streams rows, in batches, into `table` through the engine's bulk path; returns the number of rows written. */
  bulkLoad(table: StagingTable, rows: RowBatches): Promise<number>;
  /**
   * Append mode, one pass: streams good rows — the dataset's columns as the parser normalised them, then the
   * object name and the line number (the lineage) — straight into the target through the bulk path, each value
   * cast to its column as applyRows would cast it; returns the rows the engine reports written. `objectName` is
   * the name every row carries, for a bulk path that can send it once instead. Undefined where the engine stages
   * every row instead (see plan.ts).
   */
  appendRows?(t: LoadTables, rows: RowBatches, objectName: string): Promise<number>;
  /**
   * The table's rows as CSV, with its column types from the engine's catalog as DuckDB types (an error names a
   * column whose type has no exact DuckDB equivalent). Read `csv` to its end before the next statement on this
   * session: it streams over the session's connection. Not inside a transaction.
   */
  exportTable(table: TableName): Promise<TableExport>;
  close(): Promise<void>;
}

/** A table named in a notebook's extraction; no schema means the store's default (where the load writes). */
export interface TableName {
  schema?: string;
  name: string;
}

export interface ExportColumn {
  name: string;
  /** A DuckDB type name. */
  type: string;
}

/**
 * A table as CSV: a header line, then one line per row, RFC 4180 quoting; NULL is an unquoted empty field and
 * an empty string a quoted one ""; dates YYYY-MM-DD, timestamps ISO 8601 (with time zone: in UTC), decimals
 * exact, doubles as the shortest text that reads back the same, booleans true/false.
 */
export interface TableExport {
  /** The table as the catalog spells it. */
  table: { schema: string; name: string };
  columns: ExportColumn[];
  /** Chunks of the CSV text, produced as they are read: memory stays bounded whatever the table's size. */
  csv: AsyncIterable<Buffer>;
}

/** What the load plan works on: the dataset's target, the shared audit and quarantine tables, and staging. */
export interface LoadTables {
  dataset: string;
  target: string;
  columns: readonly ColumnConfig[];
  keys: readonly string[];
  mode: 'append' | 'merge';
  audit: string;
  quarantine: string;
  staging: StagingTable;
}

/**
 * Staging holds every record of one object as text: the typed columns, the line number, and for a record that
 * may be quarantined its reason, its text as shown and its bytes in hex (what arrived, NUL and all). Casting into
 * the target happens in SQL, inside the transaction. Rows arrive a batch at a time (one per chunk of the object
 * read), so that no row costs an await of its own.
 */
export type RowBatches = AsyncIterable<(string | null)[][]>;

export interface StagingTable {
  name: string;
  /** Column names in the order rows are given to bulkLoad. */
  columns: readonly string[];
}

export const STAGING_META = [
  'lakehouse_line',
  'lakehouse_reason',
  'lakehouse_raw',
  'lakehouse_raw_hex',
] as const;
export const LINEAGE = ['_source_object', '_source_line'] as const;
export const AUDIT_TABLE = 'lakehouse_load_audit';
export const QUARANTINE_TABLE = 'lakehouse_quarantine';

export interface AuditRecord {
  dataset: string;
  target: string;
  bucket: string;
  objectName: string;
  generation: string;
  md5: string;
  size: number;
  runId: string;
}

export interface AuditCounts {
  rowsIn: number;
  rowsLoaded: number;
  rowsQuarantined: number;
  rowsReplaced: number;
  blankLines: number;
}

/** A statement that marks staged rows as bad; the rows it changes are counted under `problem`. */
export interface RowCheck {
  problem: string;
  statement: Statement;
}

export interface LoadDialect {
  readonly engine: SqlEngine;
  quote(identifier: string): string;
  /** Schema-qualified, quoted table name. */
  table(name: string): string;
  /** DDL creating the target, audit and quarantine tables if they are missing. */
  ensureTables(t: LoadTables): string[];
  /** DDL creating the (temporary) staging table inside the transaction. */
  createStaging(t: LoadTables): string[];
  /** How statements refer to the staging table (a temporary table's name differs per engine). */
  staging(t: LoadTables): string;
  /** The last load of an object, to skip one already loaded: columns md5, generation, loaded_at. */
  lastLoad(t: LoadTables, bucket: string, objectName: string): Statement;
  /** Claims the object at the start of the transaction, so a concurrent load of it waits, then fails. */
  insertAudit(t: LoadTables, record: AuditRecord): Statement;
  /** Whether an error is the engine's unique-key violation (another load claimed the object first). */
  isUniqueViolation(error: unknown): boolean;
  /** The run that holds the audit row of `record`'s object and generation: column run_id. */
  claimant(t: LoadTables, record: AuditRecord): Statement;
  /**
   * Whether an error says that the object a DDL statement creates exists already: another session created it
   * at the same moment (CREATE … IF NOT EXISTS is not atomic in the catalog).
   */
  isDuplicateObject(error: unknown): boolean;
  /** Column n: 1 when `table` has `column`, else 0. */
  columnExists(table: string, column: string): Statement;
  /** DDL adding raw_bytes to a quarantine table created before it. */
  addQuarantineBytes(t: LoadTables): string;
  /**
   * The objects whose latest load in the audit is of this dataset's table from `bucket` and still stands (not
   * withdrawn): columns object_name, generation, md5.
   */
  standingLoads(t: LoadTables, bucket: string): Statement;
  /** Audit rows keyed on `bucket`: columns id, object_name, generation. */
  auditRowsOf(t: LoadTables, bucket: string): Statement;
  /** Re-keys one audit row (by id) on another bucket identity. */
  moveAuditRow(
    t: LoadTables,
    id: string,
    record: Pick<AuditRecord, 'bucket' | 'objectName' | 'generation'>,
  ): Statement;
  /** Re-keys the quarantined records of one bucket identity on another. */
  moveQuarantine(t: LoadTables, from: string, to: string): Statement;
  finishAudit(t: LoadTables, record: AuditRecord, counts: AuditCounts): Statement;
  /** Append mode: rows that an earlier generation of the same object loaded (the new one replaces them). */
  deleteObjectRows(t: LoadTables, objectName: string): Statement;
  deleteObjectQuarantine(t: LoadTables, bucket: string, objectName: string): Statement;
  /**
   * Marks staged rows the target cannot hold on this engine (an empty key, a key longer than the engine can
   * index) with their reason, so that they are quarantined instead of failing the whole object.
   */
  markInvalidRows(t: LoadTables): RowCheck[];
  /** Merge mode: marks all but the last record of each key in staging as superseded. */
  markSupersededKeys(t: LoadTables): Statement[];
  /** Moves the good staged rows into the target (append or merge); returns rows applied. */
  applyRows(t: LoadTables, objectName: string): Statement[];
  insertQuarantine(t: LoadTables, record: AuditRecord): Statement;
}
