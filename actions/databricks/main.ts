// The Databricks action: its inputs (./inputs.ts) → the transform on Databricks of src/pipeline → outputs and a job
// summary of the tasks. Every credential (token, client secret, GitHub ID token, OAuth access token) is masked
// before anything can print it and appears in no output. index.ts calls run(), and so can a test or
// `npx @github/local-action`.
import * as core from '@actions/core';
import { actionLogger } from '../../src/github/action-inputs.ts';
import { maskSecret, runAction, writeJobSummary } from '../../src/github/action-report.ts';
import { runDatabricksTransform, type DatabricksRun } from '../../src/pipeline/transform-databricks.ts';
import { currentRun } from '../../src/util/run.ts';
import { planAction, readInputs } from './inputs.ts';

export async function run(): Promise<void> {
  await runAction('databricks transform', async () => {
    maskSecret(core.getInput('token').trim());
    maskSecret(core.getInput('client-secret').trim());
    const inputs = readInputs((name) => core.getInput(name));
    const { resolved, request, credentials } = planAction(inputs);
    // Credentials from the profile (environment variables) are masked too.
    maskSecret(credentials?.token);
    maskSecret(credentials?.clientSecret);
    const outcome = await runDatabricksTransform(resolved, request, {
      run: currentRun(),
      log: actionLogger,
      dryRun: inputs.dryRun,
      onSecret: maskSecret,
    });
    setOutputs(outcome.result!);
    await writeJobSummary(outcome);
    return outcome.verdict;
  });
}

function setOutputs({ plan, run }: DatabricksRun): void {
  core.setOutput('run-id', run ? String(run.runId) : '');
  core.setOutput('run-url', run?.runPageUrl ?? '');
  core.setOutput('result-state', run?.resultState ?? '');
  core.setOutput(
    'tasks',
    JSON.stringify(
      run
        ? run.tasks
        : plan.notebooks.map((n) => ({ taskKey: n.taskKey, notebook: n.path, state: 'PLANNED' })),
    ),
  );
}
