// The deploy-render action: its inputs (./inputs.ts) → the deploy run of src/pipeline → outputs and a job summary.
// index.ts calls run(), and so can a test or `npx @github/local-action`.
import * as core from '@actions/core';
import { actionLogger } from '../../src/github/action-inputs.ts';
import { maskSecret, runAction, writeJobSummary } from '../../src/github/action-report.ts';
import { runDeploy } from '../../src/pipeline/deploy.ts';
import { currentRun } from '../../src/util/run.ts';
import { readInputs, secretsOf } from './inputs.ts';

export async function run(): Promise<void> {
  await runAction('deploy-render', async () => {
    // Masked before anything else can print them.
    for (const secret of secretsOf(core.getInput('api-key'), core.getInput('deploy-hook-url')))
      maskSecret(secret);
    const plan = readInputs((name) => core.getInput(name), process.env);
    // The profile's, when lakehouse.yml gave them.
    for (const secret of secretsOf(plan.render.apiKey, plan.render.hookUrl)) maskSecret(secret);
    if (plan.github) maskSecret(plan.github.token);
    const outcome = await runDeploy(plan, { run: currentRun(), log: actionLogger, dryRun: false });
    const result = outcome.result!;
    core.setOutput('deploy-id', result.deployId ?? '');
    core.setOutput('status', result.status);
    core.setOutput('url', result.url ?? '');
    await writeJobSummary(outcome);
    return outcome.verdict;
  });
}
