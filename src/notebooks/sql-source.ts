// Extraction views (`CREATE OR REPLACE TEMPORARY VIEW v USING sqlserver OPTIONS (dbtable ...)`):
// on Databricks Spark reads SQL Server over JDBC; locally a SqlSource reads the same table from
// the configured SQL store into DuckDB. Tables move in bulk, as CSV with explicit column types
// taken from the store's catalog, never as one JavaScript object per row.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PGliteInterface } from '@electric-sql/pglite';
import { quoteIdentifier } from './table-store.ts';

export interface SqlSource {
  /**
   * Loads the table named by options.dbtable (e.g. `dbo.transactions`) into DuckDB as the
   * temporary view `viewName`; returns its row count. Credential options (`user`, `password`,
   * usually `secret(...)`) are Databricks' business: a local source uses its own connection.
   */
  extractTable(
    options: Readonly<Record<string, string>>,
    conn: DuckDBConnection,
    viewName: string,
  ): Promise<{ rows: number }>;
}

export interface TableReference {
  /** undefined: the store's default schema. */
  schema?: string;
  name: string;
}

/**
 * The table an extraction names. SQL Server's default schema `dbo` stands for the store's
 * default schema, so the same notebook reads `dbo.transactions` from SQL Server and
 * `transactions` from PGlite, PostgreSQL or MySQL.
 */
export function tableFromOptions(options: Readonly<Record<string, string>>): TableReference {
  if (options.query !== undefined) {
    throw new Error(`OPTIONS (query ...) is not supported locally: name a table with dbtable`);
  }
  const dbtable = options.dbtable;
  if (dbtable === undefined || dbtable.trim() === '') {
    throw new Error(
      `OPTIONS must name the table to extract with dbtable 'schema.table' (options given: ${Object.keys(options).join(', ') || 'none'})`,
    );
  }
  const parts = dbtable
    .trim()
    .split('.')
    .map((p) => p.replace(/^\[(.*)\]$/, '$1').replace(/^"(.*)"$/, '$1'));
  if (parts.length > 2 || parts.some((p) => p === '')) {
    throw new Error(`dbtable '${dbtable}': expected 'table' or 'schema.table'`);
  }
  const name = parts.at(-1)!;
  const schema = parts.length === 2 && parts[0]!.toLowerCase() !== 'dbo' ? parts[0] : undefined;
  return { schema, name };
}

export interface CsvColumn {
  name: string;
  /** A DuckDB type name. */
  type: string;
}

/**
 * Reads a CSV file (header line, RFC 4180 quoting, unquoted empty field = NULL, "" = empty
 * string) into a hidden temporary table and exposes it as the temporary view `viewName`, so
 * that a later CREATE OR REPLACE TEMPORARY VIEW of the same name still works.
 */
export async function loadCsvAsView(
  conn: DuckDBConnection,
  file: string,
  columns: readonly CsvColumn[],
  viewName: string,
): Promise<number> {
  const str = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const columnTypes = columns.map((c) => `${str(c.name)}: ${str(c.type)}`).join(', ');
  const hidden = quoteIdentifier(`__extracted_${viewName}`);
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE ${hidden} AS SELECT * FROM read_csv(${str(file)},
       header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
       nullstr = '', allow_quoted_nulls = false, columns = {${columnTypes}})`,
  );
  await conn.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdentifier(viewName)} AS SELECT * FROM temp.${hidden}`);
  const reader = await conn.runAndReadAll(`SELECT count(*) FROM temp.${hidden}`);
  return Number(reader.getRows()[0]![0]);
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
  const simple: Record<string, string> = {
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
  const mapped = simple[t];
  if (mapped) return mapped;
  throw new Error(
    `column ${column} has PostgreSQL type ${pgType}, which the extraction does not map to DuckDB (supported: ${Object.keys(simple).join(', ')}, varchar(n), char(n), numeric(p,s) with p <= 38, timestamp, timestamptz, time)`,
  );
}

export interface PGliteSourceOptions {
  /** Folder for the intermediate CSV files; the system temporary folder by default. */
  tempDir?: string;
}

/** Extraction from PGlite, the default SQL store: COPY ... TO '/dev/blob' (CSV), then DuckDB read_csv. */
export function createPGliteSource(db: PGliteInterface, options: PGliteSourceOptions = {}): SqlSource {
  return {
    async extractTable(extractOptions, conn, viewName) {
      const table = tableFromOptions(extractOptions);
      const { relation, columns } = await postgresColumns(db, table);
      const dir = fs.mkdtempSync(path.join(options.tempDir ?? os.tmpdir(), 'lakehouse-extract-'));
      const file = path.join(dir, `${table.name}.csv`);
      try {
        const blob = await db.transaction(async (tx) => {
          // Dates and timestamps in ISO form and UTC, whatever the session says.
          await tx.exec(`SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL TimeZone = 'UTC'`);
          // COPY of the table itself (all columns, in catalog order) is faster than COPY of a query.
          const result = await tx.query(`COPY ${relation} TO '/dev/blob' WITH (FORMAT csv, HEADER)`);
          return result.blob;
        });
        if (!blob) throw new Error(`PGlite returned no data for COPY ${relation} TO '/dev/blob'`);
        await pipeline(
          Readable.fromWeb(blob.stream() as import('node:stream/web').ReadableStream),
          fs.createWriteStream(file),
        );
        return { rows: await loadCsvAsView(conn, file, columns, viewName) };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The table's columns; names as written first, then folded to lower case as PostgreSQL folds unquoted names. */
async function postgresColumns(
  db: PGliteInterface,
  table: TableReference,
): Promise<{ relation: string; columns: CsvColumn[] }> {
  const spellings = [table, { schema: table.schema?.toLowerCase(), name: table.name.toLowerCase() }];
  for (const t of spellings) {
    const name = (t.schema ? `${quoteIdentifier(t.schema)}.` : '') + quoteIdentifier(t.name);
    const found = await db.query<{ oid: number; kind: string }>(
      `SELECT oid, relkind AS kind FROM pg_class WHERE oid = to_regclass($1)`,
      [name],
    );
    const row = found.rows[0];
    // COPY reads tables directly; views only through a query.
    const relation = row?.kind === 'r' || row?.kind === 'p' ? name : `(SELECT * FROM ${name})`;
    if (row) return { relation, columns: await columnsOf(db, row.oid) };
  }
  throw new Error(
    `table ${table.schema ? `${table.schema}.` : ''}${table.name} does not exist in the SQL store (PGlite)`,
  );
}

async function columnsOf(db: PGliteInterface, oid: number): Promise<CsvColumn[]> {
  const attributes = await db.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type
       FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [oid],
  );
  return attributes.rows.map((a) => ({ name: a.name, type: duckdbTypeForPostgres(a.type, a.name) }));
}
