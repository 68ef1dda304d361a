// The gold tables in a Databricks SQL warehouse, through src/databricks/sql.ts. Table versions and history come
// from DESCRIBE HISTORY, time travel from VERSION AS OF.
import { openWarehouse, WarehouseError } from '../../src/databricks/sql.ts';
import type { Warehouse, WarehouseConfig } from '../../src/databricks/sql.ts';
import type { DataSource, HistoryEntry, SourceParam, SourceRow, TableVersion } from '../source.ts';
import { SourceError } from '../source.ts';
import * as sql from '../sql.ts';
import { TABLES } from '../sql.ts';
import type { TableName } from '../sql.ts';
import { readRunSummary } from './manifests.ts';

export interface DatabricksSourceOptions extends WarehouseConfig {
  /** Run manifests to show as the last pipeline run (optional: a deployed app usually has none). */
  manifestsDir?: string;
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

export function databricksSource(options: DatabricksSourceOptions): DataSource {
  const warehouse: Warehouse = openWarehouse(options);

  async function query(text: string, params: Record<string, SourceParam> = {}): Promise<SourceRow[]> {
    try {
      return (await warehouse.query(text, params)) as SourceRow[];
    } catch (error) {
      throw sourceError(error);
    }
  }

  return {
    kind: 'databricks',
    query,
    async versions() {
      const results = await Promise.allSettled(
        TABLES.map(async (table) => {
          const [latest] = await query(sql.databricksHistory(table, 1));
          return [table, latest] as const;
        }),
      );
      const versions: Partial<Record<TableName, TableVersion>> = {};
      for (const result of results) {
        if (result.status === 'rejected') {
          // A table that does not exist is left out; a warehouse that does not answer is an outage.
          const error = result.reason as unknown;
          if (error instanceof SourceError && error.reason === 'query') continue;
          throw error;
        }
        const [table, latest] = result.value;
        if (latest) {
          const entry = historyEntry(latest);
          versions[table] = { version: entry.version, committedAt: entry.committedAt };
        }
      }
      return versions;
    },
    async history(table) {
      return (await query(sql.databricksHistory(table))).map(historyEntry);
    },
    queryAt(table, version, makeSql, params) {
      return query(makeSql(sql.databricksTableAt(table, version)), params);
    },
    lastRun: () => readRunSummary(options.manifestsDir),
    close: () => warehouse.close(),
  };
}
