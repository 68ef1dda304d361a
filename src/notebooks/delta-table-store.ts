// Tables as Delta tables: `schema.name` lives at `<deltaRoot>/<schema>/<name>`, every write is one commit (a new
// table version), and the runner reads a table through a DuckDB view over its current snapshot.
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { mergeDelta, registerDeltaView, writeDelta } from '../delta/index.ts';
import type { TableName } from './statements.ts';
import { qualifiedName, type TableStore } from './table-store.ts';

export function deltaLocation(deltaRoot: string, table: TableName): string {
  return path.join(deltaRoot, table.schema, table.name);
}

const isDeltaTable = (location: string) => fs.existsSync(path.join(location, '_delta_log'));

export function createDeltaTableStore(conn: DuckDBConnection, deltaRoot: string): TableStore {
  // The version each view shows. A write whose query reads the table it writes commits only on top of that
  // version: if another writer committed in between, the write fails instead of dropping rows it never saw.
  const viewVersions = new Map<string, number>();
  const key = (name: TableName) => `${name.schema}.${name.name}`;

  const refreshView = async (name: TableName, location: string) => {
    const snapshot = await registerDeltaView(conn, key(name), location);
    viewVersions.set(key(name), snapshot.version);
  };
  const committed = async (name: TableName, location: string, version: number) => {
    await refreshView(name, location);
    const reader = await conn.runAndReadAll(`SELECT count(*) FROM ${qualifiedName(name)}`);
    return { version, rows: Number(reader.getRows()[0]![0]) };
  };
  const requireTable = (statement: string, name: TableName, location: string) => {
    if (!isDeltaTable(location))
      throw new Error(`${statement} ${key(name)}: no Delta table at ${location} (create it first)`);
  };

  return {
    async createOrReplace(name, query, { partitionBy }) {
      const location = deltaLocation(deltaRoot, name);
      const { version } = await writeDelta(conn, location, query, {
        mode: 'create',
        partitionBy,
        readVersion: viewVersions.get(key(name)),
      });
      return committed(name, location, version);
    },
    async insertInto(name, query) {
      const location = deltaLocation(deltaRoot, name);
      requireTable('INSERT INTO', name, location);
      const { version } = await writeDelta(conn, location, query, {
        mode: 'append',
        byPosition: true,
        readVersion: viewVersions.get(key(name)),
      });
      return committed(name, location, version);
    },
    async merge(name, targetAlias, statementTail) {
      const location = deltaLocation(deltaRoot, name);
      requireTable('MERGE INTO', name, location);
      const { version } = await mergeDelta(conn, location, { targetAlias, statementTail });
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
