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
import { NotebookError } from '../notebooks/parser.ts';
import { planTransform } from '../notebooks/plan.ts';
import { runNotebooks, type CellEvent, type TableWritten } from '../notebooks/runner.ts';
import type { SqlSource } from '../notebooks/sql-source.ts';
import { AUDIT_TABLE, type SqlSession } from '../sql/types.ts';
import { count, formatNumber } from '../util/format.ts';
import { consoleLogger, type Logger } from '../util/log.ts';
import { noProgress, type Progress } from '../util/progress.ts';
import type { RunInfo } from '../util/run.ts';
import type { Manifest } from './manifest.ts';

export { planTransform, type PlannedNotebook } from '../notebooks/plan.ts';

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
  /** Where the cell under way is shown, with its timer. */
  progress?: Progress;
  /** DuckDB's memory limit, threads and spill folder (an absolute path); DuckDB's defaults where unset. */
  duckdb?: { memoryLimit?: string; threads?: number; spillDirectory?: string };
}

export interface QueryOutput {
  notebook: string;
  cell: number;
  title?: string;
  columns: string[];
  rows: Record<string, JS>[];
}

/** Where and why a run stopped. */
export interface TransformFailure {
  message: string;
  notebook?: string;
  cell?: number;
  title?: string;
  line?: number;
}

export interface TransformManifest extends Manifest {
  stage: 'transform';
  /**
   * A failed run has a manifest too: `failure` says where and why, `tables` what it wrote before it stopped.
   * Manifests written before failures were recorded have no status: they are of succeeded runs.
   */
  status?: 'succeeded' | 'failed';
  failure?: TransformFailure;
  deltaRoot: string;
  params: NotebookParams;
  fingerprint?: string;
  /** The notebooks run; `reads` are the Delta tables each read, `extracts` the SQL store tables. */
  notebooks: { path: string; seconds: number; cells: number; reads?: string[]; extracts?: string[] }[];
  /** Every table written, in order, with the version it committed. */
  tables: TableWritten[];
  /** What the notebooks' plain queries returned (their last cells show results, e.g. the top rules). */
  queries: QueryOutput[];
}

/** The run stopped: the error says why (its message is the cause's), `manifest` is the failed run's manifest. */
export class TransformFailedError extends Error {
  override name = 'TransformFailedError';
  readonly manifest: TransformManifest;
  constructor(manifest: TransformManifest, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.manifest = manifest;
  }
}

/** Where and why a run stopped, for its manifest: the notebook, cell and line when a notebook said so. */
export function failureOf(error: unknown): TransformFailure {
  if (!(error instanceof NotebookError))
    return { message: error instanceof Error ? error.message : String(error) };
  const { notebook, cell, line } = error.where;
  return { message: error.detail, notebook, cell: cell?.index, title: cell?.title, line };
}

/** DuckDB's own names for the settings given (DuckDB refuses a malformed one when the instance starts). */
function duckdbConfig(settings: NonNullable<TransformOptions['duckdb']>): Record<string, string> {
  return {
    ...(settings.memoryLimit ? { memory_limit: settings.memoryLimit } : {}),
    ...(settings.threads ? { threads: String(settings.threads) } : {}),
    ...(settings.spillDirectory ? { temp_directory: settings.spillDirectory } : {}),
  };
}

export async function transform(options: TransformOptions): Promise<TransformManifest> {
  const { log = consoleLogger, progress = noProgress } = options;
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
  const instance = await DuckDBInstance.create(':memory:', duckdbConfig(options.duckdb ?? {}));
  const conn = await instance.connect();
  const written: TableWritten[] = [];
  try {
    // Delta timestamps are UTC; so is every date and time the notebooks compute.
    await conn.run("SET TimeZone = 'UTC'");
    const result = await runNotebooks({
      notebooks: options.notebooks,
      conn,
      tables: createDeltaTableStore(conn, options.deltaRoot),
      source: options.source,
      params: options.params,
      onTable: (t) => {
        written.push(t);
        log.info(`  ${t.table.padEnd(34)} version ${String(t.version).padStart(3)}  ${count(t.rows, 'row')}`);
      },
      onCell: (cell) => showCell(progress, cell),
    }).catch((error: unknown) => {
      const finishedAt = new Date().toISOString();
      const failed = { ...base, finishedAt, status: 'failed' as const, failure: failureOf(error) };
      throw new TransformFailedError({ ...failed, notebooks: [], tables: written, queries: [] }, error);
    });
    return {
      ...base,
      status: 'succeeded',
      finishedAt: new Date().toISOString(),
      notebooks: await notebookRecords(options, result.notebooks),
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
    // The summary tells what ran; the status line only kept the time while it did.
    progress.done('');
    conn.closeSync();
    instance.closeSync();
  }
}

/** The cell under way, its timer running, and how far the run is: "04_basket_rules.sql cell 7 "Pairs" (31/40) 12.3 s". */
function showCell(progress: Progress, cell: CellEvent): void {
  if (cell.phase === 'finish') return;
  progress.update(`${cellName(cell)} (${formatNumber(cell.position)}/${formatNumber(cell.total)})`, {
    done: cell.position - 1,
    total: cell.total,
    stepStartedAt: Date.now(),
  });
}

function cellName(cell: CellEvent): string {
  return `${path.basename(cell.notebook)} cell ${cell.cell}${cell.title ? ` "${cell.title}"` : ''}`;
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
 * The skip-unchanged rule: a run may be skipped when the last one read the same inputs (same fingerprint), did
 * not fail, and every table it wrote is still there to read.
 */
export function isUnchanged(
  last: TransformManifest | undefined,
  fingerprint: string,
): last is TransformManifest {
  return (
    last?.fingerprint === fingerprint &&
    last.status !== 'failed' &&
    last.tables.every((t) => existsSync(path.join(last.deltaRoot, ...t.table.split('.'), '_delta_log')))
  );
}

/** Each notebook as the manifest records it: time, cells, and what it read (for the app's lineage). */
async function notebookRecords(
  options: TransformOptions,
  notebooks: { path: string; seconds: number; cells: unknown[] }[],
): Promise<TransformManifest['notebooks']> {
  const plans = await planTransform(options.notebooks);
  const isTable = (name: string) =>
    existsSync(path.join(options.deltaRoot, ...name.split('.'), '_delta_log'));
  return notebooks.map((n, i) => ({
    path: n.path,
    seconds: n.seconds,
    cells: n.cells.length,
    reads: plans[i]?.mentions.filter(isTable) ?? [],
    extracts: plans[i]?.extracts ?? [],
  }));
}
