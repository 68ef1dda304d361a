// The deploy-render action: inputs → the deploy stage (src/stages/deploy.ts) → outputs and a job summary.
import * as core from '@actions/core';
import { DeployError, deployRender, type DeployResult } from '../../src/stages/deploy.ts';
import { errorMessage } from '../../src/util/log.ts';
import { redact, registerSecret } from '../../src/util/secrets.ts';
import { readInputs, secretsOf, type DeployInputs } from './inputs.ts';
import { actionLogger } from '../../src/github/action-inputs.ts';
import { abortOnSignals } from '../../src/util/signals.ts';

const log = actionLogger;

async function run(): Promise<void> {
  // Masked before anything else can print them.
  for (const secret of secretsOf((name) => core.getInput(name))) {
    core.setSecret(secret);
    registerSecret(secret);
  }
  const inputs = readInputs((name) => core.getInput(name), process.env);
  if (inputs.github) registerSecret(inputs.github.token);
  // A cancelled workflow stops the wait; the deployment is then marked `error` before the step ends.
  const stop = abortOnSignals((signal) => log.warn(`${signal}: no longer following the Render deploy`));
  let result: DeployResult;
  try {
    result = await deployRender({
      signal: stop.signal,
      render: {
        apiKey: inputs.mode === 'api' ? inputs.apiKey : undefined,
        serviceId: inputs.mode === 'api' ? inputs.serviceId : undefined,
        hookUrl: inputs.mode === 'hook' ? inputs.hookUrl : undefined,
        baseUrl: inputs.apiUrl,
      },
      commit: inputs.commit,
      clearCache: inputs.clearCache,
      wait: inputs.wait,
      pollMs: inputs.pollMs,
      timeoutMs: inputs.timeoutMs,
      github: inputs.github,
      log,
    });
  } catch (e) {
    if (e instanceof DeployError) await report(inputs, e.result, errorMessage(e));
    throw e;
  }
  await report(inputs, result);
}

async function report(inputs: DeployInputs, result: DeployResult, failure?: string): Promise<void> {
  core.setOutput('deploy-id', result.deployId ?? '');
  core.setOutput('status', result.status);
  core.setOutput('url', result.url ?? '');
  const rows = [
    ['Service', result.serviceId ?? ''],
    ['Triggered by', result.mode === 'api' ? 'Render API' : 'deploy hook'],
    ['Commit', result.mode === 'api' ? (inputs.commit ?? 'latest on the branch') : 'latest on the branch'],
    ['Deploy', result.deployId ?? '(none reported)'],
    ['Status', result.status],
    ['URL', result.url ?? ''],
    [
      'GitHub deployment',
      result.githubDeploymentId
        ? `${result.githubDeploymentId} (${inputs.github?.environment})`
        : 'not recorded',
    ],
  ].map((row) => row.map((cell) => redact(cell)));
  const summary = core.summary.addHeading('Deploy to Render', 2).addTable([
    [
      { data: 'what', header: true },
      { data: 'value', header: true },
    ],
    ...rows,
  ]);
  if (result.mode === 'hook')
    summary.addRaw(
      'The deploy hook starts a deploy but cannot follow it: give api-key and service-id to wait for it.',
      true,
    );
  if (failure) summary.addRaw(redact(`Failed: ${failure}`), true);
  await summary.write();
}

run().catch((e: unknown) => core.setFailed(`deploy-render failed: ${errorMessage(e)}`));
