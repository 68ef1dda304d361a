// app/sources/ holds where the app reads its tables: the local Delta folder (this file) or a Databricks SQL
// warehouse (databricks.ts), the DuckDB runner they share (duckdb.ts) and the run manifests (manifests.ts).
//
// The local Delta tables (`<deltaRoot>/<schema>/<name>`), read with DuckDB through the project's Delta module:
// each table is a view over the version served (the one the last successful pipeline run wrote, runs.ts; the
// latest without run manifests), replaced when that changes; any other version gets its own view for time travel.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openDeltaTable, registerDeltaView } from '../../src/delta/index.ts';
import { sqlTypeName } from '../columns.ts';
import { servedVersions } from '../runs.ts';
import type { ColumnInfo, DataSource, HistoryEntry, SourceParam, TableVersion } from '../source.ts';
import { SourceError } from '../source.ts';
import { TABLES } from '../sql.ts';
import type { TableName } from '../sql.ts';
import { DuckDBPool } from './duckdb.ts';
import { manifestReader } from './manifests.ts';

export interface LocalSourceOptions {
  /** The folder of the Delta tables (profiles.<p>.delta in lakehouse.yml). */
  deltaRoot: string;
  /** The folder of the run manifests: which versions to serve, the run history and the lineage (optional). */
  manifestsDir?: string;
  /** DuckDB connections for concurrent queries (default 4). */
  connections?: number;
  /** DuckDB threads (default: DuckDB's own, one per core). */
  threads?: number;
  /**
   * Tables copied into memory when a version is registered, instead of read from Parquet by every query
   * (default: the gold tables, which are small; silver stays on disk).
   */
  inMemory?: (table: TableName) => boolean;
}

const TIME_TRAVEL_SCHEMA = 'time_travel';
const STAGING_SCHEMA = 'delta_staging';

function tableLocation(deltaRoot: string, table: TableName): string {
  const [schema, name] = table.split('.') as [string, string];
  return path.join(deltaRoot, schema, name);
}

function isDeltaTable(location: string): boolean {
  return fs.existsSync(path.join(location, '_delta_log'));
}

function iso(ms: number | undefined): string {
  return new Date(ms ?? 0).toISOString();
}

/**
 * The table's served version as a view, or as a table in memory replaced in one statement, so that queries
 * never see it missing.
 */
async function registerServed(
  pool: DuckDBPool,
  table: TableName,
  location: string,
  version: number,
  inMemory: boolean,
) {
  return pool.use(async (c) => {
    if (!inMemory) return registerDeltaView(c, table, location, { version, temporary: false });
    const staging = `${STAGING_SCHEMA}.${table.replace('.', '__')}`;
    const snapshot = await registerDeltaView(c, staging, location, { version, temporary: false });
    await c.run(`CREATE SCHEMA IF NOT EXISTS ${table.split('.')[0]}`);
    await c.run(`CREATE OR REPLACE TABLE ${table} AS SELECT * FROM ${staging}`);
    return snapshot;
  });
}

/** Earlier versions for time travel: one view per table and version, registered once even when asked together. */
function timeTravelViews(
  pool: DuckDBPool,
  locate: (table: TableName) => string,
): (table: TableName, version: number) => Promise<string> {
  const views = new Map<string, Promise<string>>();
  return (table, version) => {
    const view = `${TIME_TRAVEL_SCHEMA}.${table.replace('.', '__')}__v${version}`;
    let registering = views.get(view);
    if (!registering) {
      const location = locate(table);
      registering = pool
        .use((c) => registerDeltaView(c, view, location, { version, temporary: false }))
        .then(() => view);
      views.set(view, registering);
      registering.catch(() => views.delete(view));
    }
    return registering;
  };
}

async function historyAt(location: string): Promise<HistoryEntry[]> {
  const entries = await openDeltaTable(location).history();
  return entries.map((e) => {
    const rows = Number(e.operationMetrics.numOutputRows);
    return {
      version: e.version,
      committedAt: iso(e.timestamp),
      operation: e.operation,
      rowsWritten: e.operationMetrics.numOutputRows === undefined || !Number.isFinite(rows) ? null : rows,
    };
  });
}

async function columnsAt(location: string, version: number): Promise<ColumnInfo[]> {
  const snapshot = await openDeltaTable(location).snapshot({ version });
  return snapshot.schema.fields.map((f) => {
    const comment = f.metadata.comment;
    return { name: f.name, type: sqlTypeName(f.type), comment: typeof comment === 'string' ? comment : null };
  });
}

export async function localSource(options: LocalSourceOptions): Promise<DataSource> {
  const deltaRoot = path.resolve(options.deltaRoot);
  const instance = await DuckDBInstance.create(':memory:', {
    ...(options.threads ? { threads: String(options.threads) } : {}),
  });
  const pool = await DuckDBPool.open(instance, options.connections ?? 4);
  const registered = new Map<TableName, TableVersion>();
  const inMemory = options.inMemory ?? ((table: TableName) => table.startsWith('gold.'));
  await pool.use((c) =>
    c.run(
      `CREATE SCHEMA IF NOT EXISTS ${TIME_TRAVEL_SCHEMA}; CREATE SCHEMA IF NOT EXISTS ${STAGING_SCHEMA};`,
    ),
  );

  const manifests = manifestReader(options.manifestsDir);
  // Registers the version to serve of each table whose served version changed; one check at a time.
  let refreshing: Promise<void> | undefined;
  async function refresh(): Promise<void> {
    const served = servedVersions(await manifests());
    for (const table of TABLES) {
      const location = tableLocation(deltaRoot, table);
      if (!isDeltaTable(location)) {
        registered.delete(table);
        continue;
      }
      const latestVersion = await openDeltaTable(location).latestVersion();
      const version = Math.min(served.get(table) ?? latestVersion, latestVersion);
      const current = registered.get(table);
      if (current?.version === version) {
        current.latestVersion = latestVersion;
        continue;
      }
      const snapshot = await registerServed(pool, table, location, version, inMemory(table));
      registered.set(table, {
        version: snapshot.version,
        committedAt: iso(snapshot.timestamp),
        latestVersion,
      });
    }
  }
  function versions(): Promise<Partial<Record<TableName, TableVersion>>> {
    refreshing ??= refresh().finally(() => (refreshing = undefined));
    return refreshing.then(() =>
      Object.fromEntries([...registered].map(([table, version]) => [table, { ...version }])),
    );
  }
  await versions();

  function located(table: TableName): string {
    const location = tableLocation(deltaRoot, table);
    if (!isDeltaTable(location))
      throw new SourceError('not-found', `${table}: no Delta table at ${location}`);
    return location;
  }
  const viewAt = timeTravelViews(pool, located);

  return {
    kind: 'local',
    query: (sql: string, params?: Record<string, SourceParam>) => pool.query(sql, params),
    versions,
    history: async (table) => historyAt(located(table)),
    columns: async (table, version) => columnsAt(located(table), version),
    async queryAt(table, version, makeSql, params) {
      return pool.query(makeSql(await viewAt(table, version)), params);
    },
    manifests,
    async close() {
      await refreshing?.catch(() => undefined);
      await pool.close();
      instance.closeSync();
    },
  };
}
