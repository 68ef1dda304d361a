// The tables in a Databricks SQL warehouse, through src/databricks/sql.ts. Table versions and history come from
// DESCRIBE HISTORY, columns from DESCRIBE TABLE, time travel from VERSION AS OF. With run manifests, the queries
// read the versions the last successful run wrote (VERSION AS OF) rather than the latest. The manifests of the
// transform runs on Databricks come from the warehouse's run log (src/databricks/run-log.ts), those of a folder too
// when one is given.
import { readRunLog } from '../../src/databricks/run-log.ts';
import { openWarehouse, WarehouseError } from '../../src/databricks/sql.ts';
import type { Warehouse, WarehouseConfig } from '../../src/databricks/sql.ts';
import { servedVersions } from '../runs.ts';
import type {
  ColumnInfo,
  DataSource,
  HistoryEntry,
  SourceParam,
  SourceRow,
  TableVersion,
} from '../source.ts';
import { SourceError } from '../source.ts';
import * as sql from '../sql.ts';
import { TABLES } from '../sql.ts';
import type { TableName } from '../sql.ts';
import { manifestReader, type StageManifest } from './manifests.ts';

export interface DatabricksSourceOptions extends WarehouseConfig {
  /** A folder of run manifests, besides the warehouse's run log (optional: a deployed app usually has none). */
  manifestsDir?: string;
}

/** The folder's manifests and the logged runs the folder does not hold (the same run can be in both), oldest first. */
export function withRunLog(fromFolder: StageManifest[], logged: StageManifest[]): StageManifest[] {
  const key = (m: StageManifest) => `${m.stage} ${m.runId} ${m.startedAt}`;
  const known = new Set(fromFolder.map(key));
  return [...fromFolder, ...logged.filter((m) => !known.has(key(m)))].sort((a, b) =>
    a.startedAt.localeCompare(b.startedAt),
  );
}

function sourceError(error: unknown): unknown {
  if (!(error instanceof WarehouseError)) return error;
  const reason = error.reason === 'closed' ? 'unreachable' : error.reason;
  return new SourceError(reason, error.message, { cause: error });
}

function iso(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return new Date(String(value)).toISOString();
}

function rowsWritten(metrics: unknown): number | null {
  if (metrics === null || typeof metrics !== 'object') return null;
  const value = (metrics as Record<string, unknown>).numOutputRows;
  const n = Number(value);
  return value === undefined || value === null || !Number.isFinite(n) ? null : n;
}

function historyEntry(row: SourceRow): HistoryEntry {
  return {
    version: Number(row.version),
    committedAt: iso(row.timestamp),
    operation: String(row.operation ?? 'UNKNOWN'),
    rowsWritten: rowsWritten(row.operationMetrics),
  };
}

/** DESCRIBE TABLE's rows up to the blank row or `# …` heading that starts the partition details. */
function describedColumns(rows: SourceRow[]): ColumnInfo[] {
  const columns: ColumnInfo[] = [];
  for (const row of rows) {
    const name = String(row.col_name ?? '').trim();
    if (name === '' || name.startsWith('#')) break;
    const comment = row.comment === null || row.comment === undefined ? '' : String(row.comment);
    columns.push({ name, type: String(row.data_type), comment: comment === '' ? null : comment });
  }
  return columns;
}

/** Without a run manifest that wrote it, a table is served at its latest version. */
async function tableVersion(
  query: (text: string) => Promise<SourceRow[]>,
  table: TableName,
  served: number | undefined,
): Promise<TableVersion | undefined> {
  const [latestRow] = await query(sql.databricksHistory(table, 1));
  if (!latestRow) return undefined;
  const latest = historyEntry(latestRow);
  if (served === undefined || served >= latest.version)
    return { version: latest.version, committedAt: latest.committedAt, latestVersion: latest.version };
  const entry = (await query(sql.databricksHistory(table)))
    .map(historyEntry)
    .find((e) => e.version === served);
  if (!entry)
    return { version: latest.version, committedAt: latest.committedAt, latestVersion: latest.version };
  return { version: entry.version, committedAt: entry.committedAt, latestVersion: latest.version };
}

export function databricksSource(options: DatabricksSourceOptions): DataSource {
  const warehouse: Warehouse = openWarehouse(options);

  async function query(text: string, params: Record<string, SourceParam> = {}): Promise<SourceRow[]> {
    try {
      return (await warehouse.query(text, params)) as SourceRow[];
    } catch (error) {
      throw sourceError(error);
    }
  }

  const folder = manifestReader(options.manifestsDir);
  const manifests = async () => {
    const logged = await readRunLog(warehouse).catch((error: unknown) => {
      throw sourceError(error);
    });
    return withRunLog(await folder(), logged);
  };
  // The versions queries read, for the tables whose served version is not the latest.
  let pinned: Partial<Record<TableName, number>> = {};

  async function versions(): Promise<Partial<Record<TableName, TableVersion>>> {
    const served = servedVersions(await manifests());
    const results = await Promise.allSettled(
      TABLES.map(async (table) => [table, await tableVersion(query, table, served.get(table))] as const),
    );
    const found: Partial<Record<TableName, TableVersion>> = {};
    for (const result of results) {
      if (result.status === 'rejected') {
        // A table that does not exist is left out; a warehouse that does not answer is an outage.
        const error = result.reason as unknown;
        if (error instanceof SourceError && error.reason === 'query') continue;
        throw error;
      }
      const [table, version] = result.value;
      if (version) found[table] = version;
    }
    pinned = Object.fromEntries(
      Object.entries(found).flatMap(([t, v]) => (v.version < v.latestVersion ? [[t, v.version]] : [])),
    );
    return found;
  }

  return {
    kind: 'databricks',
    query: (text, params) => query(sql.databricksAtVersions(text, pinned), params),
    versions,
    async history(table) {
      return (await query(sql.databricksHistory(table))).map(historyEntry);
    },
    async columns(table) {
      return describedColumns(await query(sql.databricksDescribe(table)));
    },
    queryAt(table, version, makeSql, params) {
      return query(makeSql(sql.databricksTableAt(table, version)), params);
    },
    manifests,
    close: () => warehouse.close(),
  };
}
