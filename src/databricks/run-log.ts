// The transform runs on Databricks, kept in the warehouse beside the tables they wrote. A deployed app has no run
// manifest files to read (they stay on the runner that ran the transform), so the Databricks transform also appends
// each run's manifest, failed runs too, to a Delta table; the app reads it back to serve the versions of the last
// fully successful run (VERSION AS OF) and to say when a later run failed.
import type { TransformManifest } from '../stages/transform.ts';
import { WarehouseError, type Warehouse } from './sql.ts';

export const RUN_LOG_SCHEMA = 'lakehouse_runs';
export const RUN_LOG_TABLE = `${RUN_LOG_SCHEMA}.transform_runs`;

// Plain names stay unquoted: every Databricks SQL dialect (and the warehouses that stand in for it) reads them.
const backquote = (name: string) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `\`${name.replaceAll('`', '``')}\``;
const tableSql = (table: string) => table.split('.').map(backquote).join('.');

/** Spark's and Databricks' error classes for a table or schema that is not there. */
const isMissing = (e: unknown) =>
  e instanceof WarehouseError &&
  /TABLE_OR_VIEW_NOT_FOUND|SCHEMA_NOT_FOUND|DELTA_TABLE_NOT_FOUND/.test(e.message);

/** A table's latest commit: its version and Delta's name for the operation (WRITE, MERGE, CREATE OR REPLACE …). */
export interface LatestCommit {
  version: number;
  operation: string;
}

/** Each table's latest commit (DESCRIBE HISTORY); a table that does not exist yet is left out. */
export async function latestCommits(
  warehouse: Warehouse,
  tables: string[],
): Promise<Map<string, LatestCommit>> {
  const versions = new Map<string, LatestCommit>();
  for (const table of tables) {
    try {
      const [latest] = await warehouse.query<{ version: unknown; operation: unknown }>(
        `DESCRIBE HISTORY ${tableSql(table)} LIMIT 1`,
      );
      if (latest)
        versions.set(table, { version: Number(latest.version), operation: String(latest.operation) });
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
  }
  return versions;
}

/** The rows of a table at one version (from the Delta log's statistics on Databricks, so cheap). */
export async function rowsAt(warehouse: Warehouse, table: string, version: number): Promise<number> {
  const [row] = await warehouse.query<{ n: unknown }>(
    `SELECT count(*) AS n FROM ${tableSql(table)} VERSION AS OF ${Math.trunc(version)}`,
  );
  return Number(row?.n ?? 0);
}

/** Appends one run's manifest (the table made on first use). */
export async function appendRunLog(warehouse: Warehouse, manifest: TransformManifest): Promise<void> {
  await warehouse.query(`CREATE SCHEMA IF NOT EXISTS ${backquote(RUN_LOG_SCHEMA)}`);
  await warehouse.query(
    `CREATE TABLE IF NOT EXISTS ${tableSql(RUN_LOG_TABLE)} ` +
      '(run_id STRING, started_at STRING, finished_at STRING, status STRING, manifest STRING) USING DELTA',
  );
  await warehouse.query(
    `INSERT INTO ${tableSql(RUN_LOG_TABLE)} VALUES (:run_id, :started_at, :finished_at, :status, :manifest)`,
    {
      run_id: manifest.runId,
      started_at: manifest.startedAt,
      finished_at: manifest.finishedAt,
      status: manifest.status ?? 'succeeded',
      manifest: JSON.stringify(manifest),
    },
  );
}

/**
 * Every run logged, oldest first. None before the first run made the table, and none where the log cannot be read
 * as a query (a warehouse without it, or without access to it): the app then serves the latest versions, as it does
 * for any table it cannot read; a warehouse that does not answer is still an error.
 */
export async function readRunLog(warehouse: Warehouse): Promise<TransformManifest[]> {
  try {
    const rows = await warehouse.query<{ manifest: unknown }>(
      `SELECT manifest FROM ${tableSql(RUN_LOG_TABLE)} ORDER BY started_at, finished_at`,
    );
    return rows.map((r) => JSON.parse(String(r.manifest)) as TransformManifest);
  } catch (e) {
    if (isMissing(e) || (e instanceof WarehouseError && e.reason === 'query')) return [];
    throw e;
  }
}
