// The Databricks action: inputs → the transform on Databricks (src/stages/transform-databricks.ts) → outputs and
// a job summary of the tasks. The token is masked before anything can print it and appears in no output.
import path from 'node:path';
import * as core from '@actions/core';
import { createDatabricksClient } from '../../src/databricks/rest.ts';
import {
  DatabricksTransformError,
  transformOnDatabricks,
  type DatabricksTransformPlan,
  type DatabricksTransformResult,
} from '../../src/stages/transform-databricks.ts';
import { errorMessage, type Logger } from '../../src/util/log.ts';
import { redact, registerSecret } from '../../src/util/secrets.ts';
import { planAction, readInputs } from './inputs.ts';

const log: Logger = {
  info: (m) => core.info(redact(m)),
  warn: (m) => core.warning(redact(m)),
  error: (m) => core.error(redact(m)),
};

async function run(): Promise<void> {
  const token = core.getInput('token').trim();
  if (token) {
    core.setSecret(token);
    registerSecret(token);
  }
  const inputs = readInputs((name) => core.getInput(name));
  const action = await planAction(inputs);
  const { plan, settings } = action;
  if (!inputs.dryRun && action.token !== token) {
    // The token came from the profile (an environment variable): mask it too.
    core.setSecret(action.token!);
    registerSecret(action.token);
  }
  const compute = settings.warehouseId
    ? `SQL warehouse ${settings.warehouseId}`
    : settings.existingClusterId
      ? `cluster ${settings.existingClusterId}`
      : 'serverless compute';
  log.info(
    `transform: ${plan.notebooks.length} notebook(s) on Databricks (${compute}) in ${plan.workspaceFolder}; parameters ${JSON.stringify(plan.parameters)}`,
  );
  if (inputs.dryRun) {
    setOutputs(undefined, plan);
    await writePlanSummary(plan, compute);
    return;
  }
  const client = createDatabricksClient({ host: action.host!, token: action.token!, log });
  // A cancelled workflow signals the action: the Databricks run is cancelled with it rather than left running.
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      log.warn(`${signal}: cancelling the Databricks run`);
      stop.abort();
    });
  let result: DatabricksTransformResult;
  try {
    result = await transformOnDatabricks(client, plan, {
      log,
      pollMs: inputs.pollSeconds === undefined ? undefined : inputs.pollSeconds * 1000,
      signal: stop.signal,
    });
  } catch (e) {
    if (!(e instanceof DatabricksTransformError)) throw e;
    setOutputs(e.result, plan);
    await writeRunSummary(e.result, compute);
    throw e;
  }
  setOutputs(result, plan);
  await writeRunSummary(result, compute);
}

function setOutputs(result: DatabricksTransformResult | undefined, plan: DatabricksTransformPlan): void {
  core.setOutput('run-id', result ? String(result.runId) : '');
  core.setOutput('run-url', result?.runPageUrl ?? '');
  core.setOutput('result-state', result?.resultState ?? '');
  core.setOutput(
    'tasks',
    JSON.stringify(
      result
        ? result.tasks
        : plan.notebooks.map((n) => ({ taskKey: n.taskKey, notebook: n.path, state: 'PLANNED' })),
    ),
  );
}

async function writeRunSummary(result: DatabricksTransformResult, compute: string): Promise<void> {
  const header = ['task', 'notebook', 'state', 'result', 'duration', 'output or error'].map((data) => ({
    data,
    header: true,
  }));
  const rows = result.tasks.map((t) =>
    [
      t.taskKey,
      t.notebook,
      t.state,
      t.resultState,
      `${(t.durationMs / 1000).toFixed(1)} s`,
      t.error ?? t.result ?? '',
    ].map(cell),
  );
  await core.summary
    .addHeading('Transform on Databricks', 2)
    .addRaw(redact(`Run ${result.runId} on ${compute}: ${result.resultState}. `))
    .addLink('Run page', result.runPageUrl)
    .addBreak()
    .addTable([header, ...rows])
    .write();
}

async function writePlanSummary(plan: DatabricksTransformPlan, compute: string): Promise<void> {
  const header = ['task', 'notebook', 'workspace path', 'runs after'].map((data) => ({ data, header: true }));
  const rows = plan.notebooks.map((n, i) =>
    [n.taskKey, path.relative(process.cwd(), n.source), n.path, i ? plan.notebooks[i - 1]!.taskKey : ''].map(
      cell,
    ),
  );
  await core.summary
    .addHeading('Transform on Databricks (dry run: nothing sent)', 2)
    .addRaw(redact(`On ${compute}. Parameters: ${JSON.stringify(plan.parameters)}.`), true)
    .addTable([header, ...rows])
    .write();
}

/** A table cell: redacted, HTML-escaped (Databricks' messages may hold < and &), never empty (an empty cell breaks the table). */
function cell(text: string): string {
  const escaped = redact(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return escaped || '–';
}

run().catch((e: unknown) => core.setFailed(`databricks transform failed: ${errorMessage(e)}`));
