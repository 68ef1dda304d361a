// The run manifest of a transform on Databricks, the same shape the DuckDB and Spark transforms write, so that the
// app serves the versions of the last fully successful run whatever engine ran it. Databricks does not say which
// table versions a job run committed, so they are read from the warehouse: each table the notebooks write, its
// latest version before the run and after it; a table whose version moved was written by this run (a run of the
// same notebooks by someone else at the same moment would be counted too: the job is the only writer by design).
import { latestCommits, rowsAt, type LatestCommit } from '../databricks/run-log.ts';
import type { Warehouse } from '../databricks/sql.ts';
import type { TableWritten } from '../notebooks/runner.ts';
import type { RunInfo } from '../util/run.ts';
import type { DatabricksTransformPlan, DatabricksTransformResult } from './transform-databricks.ts';
import { planTransform, type PlannedNotebook } from '../notebooks/plan.ts';
import type { TransformManifest } from './transform.ts';

/** What the notebooks write, found from their statements, and each table's version before the run. */
export interface VersionsBefore {
  planned: PlannedNotebook[];
  versions: Map<string, LatestCommit>;
}

/** Without a warehouse no version can be read: the manifest then lists no table. */
export async function versionsBefore(
  warehouse: Warehouse | undefined,
  plan: DatabricksTransformPlan,
): Promise<VersionsBefore> {
  const planned = await planTransform(plan.notebooks.map((n) => n.source));
  const tables = planned.flatMap((p) => p.tables);
  return { planned, versions: warehouse ? await latestCommits(warehouse, tables) : new Map() };
}

export interface DatabricksManifestInput {
  run: RunInfo;
  plan: DatabricksTransformPlan;
  /** How the job run ended (undefined when it never started, e.g. the submission was refused). */
  result: DatabricksTransformResult | undefined;
  /** Why the run failed; undefined when it succeeded. */
  error?: string;
  before: VersionsBefore;
  warehouse: Warehouse | undefined;
}

export async function databricksManifest(input: DatabricksManifestInput): Promise<TransformManifest> {
  const { run, plan, result, error, before, warehouse } = input;
  const tables = warehouse ? await tablesWritten(warehouse, before) : [];
  const written = new Set(tables.map((t) => t.table));
  const failedTask = result?.tasks.find((t) => t.resultState && t.resultState !== 'SUCCESS' && t.error);
  return {
    stage: 'transform',
    runId: run.id,
    startedAt: run.startedAt,
    finishedAt: new Date().toISOString(),
    dryRun: false,
    status: error === undefined ? 'succeeded' : 'failed',
    ...(error === undefined
      ? {}
      : { failure: { message: failedTask?.error ?? error, notebook: failedTask?.notebook } }),
    deltaRoot: `databricks:${plan.workspaceFolder}`,
    params: plan.parameters,
    notebooks: before.planned.map((p, i) => {
      const task = result?.tasks.find((t) => t.taskKey === plan.notebooks[i]?.taskKey);
      return {
        path: p.notebook,
        seconds: (task?.durationMs ?? 0) / 1000,
        cells: 0,
        reads: p.mentions.filter((m) => written.has(m) || before.versions.has(m)),
        extracts: p.extracts,
      };
    }),
    tables,
    queries: [],
  };
}

/** The tables whose version moved during the run, in the notebooks' order, with the version and rows they have now. */
async function tablesWritten(warehouse: Warehouse, before: VersionsBefore): Promise<TableWritten[]> {
  // A table written by two notebooks (a work table emptied at the end) is listed once, by the last one.
  const writers = new Map(
    before.planned.flatMap((p) => p.tables.map((table) => [table, p.notebook] as const)),
  );
  const writes = [...writers].map(([table, notebook]) => ({ table, notebook }));
  const after = await latestCommits(
    warehouse,
    writes.map((w) => w.table),
  );
  const tables: TableWritten[] = [];
  for (const { table, notebook } of writes) {
    const commit = after.get(table);
    if (commit === undefined || commit.version === before.versions.get(table)?.version) continue;
    tables.push({
      table,
      version: commit.version,
      rows: await rowsAt(warehouse, table, commit.version),
      operation: operationOf(commit.operation),
      notebook,
      // Databricks does not say which cell committed a version.
      cell: 0,
    });
  }
  return tables;
}

/** Delta's operation names as the manifests name a notebook's statements. */
function operationOf(deltaOperation: string): TableWritten['operation'] {
  if (deltaOperation === 'MERGE') return 'merge';
  if (deltaOperation === 'WRITE' || deltaOperation === 'STREAMING UPDATE') return 'insert';
  return 'create or replace';
}
