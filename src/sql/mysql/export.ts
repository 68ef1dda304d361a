// Table export from MySQL and MariaDB: column types from information_schema.COLUMNS, rows from a SELECT that
// turns every value into the server's own text (see mysqlExportValue), streamed and written as CSV.
import { findCatalogTable, unmappedType, type CatalogQuery, type CatalogRow } from '../export-common.ts';
import type { ExportColumn, SqlValue, Statement, TableName } from '../types.ts';
import { quoteMysql } from './dialect.ts';

export interface MysqlColumn extends CatalogRow {
  name: string;
  data_type: string;
  column_type: string;
  numeric_precision: number | string | null;
  numeric_scale: number | string | null;
}

export interface MysqlTable {
  schema: string;
  name: string;
  /** The catalog's columns with their DuckDB types. */
  columns: (ExportColumn & { source: MysqlColumn })[];
}

/** No schema: the connection's database. */
export function mysqlColumnsQuery(schema: string | undefined, name: string): Statement {
  return {
    sql: `SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, COLUMN_NAME AS name,
        DATA_TYPE AS data_type, COLUMN_TYPE AS column_type, NUMERIC_PRECISION AS numeric_precision,
        NUMERIC_SCALE AS numeric_scale
      FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?
      ORDER BY ORDINAL_POSITION`,
    params: [schema ?? null, name] as SqlValue[],
  };
}

export async function findMysqlTable(
  query: CatalogQuery,
  table: TableName,
  defaultSchema: string | undefined,
  where: string,
): Promise<MysqlTable> {
  const { schema, name, rows } = await findCatalogTable<MysqlColumn>(
    query,
    table,
    defaultSchema,
    where,
    mysqlColumnsQuery,
  );
  return {
    schema,
    name,
    columns: rows.map((c) => ({ name: c.name, type: duckdbTypeForMysql(c), source: c })),
  };
}

/** The SELECT that reads the table, every value as text. */
export function mysqlExportQuery(table: MysqlTable): string {
  const values = table.columns.map((c) => mysqlExportValue(c.source, c.type));
  return `SELECT ${values.join(', ')} FROM ${quoteMysql(table.schema)}.${quoteMysql(table.name)}`;
}

/**
 * One column as text, so that the driver hands over the server's own formatting: DECIMAL and BIGINT exact,
 * DOUBLE as the shortest text that reads back the same, DATE as YYYY-MM-DD, DATETIME as YYYY-MM-DD
 * hh:mm:ss[.ffffff]. FLOAT goes through DOUBLE (FLOAT's own text keeps 6 digits); TIMESTAMP is shown in the
 * session's time zone, which the session sets to UTC, hence +00; BOOLEAN (TINYINT(1)) as true/false. Text is
 * cast too: MariaDB marks a JSON column (a LONGTEXT) as JSON in its metadata, and mysql2 would parse it.
 */
export function mysqlExportValue(column: MysqlColumn, duckdbType: string): string {
  const c = quoteMysql(column.name);
  if (duckdbType === 'BOOLEAN') return `CASE WHEN ${c} <> 0 THEN 'true' WHEN ${c} = 0 THEN 'false' END`;
  if (duckdbType === 'FLOAT') return `CAST(CAST(${c} AS DOUBLE) AS CHAR)`;
  if (duckdbType === 'TIMESTAMPTZ') return `CONCAT(${c}, '+00')`;
  return `CAST(${c} AS CHAR)`;
}

const MYSQL_TEXT = ['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set', 'json'];
const MYSQL_SIMPLE: Record<string, string> = {
  mediumint: 'INTEGER',
  float: 'FLOAT',
  double: 'DOUBLE',
  date: 'DATE',
  datetime: 'TIMESTAMP',
  timestamp: 'TIMESTAMPTZ',
};
/** Integer types, signed and unsigned (MEDIUMINT, signed or not, fits INTEGER). */
const MYSQL_INTEGERS: Record<string, [string, string]> = {
  tinyint: ['TINYINT', 'UTINYINT'],
  smallint: ['SMALLINT', 'USMALLINT'],
  int: ['INTEGER', 'UINTEGER'],
  bigint: ['BIGINT', 'UBIGINT'],
};

/**
 * The DuckDB type for a MySQL column. TINYINT(1) is MySQL's BOOLEAN (the load writes booleans so, and JDBC
 * reads them so). DECIMAL beyond DuckDB's 38 digits, TIME (which spans ±838 hours), YEAR, BIT and binary
 * types have no exact DuckDB equivalent here: an error names the column.
 */
export function duckdbTypeForMysql(column: MysqlColumn): string {
  const dataType = column.data_type.toLowerCase();
  const columnType = column.column_type.toLowerCase();
  if (columnType === 'tinyint(1)') return 'BOOLEAN';
  const integer = MYSQL_INTEGERS[dataType];
  if (integer) return integer[/\bunsigned\b/.test(columnType) ? 1 : 0];
  if (dataType === 'decimal') {
    const [precision, scale] = [Number(column.numeric_precision), Number(column.numeric_scale)];
    if (precision <= 38) return `DECIMAL(${precision},${scale})`;
  }
  if (MYSQL_TEXT.includes(dataType)) return 'VARCHAR';
  const simple = MYSQL_SIMPLE[dataType];
  if (simple) return simple;
  throw unmappedType(
    column.name,
    'MySQL',
    column.column_type,
    `tinyint(1) as boolean, ${Object.keys(MYSQL_INTEGERS).join(', ')} (signed or unsigned), ${Object.keys(MYSQL_SIMPLE).join(', ')}, decimal(p,s) with p <= 38, ${MYSQL_TEXT.join(', ')}`,
  );
}
