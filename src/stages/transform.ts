// Transform: the Databricks SQL notebooks, run locally on DuckDB. Tables they write become Delta table versions
// under the delta folder; extraction views read the SQL store the load stage wrote. On Databricks the same
// notebook files run as they are.
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type JS } from '@duckdb/node-api';
import { createDeltaTableStore } from '../notebooks/delta-table-store.ts';
import type { NotebookParams } from '../notebooks/params.ts';
import { readNotebook } from '../notebooks/parser.ts';
import { runNotebooks, type TableWritten } from '../notebooks/runner.ts';
import type { SqlSource } from '../notebooks/sql-source.ts';
import { classifyStatement, tableNameText } from '../notebooks/statements.ts';
import { AUDIT_TABLE, type SqlSession } from '../sql/types.ts';
import { consoleLogger, type Logger } from '../util/log.ts';
import type { RunInfo } from '../util/run.ts';
import type { Manifest } from './manifest.ts';

export interface TransformOptions {
  notebooks: string[];
  /** Folder of the Delta tables: `schema.name` lives at `<deltaRoot>/<schema>/<name>`. */
  deltaRoot: string;
  source: SqlSource;
  params: NotebookParams;
  run: RunInfo;
  log?: Logger;
  /** What the inputs were (see inputFingerprint), recorded in the manifest. */
  fingerprint?: string;
}

export interface QueryOutput {
  notebook: string;
  cell: number;
  title?: string;
  columns: string[];
  rows: Record<string, JS>[];
}

export interface TransformManifest extends Manifest {
  stage: 'transform';
  deltaRoot: string;
  params: NotebookParams;
  fingerprint?: string;
  notebooks: { path: string; seconds: number; cells: number }[];
  /** Every table written, in order, with the version it committed. */
  tables: TableWritten[];
  /** What the notebooks' plain queries returned (their last cells show results, e.g. the top rules). */
  queries: QueryOutput[];
}

export async function transform(options: TransformOptions): Promise<TransformManifest> {
  const { log = consoleLogger } = options;
  const startedAt = new Date().toISOString();
  const base = {
    stage: 'transform' as const,
    runId: options.run.id,
    startedAt,
    dryRun: false,
    deltaRoot: options.deltaRoot,
    params: options.params,
    fingerprint: options.fingerprint,
  };
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    // Delta timestamps are UTC; so is every date and time the notebooks compute.
    await conn.run("SET TimeZone = 'UTC'");
    const result = await runNotebooks({
      notebooks: options.notebooks,
      conn,
      tables: createDeltaTableStore(conn, options.deltaRoot),
      source: options.source,
      params: options.params,
      onTable: (t) =>
        log.info(
          `  ${t.table.padEnd(34)} version ${String(t.version).padStart(3)}  ${t.rows.toLocaleString('en-US')} rows`,
        ),
    });
    return {
      ...base,
      finishedAt: new Date().toISOString(),
      notebooks: result.notebooks.map((n) => ({ path: n.path, seconds: n.seconds, cells: n.cells.length })),
      tables: result.tables,
      queries: result.notebooks.flatMap((n) =>
        n.cells.flatMap((c) =>
          c.statements.flatMap((s) =>
            s.kind === 'query'
              ? [{ notebook: n.path, cell: c.index, title: c.title, columns: s.columns, rows: s.rows }]
              : [],
          ),
        ),
      ),
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/**
 * A digest of everything a transform reads: the notebooks' text, the parameters, and the state of the loads
 * (from the audit table). The same fingerprint as the last run means the same tables would come out again.
 */
export async function inputFingerprint(
  notebooks: string[],
  params: NotebookParams,
  loads: string,
): Promise<string> {
  const hash = crypto.createHash('sha256');
  for (const file of notebooks)
    hash
      .update(file)
      .update('\0')
      .update(await fs.readFile(file))
      .update('\0');
  const sortedParams = Object.entries(params).sort(([a], [b]) => a.localeCompare(b));
  hash.update(JSON.stringify(sortedParams, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  return hash.update('\0').update(loads).digest('hex');
}

/** The loads as the audit table has them (how many, and the last): what the notebooks' extraction would read. */
export async function loadsState(session: SqlSession): Promise<string> {
  const rows = await session
    .query<{ n: number | string; last: number | string | null }>(
      `SELECT count(*) AS n, max(id) AS last FROM ${session.dialect.table(AUDIT_TABLE)}`,
    )
    // No audit table yet: nothing was loaded.
    .catch(() => [{ n: 0, last: null }]);
  return `${rows[0]!.n}:${rows[0]!.last ?? ''}`;
}

/**
 * The skip-unchanged rule: a run may be skipped when the last one read the same inputs (same fingerprint) and
 * every table it wrote is still there to read.
 */
export function isUnchanged(
  last: TransformManifest | undefined,
  fingerprint: string,
): last is TransformManifest {
  return (
    last?.fingerprint === fingerprint &&
    last.tables.every((t) => existsSync(path.join(last.deltaRoot, ...t.table.split('.'), '_delta_log')))
  );
}

/** The tables each notebook would write, read from its statements without running anything (a dry run). */
export async function planTransform(notebooks: string[]): Promise<{ notebook: string; tables: string[] }[]> {
  const planned = [];
  for (const file of notebooks) {
    const notebook = await readNotebook(file);
    const tables = notebook.cells
      .flatMap((c) => c.statements)
      .map((s) => classifyStatement(s.tokens))
      .flatMap((s) =>
        s.kind === 'create-table' || s.kind === 'insert' || s.kind === 'merge'
          ? [tableNameText(s.table)]
          : [],
      );
    planned.push({ notebook: file, tables: [...new Set(tables)] });
  }
  return planned;
}
