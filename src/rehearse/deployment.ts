// What GitHub does for a job with `environment:`: it records a deployment of the run's commit to that environment
// when the job starts (status in_progress) and, when the job ends, a status success or failure with
// environment_url = the evaluated `environment.url` (evaluated after the steps, so it may name a step's output).
// The rehearsal records the same on the GitHub stand-in, through its REST API, as GitHub itself (not with the
// job's token: the job needs no `deployments` permission for it).
import { isMapping } from '@actions/workflow-parser';
import { evaluateText, type Scope } from './expressions.ts';
import type { RunContext } from './types.ts';
import type { WorkflowJob } from './workflow.ts';

export interface Deployment {
  id: number;
  environment: string;
}

/** environment's name: `environment: name` or `environment: { name, url }`. */
export function environmentName(job: WorkflowJob, scope: Scope): string | undefined {
  const token = job.model.environment;
  if (!token) return undefined;
  const name = isMapping(token) ? token.find('name') : token;
  return name ? evaluateText(name, scope, `jobs.${job.id}.environment.name`) || undefined : undefined;
}

export function environmentUrl(job: WorkflowJob, scope: Scope): string | undefined {
  const token = job.model.environment;
  const url = token && isMapping(token) ? token.find('url') : undefined;
  return url ? evaluateText(url, scope, `jobs.${job.id}.environment.url`) || undefined : undefined;
}

export async function startDeployment(run: RunContext, environment: string): Promise<Deployment> {
  const created = (await post(run, `/repos/${run.repository}/deployments`, {
    ref: run.commit.sha,
    environment,
    auto_merge: false,
    required_contexts: [],
    description: `${run.workflow.name} run ${run.runId}`,
  })) as { id: number };
  const deployment = { id: created.id, environment };
  await post(run, statuses(run, deployment), { state: 'in_progress', log_url: logUrl(run) });
  return deployment;
}

export async function endDeployment(
  run: RunContext,
  deployment: Deployment,
  state: 'success' | 'failure',
  url: string | undefined,
): Promise<void> {
  await post(run, statuses(run, deployment), {
    state,
    log_url: logUrl(run),
    ...(url ? { environment_url: url } : {}),
  });
}

const statuses = (run: RunContext, d: Deployment) => `/repos/${run.repository}/deployments/${d.id}/statuses`;
const logUrl = (run: RunContext) => `https://github.com/${run.repository}/actions/runs/${run.runId}`;

async function post(run: RunContext, route: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${run.standins.githubApiUrl}${route}`, {
    method: 'POST',
    headers: {
      authorization: `token ${run.standins.githubToken({ deployments: 'write' })}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { message?: string };
  if (!response.ok)
    throw new Error(`GitHub stand-in: POST ${route}: ${response.status} ${answer.message ?? ''}`);
  return answer;
}
