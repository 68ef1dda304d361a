// Reading a snapshot with DuckDB: a SELECT over the scan's Parquet files, typed by the Delta schema, with
// partition values as columns and columns that older files lack read as NULL.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ScanFile, Snapshot } from './snapshot.ts';
import type { DeltaType, StructField } from './schema.ts';
import { duckdbType, quoteIdent, quoteLiteral } from './schema.ts';
import type { SnapshotOptions } from './table.ts';
import { openDeltaTable } from './table.ts';

const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

export interface ScanSqlOptions {
  /** Adds a column with this name holding each row's file path as written in the log (for rewrites). */
  fileColumn?: string;
}

/** Top-level column name → DuckDB type, for each file (from the Parquet footers). */
async function fileColumns(
  conn: DuckDBConnection,
  files: ScanFile[],
): Promise<Map<string, Map<string, string>>> {
  const list = `[${files.map((f) => quoteLiteral(localPathOf(f))).join(', ')}]`;
  const reader = await conn.runAndReadAll(
    `SELECT file_name, name, duckdb_type, num_children FROM parquet_schema(${list})`,
  );
  const out = new Map<string, Map<string, string>>();
  // parquet_schema lists each file's schema tree depth first; the root's direct children are the columns.
  let current: Map<string, string> | undefined;
  let pending: number[] = [];
  for (const [fileName, name, type, children] of reader.getRows()) {
    const file = String(fileName);
    if (!out.has(file)) {
      current = new Map();
      out.set(file, current);
      pending = [];
      // The root: its children are the top level.
      pending.push(Number(children ?? 0));
      continue;
    }
    const depth = pending.length;
    if (depth === 1) current!.set(String(name), String(type ?? 'STRUCT'));
    pending[depth - 1]!--;
    const n = Number(children ?? 0);
    if (n > 0) pending.push(n);
    while (pending.length > 0 && pending[pending.length - 1] === 0) pending.pop();
  }
  return out;
}

function localPathOf(file: ScanFile): string {
  if (!file.localPath)
    throw new Error(`file ${file.path}: DuckDB can only read tables on the local file system here`);
  return file.localPath;
}

/** SQL for a partition value: the serialised string cast to the column's type (protocol "Partition Value Serialization"). */
export function partitionValueSql(value: string | null, type: DeltaType): string {
  const target = duckdbType(type);
  if (value === null || value === HIVE_NULL) return `CAST(NULL AS ${target})`;
  if (type === 'binary') return `encode(${quoteLiteral(value)})`;
  if (type === 'timestamp') {
    // "2021-09-08 11:11:11[.ffffff]" carries no zone and is read as UTC; ISO-8601 with a zone keeps it.
    if (/[zZ]$|[+-]\d\d(:?\d\d)?$/.test(value.trim()) && value.includes('T')) {
      return `CAST(${quoteLiteral(value)} AS TIMESTAMPTZ)`;
    }
    return `timezone('UTC', CAST(${quoteLiteral(value)} AS TIMESTAMP))`;
  }
  return `CAST(${quoteLiteral(value)} AS ${target})`;
}

/** Reads `field` from a file column `source` of DuckDB type `fileType` (undefined when the file lacks it). */
function columnSql(field: StructField, source: string, fileType: string | undefined): string {
  const target = duckdbType(field.type);
  const name = quoteIdent(source);
  const alias = quoteIdent(field.name);
  if (fileType === undefined) return `CAST(NULL AS ${target}) AS ${alias}`;
  if (fileType === target && source === field.name) return name;
  // Spark's INT96 and non-UTC-adjusted timestamps read as TIMESTAMP; they hold UTC wall-clock time.
  if (target === 'TIMESTAMPTZ' && fileType.startsWith('TIMESTAMP') && !fileType.includes('TIME ZONE')) {
    return `timezone('UTC', CAST(${name} AS TIMESTAMP)) AS ${alias}`;
  }
  if (target === 'TIMESTAMPTZ' && fileType === 'TIMESTAMP WITH TIME ZONE') return `${name} AS ${alias}`;
  return `CAST(${name} AS ${target}) AS ${alias}`;
}

/**
 * The SELECT that reads `snapshot` (every column typed per the Delta schema, in schema order). Files are
 * grouped by partition values and by the columns their Parquet schema has, one read_parquet per group.
 */
export async function scanSql(
  conn: DuckDBConnection,
  snapshot: Snapshot,
  options: ScanSqlOptions = {},
): Promise<string> {
  const files = snapshot.scan();
  const fields = snapshot.schema.fields;
  const partitionColumns = new Set(snapshot.partitionColumns);
  const fileColumn = options.fileColumn ? `, ${quoteLiteral('')} AS ${quoteIdent(options.fileColumn)}` : '';
  if (files.length === 0) {
    const cols = fields.map((f) => `CAST(NULL AS ${duckdbType(f.type)}) AS ${quoteIdent(f.name)}`);
    return `SELECT ${cols.join(', ')}${fileColumn} WHERE false`;
  }
  const columnsByFile = await fileColumns(conn, files);
  const groups = new Map<string, { select: string[]; files: ScanFile[] }>();
  for (const file of files) {
    const present = columnsByFile.get(localPathOf(file)) ?? new Map<string, string>();
    const lowerCase = new Map([...present].map(([k, v]) => [k.toLowerCase(), { name: k, type: v }]));
    const select = fields.map((field) => {
      if (partitionColumns.has(field.name)) {
        return `${partitionValueSql(file.partitionValues[field.name] ?? null, field.type)} AS ${quoteIdent(field.name)}`;
      }
      const exact = present.get(field.name);
      if (exact !== undefined) return columnSql(field, field.name, exact);
      // Spark resolves column names case-insensitively.
      const other = lowerCase.get(field.name.toLowerCase());
      return columnSql(field, other?.name ?? field.name, other?.type);
    });
    const key = select.join(', ');
    const group = groups.get(key) ?? { select, files: [] };
    group.files.push(file);
    groups.set(key, group);
  }
  const parts: string[] = [];
  for (const group of groups.values()) {
    const list = `[${group.files.map((f) => quoteLiteral(localPathOf(f))).join(', ')}]`;
    if (options.fileColumn) {
      const byPath = group.files.map(
        (f) => `WHEN ${quoteLiteral(localPathOf(f))} THEN ${quoteLiteral(f.actionPath)}`,
      );
      const fileExpr =
        group.files.length === 1
          ? quoteLiteral(group.files[0]!.actionPath)
          : `CASE __delta_source_file ${byPath.join(' ')} END`;
      parts.push(
        `SELECT ${group.select.join(', ')}, ${fileExpr} AS ${quoteIdent(options.fileColumn)} ` +
          `FROM read_parquet(${list}, hive_partitioning = false, union_by_name = true, filename = '__delta_source_file')`,
      );
    } else {
      parts.push(
        `SELECT ${group.select.join(', ')} FROM read_parquet(${list}, hive_partitioning = false, union_by_name = true)`,
      );
    }
  }
  return parts.join('\nUNION ALL\n');
}

export interface RegisterViewOptions extends SnapshotOptions {
  /** A TEMP view (default) lives in this connection only; otherwise a view in the database (schema created if needed). */
  temporary?: boolean;
}

/**
 * Creates (or replaces) a DuckDB view `viewName` (`name` or `schema.name`) showing the table at the chosen
 * version. The view lists the snapshot's files, so it keeps showing that version after later commits.
 */
export async function registerDeltaView(
  conn: DuckDBConnection,
  viewName: string,
  location: string,
  options: RegisterViewOptions = {},
): Promise<Snapshot> {
  const snapshot = await openDeltaTable(location, { conn }).snapshot(options);
  const sql = await scanSql(conn, snapshot);
  const parts = viewName.split('.');
  const temporary = options.temporary ?? true;
  if (!temporary && parts.length === 2)
    await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(parts[0]!)}`);
  await conn.run(
    `CREATE OR REPLACE ${temporary ? 'TEMP ' : ''}VIEW ${parts.map(quoteIdent).join('.')} AS ${sql}`,
  );
  return snapshot;
}
