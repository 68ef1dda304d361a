// Reading a snapshot with DuckDB: a SELECT over the scan's Parquet files, typed by the Delta schema, with
// partition values as columns and columns that older files lack read as NULL.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ScanFile, Snapshot } from './snapshot.ts';
import type { DeltaType, StructField } from './schema.ts';
import { duckdbType, quoteIdent, quoteLiteral } from './schema.ts';
import type { SnapshotOptions } from './table.ts';
import { openDeltaTable } from './table.ts';

const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';
// Types whose Hive folder value DuckDB casts exactly as the protocol serialises them.
const HIVE_TYPED = /^(byte|short|integer|long|float|double|boolean|date|decimal\(\d+,\d+\))$/;

export interface ScanSqlOptions {
  /** Adds a column with this name holding each row's file path as written in the log (for rewrites). */
  fileColumn?: string;
  /** Reads only these files (paths as written in the log). */
  onlyFiles?: Set<string>;
}

function localPathOf(file: ScanFile): string {
  if (!file.localPath)
    throw new Error(`file ${file.path}: DuckDB can only read tables on the local file system here`);
  return file.localPath;
}

/**
 * SQL turning a serialised partition value (VARCHAR: a Hive folder value or the log's string) into the column's
 * type, per the protocol's "Partition Value Serialization". An empty string is null. A timestamp without a zone
 * ("2021-09-08 11:11:11") is read as UTC, as is the ISO form with Z.
 */
export function partitionValueSql(text: string, type: DeltaType): string {
  const value = `NULLIF(${text}, '')`;
  if (type === 'binary') return `encode(${value})`;
  if (type === 'timestamp')
    return `timezone('UTC', CAST(rtrim(replace(${value}, 'T', ' '), 'Zz') AS TIMESTAMP))`;
  if (type === 'string') return value;
  return `CAST(${value} AS ${duckdbType(type)})`;
}

/** Reads `field` from the scan's column `source` of DuckDB type `fileType` (undefined when no file has it). */
function columnSql(field: StructField, source: string, fileType: string | undefined): string {
  const target = duckdbType(field.type);
  const name = `d.${quoteIdent(source)}`;
  const alias = quoteIdent(field.name);
  if (fileType === undefined) return `CAST(NULL AS ${target}) AS ${alias}`;
  // Spark's INT96 and non-UTC-adjusted timestamps read as TIMESTAMP; they hold UTC wall-clock time.
  if (target === 'TIMESTAMPTZ' && fileType.startsWith('TIMESTAMP') && !fileType.includes('TIME ZONE')) {
    return `timezone('UTC', CAST(${name} AS TIMESTAMP)) AS ${alias}`;
  }
  if (fileType === target || (target === 'TIMESTAMPTZ' && fileType === 'TIMESTAMP WITH TIME ZONE')) {
    return `${name} AS ${alias}`;
  }
  return `CAST(${name} AS ${target}) AS ${alias}`;
}

/**
 * True when every file sits in Hive-style folders naming exactly its partition values from the log (as Spark
 * and this module write them), so DuckDB can take the values from the paths and prune files by them.
 */
function pathsCarryPartitionValues(files: ScanFile[], partitionColumns: string[], root: string): boolean {
  if (root.split('/').some((segment) => segment.includes('='))) return false;
  return files.every((file) => {
    if (file.path.startsWith('/')) return false;
    const segments = file.path.split('/').slice(0, -1);
    if (segments.length !== partitionColumns.length) return false;
    return segments.every((segment, i) => {
      const eq = segment.indexOf('=');
      const column = partitionColumns[i]!;
      if (eq < 0 || segment.slice(0, eq) !== column) return false;
      let value: string | null;
      try {
        value = decodeURIComponent(segment.slice(eq + 1));
      } catch {
        return false;
      }
      if (value === '') return false;
      if (value === HIVE_NULL) value = null;
      // DuckDB reads a folder value "NULL" (any case) as null; the string "null" then needs the join.
      if (value?.toLowerCase() === 'null') return false;
      return value === file.partitionValues[column];
    });
  });
}

/**
 * The SELECT that reads `snapshot`: every column typed per the Delta schema, in schema order. One read_parquet
 * over all files (union_by_name: columns that older files lack read as NULL); partition values come from the
 * Hive folders when they match the log, otherwise from a join with the log's values.
 */
export async function scanSql(
  conn: DuckDBConnection,
  snapshot: Snapshot,
  options: ScanSqlOptions = {},
): Promise<string> {
  const files = snapshot.scan().filter((f) => !options.onlyFiles || options.onlyFiles.has(f.actionPath));
  const fields = snapshot.schema.fields;
  const partitionColumns = snapshot.partitionColumns;
  const partitionSet = new Set(partitionColumns);
  const fileColumn = options.fileColumn ? quoteIdent(options.fileColumn) : undefined;
  if (files.length === 0) {
    const cols = fields.map((f) => `CAST(NULL AS ${duckdbType(f.type)}) AS ${quoteIdent(f.name)}`);
    return `SELECT ${cols.join(', ')}${fileColumn ? `, CAST(NULL AS VARCHAR) AS ${fileColumn}` : ''} WHERE false`;
  }
  const list = `[${files.map((f) => quoteLiteral(localPathOf(f))).join(', ')}]`;
  const described = await conn.runAndReadAll(
    `DESCRIBE SELECT * FROM read_parquet(${list}, union_by_name = true, hive_partitioning = false)`,
  );
  const fileTypes = new Map<string, { name: string; type: string }>();
  for (const [name, type] of described.getRows()) {
    fileTypes.set(String(name).toLowerCase(), { name: String(name), type: String(type) });
  }

  const root = snapshot.storage.localPath?.('') ?? '';
  const hive =
    partitionColumns.length > 0 && !fileColumn && pathsCarryPartitionValues(files, partitionColumns, root);
  const join = fileColumn !== undefined || (partitionColumns.length > 0 && !hive);
  const hiveTypes = new Map<string, string>();
  const select = fields.map((field) => {
    if (partitionSet.has(field.name)) {
      const source = `${hive ? 'd' : 'm'}.${quoteIdent(field.name)}`;
      // Typed Hive columns let DuckDB skip files by a filter on them; the rest are converted from VARCHAR.
      if (hive && typeof field.type === 'string' && HIVE_TYPED.test(field.type)) {
        hiveTypes.set(field.name, duckdbType(field.type));
        return `${source} AS ${quoteIdent(field.name)}`;
      }
      hiveTypes.set(field.name, 'VARCHAR');
      return `${partitionValueSql(source, field.type)} AS ${quoteIdent(field.name)}`;
    }
    // Spark resolves column names case-insensitively.
    const inFiles = fileTypes.get(field.name.toLowerCase());
    return columnSql(field, inFiles?.name ?? field.name, inFiles?.type);
  });
  if (fileColumn) select.push(`m.__delta_action_path AS ${fileColumn}`);

  const args = [list, 'union_by_name = true'];
  if (hive) {
    const types = [...hiveTypes].map(([c, t]) => `${quoteLiteral(c)}: ${quoteLiteral(t)}`).join(', ');
    args.push('hive_partitioning = true', `hive_types = {${types}}`);
  } else {
    args.push('hive_partitioning = false');
  }
  if (join) args.push(`filename = '__delta_source_file'`);
  let sql = `SELECT ${select.join(', ')} FROM read_parquet(${args.join(', ')}) AS d`;
  if (join) {
    const rows = files.map((f) =>
      [localPathOf(f), f.actionPath, ...partitionColumns.map((c) => f.partitionValues[c] ?? null)]
        .map((v) => (v === null ? 'NULL' : quoteLiteral(v)))
        .join(', '),
    );
    const names = ['__delta_local_path', '__delta_action_path', ...partitionColumns.map(quoteIdent)].join(
      ', ',
    );
    sql +=
      ` JOIN (VALUES ${rows.map((r) => `(${r})`).join(', ')}) AS m(${names})` +
      ' ON d.__delta_source_file = m.__delta_local_path';
  }
  return sql;
}

export interface RegisterViewOptions extends SnapshotOptions {
  /**
   * A TEMP view lives in this connection only (the default for a plain name); otherwise the view is created in
   * the database, in its schema (created if needed; the default for `schema.name`, since TEMP views cannot live
   * in another schema).
   */
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
  if (parts.length > 2 || parts.some((p) => p === '')) {
    throw new Error(`registerDeltaView: expected a view name "name" or "schema.name", found "${viewName}"`);
  }
  const temporary = options.temporary ?? parts.length === 1;
  if (parts.length === 2) await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(parts[0]!)}`);
  await conn.run(
    `CREATE OR REPLACE ${temporary ? 'TEMP ' : ''}VIEW ${parts.map(quoteIdent).join('.')} AS ${sql}`,
  );
  return snapshot;
}
