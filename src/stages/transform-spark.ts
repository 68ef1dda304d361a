// Transform on Apache Spark with Delta Lake: the same notebook files as on DuckDB, run as one Spark job in one JVM
// (src/spark/), writing the same tables at the same place (`<deltaRoot>/<schema>/<table>`) and the same manifest.
// `local[*]` by default; a `spark://host:port` master sends the same job to a standalone cluster.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JS } from '@duckdb/node-api';
import type { SqlTargetConfig } from '../config/schema.ts';
import type { NotebookParams } from '../notebooks/params.ts';
import { NotebookError, readNotebook, type Notebook } from '../notebooks/parser.ts';
import { NotebookAssertionError, type TableWritten } from '../notebooks/runner.ts';
import { tableNameText } from '../notebooks/statements.ts';
import {
  clusterJars,
  runSparkJob,
  sparkModule,
  type SparkResult,
  type SparkModule,
} from '../spark/engine.ts';
import { jdbcConnection } from '../spark/jdbc.ts';
import { notebookJob, type JobStep, type NotebookJob } from '../spark/job.ts';
import { count } from '../util/format.ts';
import { consoleLogger, type Logger } from '../util/log.ts';
import { noProgress, type Progress } from '../util/progress.ts';
import type { RunInfo } from '../util/run.ts';
import { failureOf, TransformFailedError, type QueryOutput, type TransformManifest } from './transform.ts';

export const DEFAULT_MASTER = 'local[*]';

export interface SparkTransformOptions {
  notebooks: string[];
  /** Folder of the Delta tables: `schema.name` lives at `<deltaRoot>/<schema>/<name>`. */
  deltaRoot: string;
  /** The SQL store the extraction cells read over JDBC. */
  sql: SqlTargetConfig;
  params: NotebookParams;
  run: RunInfo;
  master?: string;
  /** Spark configuration over the defaults (a profile's spark.conf). */
  conf?: Record<string, string>;
  log?: Logger;
  progress?: Progress;
  /** Spark's own log lines (redacted), e.g. for LAKEHOUSE_DEBUG. */
  onSparkLog?: (line: string) => void;
  fingerprint?: string;
  module?: SparkModule;
  signal?: AbortSignal;
}

export interface SparkTransformManifest extends TransformManifest {
  engine: 'spark';
  spark: { version: string; delta: string; master: string; startSeconds: number };
}

/**
 * Settings for a local session on a small machine: few shuffle and Delta snapshot partitions (Spark's defaults of 200
 * and 50 are for clusters), loopback only, UTC as on DuckDB. A profile's spark.conf overrides any of them.
 */
function defaultConf(master: string, warehouse: string): Record<string, string> {
  const conf: Record<string, string> = {
    'spark.sql.session.timeZone': 'UTC',
    // No Hive metastore: the warehouse only holds the default schema, in a folder of its own.
    'spark.sql.warehouse.dir': warehouse,
  };
  if (!/^local(\[|$)/.test(master)) return conf;
  return {
    ...conf,
    'spark.sql.shuffle.partitions': '4',
    'spark.databricks.delta.snapshotPartitions': '2',
    'spark.driver.bindAddress': '127.0.0.1',
    'spark.driver.host': '127.0.0.1',
  };
}

export async function transformOnSpark(options: SparkTransformOptions): Promise<SparkTransformManifest> {
  const { log = consoleLogger, progress = noProgress } = options;
  const startedAt = new Date().toISOString();
  const master = options.master ?? DEFAULT_MASTER;
  const module = options.module ?? sparkModule();
  // Every notebook parses, and every statement maps, before the JVM starts: a typo in the last one costs nothing.
  const notebooks: Notebook[] = [];
  for (const file of options.notebooks) notebooks.push(await readNotebook(file));
  let connection: ReturnType<typeof jdbcConnection> | undefined;
  const job = notebookJob(notebooks, options.params, () => (connection ??= jdbcConnection(options.sql)));
  const deltaRoot = path.resolve(options.deltaRoot);
  const warehouse = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-spark-warehouse-'));
  const conf = { ...defaultConf(master, warehouse), ...options.conf };
  if (!/^local(\[|$)/.test(master) && conf['spark.jars'] === undefined)
    conf['spark.jars'] = clusterJars(module).join(',');
  const collected = collector(job, log, progress);
  const base = {
    stage: 'transform' as const,
    engine: 'spark' as const,
    runId: options.run.id,
    startedAt,
    dryRun: false,
    deltaRoot: options.deltaRoot,
    params: options.params,
    fingerprint: options.fingerprint,
  };
  try {
    const outcome = await runSparkJob(
      {
        appName: `lakehouse transform ${options.run.id}`,
        master,
        conf,
        delta: { root: deltaRoot, schemas: job.schemas },
        redact: connection?.password ? [connection.password] : [],
        statements: job.statements,
      },
      { module, onResult: collected.onResult, onLog: options.onSparkLog, signal: options.signal },
    );
    const failed = outcome.results.at(-1);
    if (failed && !failed.ok) throw statementError(failed, job.steps.get(failed.id)!);
    progress.done();
    return {
      ...base,
      status: 'succeeded',
      finishedAt: new Date().toISOString(),
      spark: {
        version: outcome.session.spark,
        delta: outcome.session.delta,
        master: outcome.session.master,
        startSeconds: outcome.session.ms / 1000,
      },
      notebooks: notebooks.map((n) => ({
        path: n.path,
        seconds: collected.seconds.get(n.path) ?? 0,
        cells: n.cells.filter((c) => c.kind === 'sql').length,
      })),
      tables: collected.tables,
      queries: collected.queries,
    };
  } catch (error) {
    // A failed run leaves a manifest too, as on DuckDB: where it stopped and the table versions it wrote before.
    const finishedAt = new Date().toISOString();
    const manifest = { ...base, finishedAt, status: 'failed' as const, failure: failureOf(error) };
    throw new TransformFailedError(
      { ...manifest, notebooks: [], tables: collected.tables, queries: [] },
      error,
    );
  } finally {
    fs.rmSync(warehouse, { recursive: true, force: true });
  }
}

/** Turns the results, as they arrive, into the manifest's tables, queries and timings, and reports progress. */
function collector(job: NotebookJob, log: Logger, progress: Progress) {
  const tables: TableWritten[] = [];
  const queries: QueryOutput[] = [];
  const seconds = new Map<string, number>();
  let pending: TableWritten | undefined;
  const onResult = (result: SparkResult) => {
    const step = job.steps.get(result.id)!;
    seconds.set(step.notebook, (seconds.get(step.notebook) ?? 0) + result.ms / 1000);
    if (!result.ok) return;
    const role = step.role;
    const first = result.rows?.[0];
    if (role.kind === 'statement') {
      progress.update(
        `${step.notebook} cell ${step.cell.index}${step.cell.title ? ` "${step.cell.title}"` : ''}`,
      );
      if (role.table && role.operation) {
        const table = tableNameText(role.table);
        pending = {
          table,
          operation: role.operation,
          rows: 0,
          notebook: step.notebook,
          cell: step.cell.index,
        };
      } else if (role.form === 'query' && result.columns && result.rows) {
        queries.push(queryOutput(step, result.columns, result.rows));
      }
    } else if (role.kind === 'version' && pending) {
      pending.version = Number(first?.[0]);
    } else if (role.kind === 'rows' && pending) {
      pending.rows = Number(first?.[0]);
      tables.push(pending);
      log.info(
        `  ${pending.table.padEnd(34)} version ${String(pending.version).padStart(3)}  ${count(pending.rows, 'row')}`,
      );
      pending = undefined;
    }
  };
  return { onResult, tables, queries, seconds };
}

/** A query's rows as DuckDB's runner gives them: 64-bit integers as BigInt, doubles as numbers. */
function queryOutput(
  step: JobStep,
  columns: { name: string; type: string }[],
  rows: unknown[][],
): QueryOutput {
  const convert = (type: string, v: unknown): JS => {
    if (v === null || v === undefined) return null;
    if (type === 'bigint') return BigInt(String(v));
    if (type === 'double' || type === 'float' || type.startsWith('decimal')) return Number(v);
    return v as JS;
  };
  return {
    notebook: step.notebook,
    cell: step.cell.index,
    title: step.cell.title,
    columns: columns.map((c) => c.name),
    rows: rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.name, convert(c.type, r[i])]))),
  };
}

/** A failed statement as the DuckDB runner reports it: a failed assert_true is the check's own message. */
function statementError(result: Extract<SparkResult, { ok: false }>, step: JobStep): NotebookError {
  const where = { notebook: step.notebook, cell: step.cell, line: step.line };
  if (result.condition === 'USER_RAISED_EXCEPTION' && result.parameters?.errorMessage !== undefined)
    return new NotebookAssertionError(where, result.parameters.errorMessage);
  return new NotebookError(where, `Spark: ${result.error.trim()}`);
}
