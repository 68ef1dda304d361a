// Extraction views (`CREATE OR REPLACE TEMPORARY VIEW v USING sqlserver OPTIONS (dbtable ...)`):
// on Databricks Spark reads SQL Server over JDBC; locally a SqlSource reads the same table from
// the configured SQL store into DuckDB. Tables move in bulk, as CSV with explicit column types
// taken from the store's catalog (SqlSession.exportTable), then DuckDB's read_csv.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ExportColumn, SqlSession, TableName } from '../sql/types.ts';
import { errorMessage } from '../util/log.ts';
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

/**
 * The table an extraction names. SQL Server's default schema `dbo` stands for the store's
 * default schema, where the load writes (the configured `sql.schema`; otherwise `public` on
 * PostgreSQL and PGlite, the connection's database on MySQL, `dbo` on SQL Server), so the same
 * notebook reads `dbo.transactions` from every engine.
 */
export function tableFromOptions(options: Readonly<Record<string, string>>): TableName {
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

/**
 * Reads a CSV file (header line, RFC 4180 quoting, unquoted empty field = NULL, "" = empty
 * string) into a hidden temporary table and exposes it as the temporary view `viewName`, so
 * that a later CREATE OR REPLACE TEMPORARY VIEW of the same name still works.
 */
export async function loadCsvAsView(
  conn: DuckDBConnection,
  file: string,
  columns: readonly ExportColumn[],
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

export interface StoreSourceOptions {
  /** Folder for the intermediate CSV files; the system temporary folder by default. */
  tempDir?: string;
}

/**
 * Extraction from the configured SQL store (PGlite, PostgreSQL, MySQL or SQL Server): the session exports the
 * table as CSV with DuckDB types from its catalog, streamed to a temporary file that DuckDB then reads.
 */
export function createStoreSource(session: SqlSession, options: StoreSourceOptions = {}): SqlSource {
  return {
    async extractTable(extractOptions, conn, viewName) {
      const exported = await session.exportTable(tableFromOptions(extractOptions));
      const table = `${exported.table.schema}.${exported.table.name}`;
      const dir = fs.mkdtempSync(path.join(options.tempDir ?? os.tmpdir(), 'lakehouse-extract-'));
      try {
        const file = path.join(dir, `${exported.table.name}.csv`);
        await pipeline(Readable.from(exported.csv), fs.createWriteStream(file)).catch((e: unknown) => {
          throw new Error(`reading ${table} from ${session.description} failed: ${errorMessage(e)}`, {
            cause: e,
          });
        });
        return { rows: await loadCsvAsView(conn, file, exported.columns, viewName) };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
