// The Databricks action: inputs → the transform on Databricks (src/stages/transform-databricks.ts) → outputs and
// a job summary of the tasks. Every credential (token, client secret, GitHub ID token, OAuth access token) is masked
// before anything can print it and appears in no output.
import path from 'node:path';
import * as core from '@actions/core';
import type { DatabricksAuth } from '../../src/databricks/auth.ts';
import { createDatabricksClient } from '../../src/databricks/rest.ts';
import {
  DatabricksTransformError,
  describeCompute,
  transformOnDatabricks,
  type DatabricksTransformPlan,
  type DatabricksTransformResult,
} from '../../src/stages/transform-databricks.ts';
import { errorMessage } from '../../src/util/log.ts';
import { redact, registerSecret } from '../../src/util/secrets.ts';
import { planAction, readInputs, type ActionPlan } from './inputs.ts';
import { actionLogger } from '../../src/github/action-inputs.ts';
import { abortOnSignals } from '../../src/util/signals.ts';

const log = actionLogger;

/** Masks a secret in the runner's log and registers it for redaction. */
function secret(value: string | undefined): void {
  if (!value) return;
  core.setSecret(value);
  registerSecret(value);
}

async function run(): Promise<void> {
  secret(core.getInput('token').trim());
  secret(core.getInput('client-secret').trim());
  const inputs = readInputs((name) => core.getInput(name));
  const action = await planAction(inputs);
  const { plan, settings } = action;
  // Credentials from the profile (environment variables) are masked too.
  secret(action.credentials?.token);
  secret(action.credentials?.clientSecret);
  const compute = describeCompute(settings);
  log.info(
    `transform: ${plan.notebooks.length} notebook(s) on Databricks (${compute}) in ${plan.workspaceFolder}; parameters ${JSON.stringify(plan.parameters)}`,
  );
  if (inputs.dryRun) {
    setOutputs(undefined, plan);
    await writePlanSummary(plan, compute);
    return;
  }
  const client = createDatabricksClient({
    host: action.host!,
    auth: clientAuth(action.credentials!),
    log,
    tokens: { onSecret: secret },
  });
  // A cancelled workflow signals the action: the Databricks run is cancelled with it rather than left running.
  const stop = abortOnSignals((signal) => log.warn(`${signal}: cancelling the Databricks run`));
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

function clientAuth(credentials: NonNullable<ActionPlan['credentials']>): DatabricksAuth {
  switch (credentials.auth) {
    case 'pat':
      return { kind: 'pat', token: credentials.token! };
    case 'oauth-m2m':
      return { kind: 'oauth-m2m', clientId: credentials.clientId!, clientSecret: credentials.clientSecret! };
    case 'github-oidc':
      // getIDToken reads ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN (set with permissions: id-token: write) and masks the token.
      log.info(
        `databricks: signing in with GitHub OIDC${credentials.clientId ? ` as service principal ${credentials.clientId}` : ''}`,
      );
      return {
        kind: 'github-oidc',
        clientId: credentials.clientId,
        audience: credentials.oidcAudience,
        idToken: (audience) => core.getIDToken(audience),
      };
  }
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
