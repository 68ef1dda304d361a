// Transform on Databricks: the same notebook files the local runner executes on DuckDB, imported into the
// workspace and run as ONE one-time job run (Jobs API 2.2), one notebook task per notebook, each depending on the
// one before, so that they run in order and a failure stops the rest (Databricks skips them as UPSTREAM_FAILED).
//
// Exactly once: the run carries an idempotency token derived from the GitHub run id and attempt (and what is run),
// so a step that is retried within the same workflow attempt gets the run it already started instead of a second.
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { configPath, ConfigError, type ResolvedConfig } from '../config/load.ts';
import {
  DatabricksRunTimeoutError,
  type DatabricksClient,
  type Run,
  type SubmitRunSpec,
  type SubmitTask,
} from '../databricks/rest.ts';
import { consoleLogger, errorMessage, type Logger } from '../util/log.ts';

export type ParameterValue = string | number | boolean;

export interface DatabricksTransformSettings {
  /** Local notebook files, run in this order. */
  notebooks: string[];
  /** Absolute workspace folder the notebooks are imported into. */
  workspaceFolder: string;
  parameters: Record<string, ParameterValue>;
  warehouseId?: string;
  existingClusterId?: string;
  /** Databricks stops the run after this (timeout_seconds). */
  timeoutSeconds: number;
  runName: string;
}

export interface PlannedNotebook {
  taskKey: string;
  /** The local file. */
  source: string;
  /** Where it lives in the workspace. */
  path: string;
}

export interface DatabricksTransformPlan {
  workspaceFolder: string;
  notebooks: PlannedNotebook[];
  /** base_parameters of every task: the values as strings, as widgets take them. */
  parameters: Record<string, string>;
  spec: SubmitRunSpec;
}

export interface DatabricksTaskResult {
  taskKey: string;
  notebook: string;
  /** life_cycle_state: TERMINATED, SKIPPED, INTERNAL_ERROR … */
  state: string;
  /** SUCCESS, FAILED, UPSTREAM_FAILED, CANCELED, TIMEDOUT … (empty while unknown). */
  resultState: string;
  durationMs: number;
  runPageUrl: string;
  /** notebook_output.result (what the notebook returned), when it returned something. */
  result?: string;
  /** The error the task ended with, as Databricks reports it. */
  error?: string;
}

export interface DatabricksTransformResult {
  runId: number;
  runPageUrl: string;
  resultState: string;
  tasks: DatabricksTaskResult[];
}

/** The run ended in something other than SUCCESS; `result` says how each task ended. */
export class DatabricksTransformError extends Error {
  override name = 'DatabricksTransformError';
  readonly result: DatabricksTransformResult;
  constructor(message: string, result: DatabricksTransformResult, options?: ErrorOptions) {
    super(message, options);
    this.result = result;
  }
}

export interface RunOptions {
  /** How long to wait for the run before cancelling it (default: its timeout_seconds plus a minute). */
  waitTimeoutMs?: number;
  /** Time between polls (default 10 s). */
  pollMs?: number;
  signal?: AbortSignal;
  log?: Logger;
}

/** The task key of a notebook file: its name without extension, in the characters task keys allow (`[\w-]`). */
export function taskKeyOf(file: string): string {
  return path
    .basename(file)
    .replace(/\.[^.]*$/, '')
    .replace(/[^\w-]/g, '_')
    .slice(0, 100);
}

/** Where the notebook tasks run, for logs and summaries. */
export function describeCompute(settings: DatabricksTransformSettings): string {
  if (settings.warehouseId) return `SQL warehouse ${settings.warehouseId}`;
  if (settings.existingClusterId) return `cluster ${settings.existingClusterId}`;
  return 'serverless compute';
}

export function planDatabricksTransform(
  settings: DatabricksTransformSettings,
  env: NodeJS.ProcessEnv = process.env,
): DatabricksTransformPlan {
  if (settings.notebooks.length === 0)
    throw new ConfigError(
      'transform on Databricks: no notebooks to run (expected at least one notebook file)',
    );
  if (!/^\/[^/]/.test(settings.workspaceFolder))
    throw new ConfigError(
      `transform on Databricks: workspace folder: expected an absolute workspace path like /Shared/lakehouse, found ${JSON.stringify(settings.workspaceFolder)}`,
    );
  if (settings.warehouseId && settings.existingClusterId)
    throw new ConfigError(
      'transform on Databricks: expected a warehouse id or a cluster id, not both (neither runs on serverless compute)',
    );
  const folder = settings.workspaceFolder.replace(/\/+$/, '');
  const seen = new Map<string, number>();
  const notebooks = settings.notebooks.map((source) => {
    const base = taskKeyOf(source);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const taskKey = n === 1 ? base : `${base}_${n}`;
    return { taskKey, source, path: `${folder}/${taskKey}` };
  });
  const parameters = Object.fromEntries(Object.entries(settings.parameters).map(([k, v]) => [k, String(v)]));
  const tasks: SubmitTask[] = notebooks.map((nb, i) => ({
    task_key: nb.taskKey,
    ...(i > 0 ? { depends_on: [{ task_key: notebooks[i - 1]!.taskKey }] } : {}),
    notebook_task: {
      notebook_path: nb.path,
      source: 'WORKSPACE',
      base_parameters: parameters,
      ...(settings.warehouseId ? { warehouse_id: settings.warehouseId } : {}),
    },
    ...(settings.existingClusterId ? { existing_cluster_id: settings.existingClusterId } : {}),
  }));
  const spec: SubmitRunSpec = {
    run_name: settings.runName,
    tasks,
    timeout_seconds: settings.timeoutSeconds,
  };
  spec.idempotency_token = idempotencyToken(spec, env);
  return { workspaceFolder: folder, notebooks, parameters, spec };
}

/**
 * On GitHub: `lakehouse-<run id>-<attempt>-<hash of the run spec>` (at most 64 characters), the same for every
 * retry of the step within one attempt; a new attempt ("Re-run jobs") starts a new run. Locally: random, which
 * still makes the client's own retries of the submit safe.
 */
export function idempotencyToken(spec: SubmitRunSpec, env: NodeJS.ProcessEnv = process.env): string {
  const hash = crypto.createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
  const runId = env.GITHUB_RUN_ID?.trim();
  if (!runId) return `lakehouse-local-${crypto.randomUUID()}`;
  // The hash stays whole: a very long run id shortens the prefix instead.
  const prefix = `lakehouse-${runId}-${env.GITHUB_RUN_ATTEMPT?.trim() || '1'}-`.slice(0, 64 - hash.length);
  return prefix + hash;
}

export async function transformOnDatabricks(
  client: DatabricksClient,
  plan: DatabricksTransformPlan,
  options: RunOptions = {},
): Promise<DatabricksTransformResult> {
  const log = options.log ?? consoleLogger;
  await client.mkdirs(plan.workspaceFolder);
  for (const nb of plan.notebooks) {
    await client.importNotebook(nb.path, await fs.readFile(nb.source, 'utf8'));
    log.info(`transform: imported ${nb.source} → ${nb.path}`);
  }
  const runId = await client.submitRun(plan.spec);
  let pageUrl = '';
  let run: Run;
  try {
    run = await client.waitForRun(runId, {
      pollMs: options.pollMs,
      timeoutMs: options.waitTimeoutMs ?? ((plan.spec.timeout_seconds ?? 0) + 60) * 1000,
      signal: options.signal,
      onPoll: (r) => {
        if (!pageUrl && r.run_page_url) log.info(`transform: Databricks run ${runId}: ${r.run_page_url}`);
        pageUrl ||= r.run_page_url ?? '';
      },
    });
  } catch (e) {
    if (!(e instanceof DatabricksRunTimeoutError)) throw e;
    // The run id and page still go to the outputs and the summary: the user can look at what was cancelled.
    const cancelled: DatabricksTransformResult = {
      runId,
      runPageUrl: pageUrl,
      resultState: 'CANCELED',
      tasks: [],
    };
    throw new DatabricksTransformError(
      `transform on Databricks: ${e.message}${pageUrl ? ` (${pageUrl})` : ''}`,
      cancelled,
      { cause: e },
    );
  }
  const result: DatabricksTransformResult = {
    runId,
    runPageUrl: run.run_page_url ?? '',
    resultState: run.state.result_state ?? run.state.life_cycle_state,
    tasks: await taskResults(client, plan, run, log),
  };
  for (const t of result.tasks)
    log.info(
      `  ${t.taskKey.padEnd(24)} ${(t.resultState || t.state).padEnd(16)} ${(t.durationMs / 1000).toFixed(1)} s`,
    );
  if (result.resultState !== 'SUCCESS') throw new DatabricksTransformError(failureMessage(result), result);
  return result;
}

async function taskResults(
  client: DatabricksClient,
  plan: DatabricksTransformPlan,
  run: Run,
  log: Logger,
): Promise<DatabricksTaskResult[]> {
  const results: DatabricksTaskResult[] = [];
  for (const task of run.tasks ?? []) {
    const result: DatabricksTaskResult = {
      taskKey: task.task_key,
      notebook:
        task.notebook_task?.notebook_path ??
        plan.notebooks.find((n) => n.taskKey === task.task_key)?.path ??
        '',
      state: task.state.life_cycle_state,
      resultState: task.state.result_state ?? '',
      durationMs:
        task.end_time && task.start_time
          ? task.end_time - task.start_time
          : (task.setup_duration ?? 0) + (task.execution_duration ?? 0) + (task.cleanup_duration ?? 0),
      runPageUrl: task.run_page_url ?? '',
    };
    // A skipped task never ran: it has no output to read.
    if (task.state.life_cycle_state !== 'SKIPPED') {
      try {
        const output = await client.getRunOutput(task.run_id);
        if (output.notebook_output?.result !== undefined) result.result = output.notebook_output.result;
        if (output.error) result.error = output.error;
      } catch (e) {
        log.warn(`transform: could not read the output of task ${task.task_key}: ${errorMessage(e)}`);
      }
    }
    if (!result.error && !['SUCCESS', ''].includes(result.resultState) && task.state.state_message)
      result.error = task.state.state_message;
    results.push(result);
  }
  return results;
}

function failureMessage(result: DatabricksTransformResult): string {
  const failed = result.tasks.filter(
    (t) => t.resultState !== 'SUCCESS' && !t.resultState.startsWith('UPSTREAM_'),
  );
  const skipped = result.tasks.filter((t) => t.resultState.startsWith('UPSTREAM_'));
  const lines = failed.map(
    (t) =>
      `task ${t.taskKey} (notebook ${t.notebook}) ended ${t.resultState || t.state}: ${t.error ?? 'no message'}`,
  );
  if (skipped.length) lines.push(`skipped after it: ${skipped.map((t) => t.taskKey).join(', ')}`);
  return `transform on Databricks: run ${result.runId} ended ${result.resultState}${result.runPageUrl ? ` (${result.runPageUrl})` : ''}: ${lines.join('; ')}`;
}

/** Every notebooks/*.sql next to the config, in name order: the default when transform.notebooks is empty. */
export async function defaultNotebooks(resolved: ResolvedConfig): Promise<string[]> {
  const files = await glob('notebooks/*.sql', { cwd: resolved.root });
  return files.sort().map((f) => configPath(resolved, f));
}

export interface DatabricksOverrides {
  notebooks?: string[];
  parameters?: Record<string, ParameterValue>;
  workspaceFolder?: string;
  warehouseId?: string;
  existingClusterId?: string;
  timeoutSeconds?: number;
}

/** The settings of a Databricks transform from lakehouse.yml and the profile, with overrides from a command. */
export async function databricksSettings(
  resolved: ResolvedConfig,
  overrides: DatabricksOverrides = {},
): Promise<DatabricksTransformSettings> {
  const { config, profile, profileName } = resolved;
  const listed = overrides.notebooks?.length ? overrides.notebooks : config.transform.notebooks;
  const notebooks = listed.length
    ? listed.map((n) => configPath(resolved, n))
    : await defaultNotebooks(resolved);
  const missingFile = notebooks.find((n) => !existsSync(n));
  if (missingFile) throw new ConfigError(`transform on Databricks: notebook ${missingFile}: file not found`);
  const workspaceFolder = overrides.workspaceFolder ?? profile.databricks?.workspaceFolder;
  if (!workspaceFolder)
    throw new ConfigError(
      `profiles.${profileName}.databricks.workspaceFolder: expected the workspace folder for the notebooks (e.g. /Shared/lakehouse), found nothing`,
    );
  // A cluster given as an override replaces the profile's warehouse, and the other way round.
  const warehouseId =
    overrides.warehouseId ?? (overrides.existingClusterId ? undefined : profile.databricks?.warehouseId);
  const existingClusterId =
    overrides.existingClusterId ??
    (overrides.warehouseId ? undefined : profile.databricks?.existingClusterId);
  return {
    notebooks,
    workspaceFolder,
    parameters: {
      dataset: config.datasets[0]!.name,
      full_refresh: false,
      ...config.transform.parameters,
      ...overrides.parameters,
    },
    warehouseId,
    existingClusterId,
    timeoutSeconds: overrides.timeoutSeconds ?? 3600,
    runName: `${config.project} transform`,
  };
}
