// Tables as Delta tables: `schema.name` lives at `<deltaRoot>/<schema>/<name>`, every write is one
// commit (a new table version), and the runner reads a table through a DuckDB view over its
// current snapshot. The Delta work itself is the Delta module's (src/delta); this adapter only
// maps the runner's four calls onto it, so the module is passed in rather than imported.
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { TableName } from './statements.ts';
import { qualifiedName, quoteIdentifier, type TableStore } from './table-store.ts';

/** The Delta module's calls this store makes. */
export interface DeltaFunctions {
  writeDelta(
    conn: DuckDBConnection,
    location: string,
    query: string,
    options: { mode: 'create' | 'append' | 'overwrite'; partitionBy?: string[] },
  ): Promise<{ version: number }>;
  mergeDelta(
    conn: DuckDBConnection,
    location: string,
    options: { targetAlias: string; statementTail: string },
  ): Promise<{ version: number }>;
  registerDeltaView(
    conn: DuckDBConnection,
    viewName: string,
    location: string,
    options?: { version?: number },
  ): Promise<void>;
}

export function deltaLocation(deltaRoot: string, table: TableName): string {
  return path.join(deltaRoot, table.schema, table.name);
}

const isDeltaTable = (location: string) => fs.existsSync(path.join(location, '_delta_log'));

export function createDeltaTableStore(
  conn: DuckDBConnection,
  deltaRoot: string,
  delta: DeltaFunctions,
): TableStore {
  // After each commit the view moves to the new snapshot, so later statements read the new version.
  const refreshView = async (name: TableName, location: string) => {
    await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(name.schema)}`);
    await delta.registerDeltaView(conn, qualifiedName(name), location);
  };
  const committed = async (name: TableName, location: string, version: number) => {
    await refreshView(name, location);
    const reader = await conn.runAndReadAll(`SELECT count(*) FROM ${qualifiedName(name)}`);
    return { version, rows: Number(reader.getRows()[0]![0]) };
  };
  return {
    async createOrReplace(name, query, { partitionBy }) {
      const location = deltaLocation(deltaRoot, name);
      const mode = isDeltaTable(location) ? 'overwrite' : 'create';
      const { version } = await delta.writeDelta(conn, location, query, { mode, partitionBy });
      return committed(name, location, version);
    },
    async insertInto(name, query) {
      const location = deltaLocation(deltaRoot, name);
      if (!isDeltaTable(location))
        throw new Error(`INSERT INTO ${name.schema}.${name.name}: no Delta table at ${location}`);
      const { version } = await delta.writeDelta(conn, location, query, { mode: 'append' });
      return committed(name, location, version);
    },
    async merge(name, targetAlias, statementTail) {
      const location = deltaLocation(deltaRoot, name);
      if (!isDeltaTable(location))
        throw new Error(`MERGE INTO ${name.schema}.${name.name}: no Delta table at ${location}`);
      const { version } = await delta.mergeDelta(conn, location, { targetAlias, statementTail });
      return committed(name, location, version);
    },
    async ensureView(name) {
      const location = deltaLocation(deltaRoot, name);
      if (!isDeltaTable(location)) return false;
      await refreshView(name, location);
      return true;
    },
  };
}
