// Table export from PostgreSQL and PGlite: one catalog lookup and one type mapping for both. The rows move by
// COPY (SELECT …) TO …, CSV formatted by the server itself under POSTGRES_EXPORT_SETTINGS.
import { findCatalogTable, unmappedType, type CatalogQuery, type CatalogRow } from '../export-common.ts';
import type { ExportColumn, Statement, TableName } from '../types.ts';
import { quotePostgres } from './dialect.ts';

/**
 * For the export's transaction only: dates and timestamps in ISO form and UTC whatever the session says, and
 * doubles as the shortest text that reads back the same (PostgreSQL 12 and later).
 */
export const POSTGRES_EXPORT_SETTINGS = `SELECT set_config('DateStyle', 'ISO, YMD', true), set_config('TimeZone', 'UTC', true), set_config('extra_float_digits', '1', true)`;

export interface PostgresTable {
  schema: string;
  name: string;
  /** r: table, p: partitioned table, v: view, m: materialized view, f: foreign table. */
  kind: string;
  columns: ExportColumn[];
}

interface PostgresCatalogRow extends CatalogRow {
  kind: string;
  /** null for a table without columns (the LEFT JOIN's one row). */
  name: string | null;
  type: string | null;
}

/** The catalog rows of a table or view: one per column, or one with a null name for a table without columns. */
function postgresColumnsQuery(schema: string | undefined, name: string): Statement {
  return {
    sql: `SELECT n.nspname AS table_schema, c.relname AS table_name, c.relkind AS kind,
    a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  ORDER BY a.attnum`,
    params: [schema!, name],
  };
}

/** The table (or view) and its columns as DuckDB types; `where` names the store in the error. */
export async function findPostgresTable(
  query: CatalogQuery,
  table: TableName,
  defaultSchema: string,
  where: string,
): Promise<PostgresTable> {
  const { schema, name, rows } = await findCatalogTable<PostgresCatalogRow>(
    query,
    table,
    defaultSchema,
    where,
    postgresColumnsQuery,
  );
  return {
    schema,
    name,
    kind: rows[0]!.kind,
    columns: rows
      .filter((r) => r.name !== null)
      .map((r) => ({ name: r.name!, type: duckdbTypeForPostgres(r.type!, r.name!) })),
  };
}

export function postgresRelation(table: { schema: string; name: string }): string {
  return `${quotePostgres(table.schema)}.${quotePostgres(table.name)}`;
}

/**
 * COPY of a query, so that views and partitioned tables work like tables (and rows of child tables come as
 * SELECT * returns them), with booleans cast to text (true/false; COPY itself writes t/f). `to` is STDOUT for
 * a server, '/dev/blob' for PGlite; `blocks` restricts a plain table to a range of its pages (ctid), so that
 * PGlite can copy a large table in parts (only the first with the header).
 */
export function postgresCopy(
  table: PostgresTable,
  options: { to: 'STDOUT' | "'/dev/blob'"; header?: boolean; blocks?: { from: number; to?: number } },
): string {
  const columns = table.columns.map((c) =>
    c.type === 'BOOLEAN' ? `${quotePostgres(c.name)}::text` : quotePostgres(c.name),
  );
  const { blocks } = options;
  const range = blocks
    ? ` WHERE ctid >= '(${blocks.from},0)'::tid${blocks.to === undefined ? '' : ` AND ctid < '(${blocks.to},0)'::tid`}`
    : '';
  const header = options.header === false ? '' : ', HEADER';
  return `COPY (SELECT ${columns.join(', ')} FROM ${postgresRelation(table)}${range}) TO ${options.to} WITH (FORMAT csv${header})`;
}

/** The DuckDB type for a PostgreSQL column type as format_type() prints it. */
export function duckdbTypeForPostgres(pgType: string, column: string): string {
  const t = pgType.toLowerCase();
  const numeric = /^numeric\((\d+),(\d+)\)$/.exec(t);
  if (numeric) {
    const [precision, scale] = [Number(numeric[1]), Number(numeric[2])];
    if (precision <= 38) return `DECIMAL(${precision},${scale})`;
  }
  if (/^(character varying|character|varchar|char)(\(\d+\))?$/.test(t)) return 'VARCHAR';
  if (/^timestamp(\(\d\))? without time zone$/.test(t)) return 'TIMESTAMP';
  if (/^timestamp(\(\d\))? with time zone$/.test(t)) return 'TIMESTAMPTZ';
  if (/^time(\(\d\))? without time zone$/.test(t)) return 'TIME';
  const mapped = POSTGRES_TYPES[t];
  if (mapped) return mapped;
  throw unmappedType(
    column,
    'PostgreSQL',
    pgType,
    `${Object.keys(POSTGRES_TYPES).join(', ')}, varchar(n), char(n), numeric(p,s) with p <= 38, timestamp, timestamptz, time`,
  );
}

const POSTGRES_TYPES: Record<string, string> = {
  bigint: 'BIGINT',
  integer: 'INTEGER',
  smallint: 'SMALLINT',
  boolean: 'BOOLEAN',
  real: 'FLOAT',
  'double precision': 'DOUBLE',
  text: 'VARCHAR',
  citext: 'VARCHAR',
  uuid: 'VARCHAR',
  json: 'VARCHAR',
  jsonb: 'VARCHAR',
  date: 'DATE',
};
