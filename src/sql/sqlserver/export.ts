// Table export from SQL Server: column types from INFORMATION_SCHEMA.COLUMNS, rows from a SELECT that turns
// every value into text with explicit CONVERT styles (so that neither tedious's JavaScript types nor the
// session's language or date format touch them), streamed and written as CSV.
import { findCatalogTable, unmappedType, type CatalogQuery, type CatalogRow } from '../export-common.ts';
import type { ExportColumn, Statement, TableName } from '../types.ts';
import { quoteSqlServer } from './dialect.ts';

export interface SqlServerColumn extends CatalogRow {
  name: string;
  data_type: string;
  numeric_precision: number | null;
  numeric_scale: number | null;
}

export interface SqlServerTable {
  schema: string;
  name: string;
  columns: (ExportColumn & { source: SqlServerColumn })[];
}

export function sqlServerColumnsQuery(schema: string, name: string): Statement {
  return {
    sql: `SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, COLUMN_NAME AS name,
        DATA_TYPE AS data_type, NUMERIC_PRECISION AS numeric_precision, NUMERIC_SCALE AS numeric_scale
      FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = @p1 AND TABLE_NAME = @p2
      ORDER BY ORDINAL_POSITION`,
    params: [schema, name],
  };
}

export async function findSqlServerTable(
  query: CatalogQuery,
  table: TableName,
  defaultSchema: string,
  where: string,
): Promise<SqlServerTable> {
  const { schema, name, rows } = await findCatalogTable<SqlServerColumn>(
    query,
    table,
    defaultSchema,
    where,
    (s, n) => sqlServerColumnsQuery(s!, n),
  );
  return {
    schema,
    name,
    columns: rows.map((c) => ({ name: c.name, type: duckdbTypeForSqlServer(c), source: c })),
  };
}

/** The SELECT that reads the table, every value as text. */
export function sqlServerExportQuery(table: SqlServerTable): string {
  const values = table.columns.map((c) => sqlServerExportValue(c.source));
  return `SELECT ${values.join(', ')} FROM ${quoteSqlServer(table.schema)}.${quoteSqlServer(table.name)}`;
}

/**
 * One column as text. CONVERT styles: 2 writes money with its four decimals (the default keeps two), 3 writes
 * float and real with the digits that read back the same value (SQL Server 2016 and later), 23 is
 * yyyy-mm-dd, 126 is ISO 8601 (yyyy-mm-ddThh:mi:ss[.fffffff]). A datetimeoffset is moved to UTC first.
 */
export function sqlServerExportValue(column: SqlServerColumn): string {
  const c = quoteSqlServer(column.name);
  switch (column.data_type.toLowerCase()) {
    case 'bit':
      return `CASE ${c} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END`;
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint':
      return `CONVERT(varchar(20), ${c})`;
    case 'decimal':
    case 'numeric':
      return `CONVERT(varchar(41), ${c})`;
    case 'money':
    case 'smallmoney':
      return `CONVERT(varchar(30), ${c}, 2)`;
    case 'float':
    case 'real':
      return `CONVERT(varchar(30), ${c}, 3)`;
    case 'date':
      return `CONVERT(char(10), ${c}, 23)`;
    case 'datetime':
    case 'datetime2':
    case 'smalldatetime':
      return `CONVERT(varchar(27), ${c}, 126)`;
    case 'datetimeoffset':
      return `CONVERT(varchar(27), CAST(SWITCHOFFSET(${c}, '+00:00') AS datetime2(7)), 126) + 'Z'`;
    case 'time':
      return `CONVERT(varchar(16), ${c})`;
    case 'uniqueidentifier':
      return `CONVERT(char(36), ${c})`;
    case 'text':
    case 'ntext':
    case 'xml':
      return `CONVERT(nvarchar(max), ${c})`;
    default:
      return c;
  }
}

const SQLSERVER_TYPES: Record<string, string> = {
  bit: 'BOOLEAN',
  tinyint: 'UTINYINT',
  smallint: 'SMALLINT',
  int: 'INTEGER',
  bigint: 'BIGINT',
  money: 'DECIMAL(19,4)',
  smallmoney: 'DECIMAL(10,4)',
  float: 'DOUBLE',
  real: 'FLOAT',
  date: 'DATE',
  datetime: 'TIMESTAMP',
  datetime2: 'TIMESTAMP',
  smalldatetime: 'TIMESTAMP',
  datetimeoffset: 'TIMESTAMPTZ',
  time: 'TIME',
  char: 'VARCHAR',
  varchar: 'VARCHAR',
  text: 'VARCHAR',
  nchar: 'VARCHAR',
  nvarchar: 'VARCHAR',
  ntext: 'VARCHAR',
  uniqueidentifier: 'VARCHAR',
  xml: 'VARCHAR',
};

/**
 * The DuckDB type for a SQL Server column. DuckDB keeps microseconds: datetime2(7) and time(7) lose their
 * seventh digit (DuckDB truncates it). Binary, spatial and sql_variant columns are an error naming the column.
 */
export function duckdbTypeForSqlServer(column: SqlServerColumn): string {
  const dataType = column.data_type.toLowerCase();
  if (dataType === 'decimal' || dataType === 'numeric')
    return `DECIMAL(${Number(column.numeric_precision)},${Number(column.numeric_scale)})`;
  const mapped = SQLSERVER_TYPES[dataType];
  if (mapped) return mapped;
  throw unmappedType(
    column.name,
    'SQL Server',
    column.data_type,
    `decimal(p,s), numeric(p,s), ${Object.keys(SQLSERVER_TYPES).join(', ')}`,
  );
}
