// Where the notebooks' tables live. The runner computes every table with DuckDB and hands the
// query to a TableStore; the store decides what a table is: a Delta table (one commit per
// write, readable as `schema.name` through a DuckDB view) or, here, a plain DuckDB table.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { TableName } from './statements.ts';

export interface TableWrite {
  /** The table version the write committed; undefined for stores without versions. */
  version?: number;
  /** Rows in the table after the write. */
  rows: number;
}

export interface TableStore {
  /** CREATE OR REPLACE TABLE name AS query (a new version when the table exists). */
  createOrReplace(name: TableName, query: string, options: { partitionBy: string[] }): Promise<TableWrite>;
  /** INSERT INTO name query. */
  insertInto(name: TableName, query: string): Promise<TableWrite>;
  /** MERGE INTO name AS targetAlias <statementTail>, where the tail starts at USING. */
  merge(name: TableName, targetAlias: string, statementTail: string): Promise<TableWrite>;
  /** Makes `schema.name` queryable on the runner's connection if the table exists; says whether it does. */
  ensureView(name: TableName): Promise<boolean>;
}

export const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
export const qualifiedName = (t: TableName) => `${quoteIdentifier(t.schema)}.${quoteIdentifier(t.name)}`;

/** Tables as plain DuckDB tables on the runner's connection: no versions, nothing on disk unless the database is a file. */
export function createDuckDBTableStore(conn: DuckDBConnection): TableStore {
  const rowCount = async (name: TableName) => {
    const reader = await conn.runAndReadAll(`SELECT count(*) FROM ${qualifiedName(name)}`);
    return Number(reader.getRows()[0]![0]);
  };
  return {
    async createOrReplace(name, query, { partitionBy }) {
      await checkPartitionColumns(conn, name, query, partitionBy);
      await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(name.schema)}`);
      await conn.run(`CREATE OR REPLACE TABLE ${qualifiedName(name)} AS ${query}`);
      return { rows: await rowCount(name) };
    },
    async insertInto(name, query) {
      await conn.run(`INSERT INTO ${qualifiedName(name)} ${query}`);
      return { rows: await rowCount(name) };
    },
    async merge(name, targetAlias, statementTail) {
      await conn.run(`MERGE INTO ${qualifiedName(name)} AS ${quoteIdentifier(targetAlias)} ${statementTail}`);
      return { rows: await rowCount(name) };
    },
    async ensureView(name) {
      const reader = await conn.runAndReadAll(
        `SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND schema_name = $schema AND table_name = $name`,
        { schema: name.schema, name: name.name },
      );
      return Number(reader.getRows()[0]![0]) > 0;
    },
  };
}

/** DuckDB tables are not partitioned, but a partition column the table lacks is still a mistake to report. */
export async function checkPartitionColumns(
  conn: DuckDBConnection,
  name: TableName,
  query: string,
  partitionBy: string[],
): Promise<void> {
  if (partitionBy.length === 0) return;
  const reader = await conn.runAndReadAll(`DESCRIBE ${query}`);
  const columns = reader.getRowObjectsJS().map((r) => String(r.column_name));
  const missing = partitionBy.filter((p) => !columns.some((c) => c.toLowerCase() === p.toLowerCase()));
  if (missing.length > 0) {
    throw new Error(
      `PARTITIONED BY names ${missing.join(', ')}, which the query for ${name.schema}.${name.name} does not return (columns: ${columns.join(', ')})`,
    );
  }
}
