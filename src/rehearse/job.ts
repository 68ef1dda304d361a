// One job, as a fresh runner takes it: its `if` against the jobs it needs, its set-up, its steps in order, the
// post steps in reverse, then its outputs (evaluated after the steps; an output that would show a secret is
// left out, as GitHub leaves it out). A job that outlives timeout-minutes is cancelled where it stands: its
// running step is stopped, later steps run only under always() or cancelled(), and the job fails.
import fs from 'node:fs';
import path from 'node:path';
import { data } from '@actions/expressions';
import type { FunctionDefinition } from '@actions/expressions/funcs/info';
import { githubContext } from './contexts.ts';
import { endDeployment, environmentName, environmentUrl, startDeployment } from './deployment.ts';
import { evaluateCondition, evaluateMapping, type Json, type Scope } from './expressions.ts';
import {
  concurrencyText,
  jobContinueOnError,
  jobEnvironment,
  jobPermissions,
  jobPlace,
  jobServices,
  jobTimeoutMinutes,
  runsOn,
} from './job-setup.ts';
import { remainingMs, stepScope, type JobRuntime } from './runtime.ts';
import { runPostSteps, runStep } from './step.ts';
import type { JobReport, RunContext, State, StepReport } from './types.ts';
import type { AnyJob, WorkflowJob } from './workflow.ts';

const CANCEL_TIMEOUT_MS = 5 * 60_000;

export interface JobOutcome extends JobReport {
  /** continue-on-error at job level: a failure does not fail the workflow. */
  continueOnError: boolean;
}

export async function runJob(
  run: RunContext,
  job: WorkflowJob,
  done: Map<string, JobOutcome>,
  options: { keepWorkspaces: boolean },
): Promise<JobOutcome> {
  const started = Date.now();
  const name = job.model.name ? String(job.model.name) : job.id;
  const base = {
    id: job.id,
    name,
    steps: [] as StepReport[],
    outputs: {},
    notes: [],
    continueOnError: false,
  };
  const needs = needsContext(job, done);
  const skipped = skipReason(run, job, needs, done);
  if (skipped) return { ...base, state: 'skipped', ms: 0, reason: skipped };
  const rt = newRuntime(run, job, needs);
  try {
    return await runSteps(rt, base, options, started);
  } catch (e) {
    const reason = run.masker.mask(e instanceof Error ? e.message : String(e));
    return { ...base, state: 'failure', ms: Date.now() - started, reason };
  } finally {
    if (!options.keepWorkspaces)
      fs.rmSync(path.join(run.runDir, 'jobs', job.id), { recursive: true, force: true });
  }
}

async function runSteps(
  rt: JobRuntime,
  base: Omit<JobOutcome, 'state' | 'ms'>,
  options: { keepWorkspaces: boolean },
  started: number,
): Promise<JobOutcome> {
  const { run, job } = rt;
  const notes: string[] = [];
  const setupScope = stepScope(rt);
  rt.env = jobEnvironment(run, job, setupScope);
  const continueOnError = jobContinueOnError(job, setupScope);
  rt.timeoutMinutes = jobTimeoutMinutes(job, setupScope);
  rt.deadline = started + rt.timeoutMinutes * 60_000;
  rt.services = await jobServices(job, setupScope, notes);
  const concurrency = concurrencyText(job.model.concurrency, setupScope);
  const environment = environmentName(job, setupScope);
  const deployment = environment ? await startDeployment(run, environment) : undefined;
  const steps: StepReport[] = [];
  let timedOut = false;
  for (const step of job.steps) {
    steps.push(await runStep(rt, step));
    if (!timedOut && remainingMs(rt) === 0) {
      // As when GitHub cancels a job: the steps still to come run only under always() or cancelled(), within
      // the job's cancel-timeout-minutes (5).
      timedOut = true;
      rt.status = 'cancelled';
      rt.deadline = Date.now() + CANCEL_TIMEOUT_MS;
    }
  }
  steps.push(...(await runPostSteps(rt)));
  const outputs = jobOutputs(rt, notes);
  const state: State = timedOut || rt.status !== 'success' ? 'failure' : 'success';
  if (deployment) {
    const url = environmentUrl(job, stepScope(rt));
    await endDeployment(run, deployment, state, url);
    notes.push(
      `environment ${deployment.environment}${url ? ` (url ${url})` : ''}: GitHub deployment ${deployment.id} of ${run.commit.sha.slice(0, 12)} recorded, in_progress then ${state}`,
    );
  }
  void options;
  return {
    ...base,
    state,
    ms: Date.now() - started,
    steps,
    outputs,
    notes,
    continueOnError,
    runsOn: runsOn(job, setupScope),
    concurrency,
    ...(timedOut
      ? { reason: `The job has exceeded the maximum execution time of ${rt.timeoutMinutes} minutes.` }
      : {}),
  };
}

function newRuntime(run: RunContext, job: WorkflowJob, needs: Record<string, Json>): JobRuntime {
  const place = jobPlace(run, job);
  const permissions = jobPermissions(run, job);
  place.token = run.standins.githubToken(permissions);
  run.masker.add(place.token);
  return {
    run,
    job,
    place,
    env: {},
    path: [],
    steps: {},
    status: 'success',
    needs,
    matrix: null,
    strategy: { 'fail-fast': true, 'job-index': 0, 'job-total': 1, 'max-parallel': 1 },
    services: {},
    permissions,
    deadline: Infinity,
    timeoutMinutes: 360,
    posts: [],
    counter: 0,
  };
}

/** Why the job's `if` (against the jobs it needs) skips it, or undefined when it runs. */
export function skipReason(
  run: RunContext,
  job: AnyJob,
  needs: Record<string, Json>,
  done: Map<string, JobOutcome>,
): string | undefined {
  const condition = job.model.if?.expression ?? 'success()';
  if (evaluateCondition(condition, jobScope(run, job, needs, done))) return undefined;
  const failedNeeds = (job.model.needs ?? [])
    .map((n) => n.value)
    .filter((n) => done.get(n)?.state !== 'success');
  return failedNeeds.length
    ? `if: ${condition} was false (needs ${failedNeeds.map((n) => `${n}: ${done.get(n)?.state}`).join(', ')})`
    : `if: ${condition} was false`;
}

export function needsContext(job: AnyJob, done: Map<string, JobOutcome>): Record<string, Json> {
  const needs: Record<string, Json> = {};
  for (const need of job.model.needs ?? []) {
    const outcome = done.get(need.value);
    needs[need.value] = { result: outcome?.state ?? 'skipped', outputs: outcome?.outputs ?? {} };
  }
  return needs;
}

/**
 * A job's `if` sees github, needs, vars and inputs; its status functions look at the jobs it needs: success()
 * when every one succeeded, failure() when one failed or was cancelled.
 */
export function jobScope(
  run: RunContext,
  job: AnyJob,
  needs: Record<string, Json>,
  done: Map<string, JobOutcome>,
): Scope {
  const states = (job.model.needs ?? []).map((n) => done.get(n.value)?.state ?? 'skipped');
  const fn = (name: string, value: boolean): FunctionDefinition => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    call: () => new data.BooleanData(value),
  });
  const place = { jobId: job.id, workspace: '', temp: '', toolCache: '', eventPath: '', token: '' };
  return {
    contexts: { github: githubContext(run, place), needs, vars: run.standins.vars, inputs: run.inputs },
    functions: [
      fn(
        'success',
        states.every((s) => s === 'success'),
      ),
      fn(
        'failure',
        states.some((s) => s === 'failure' || s === 'cancelled'),
      ),
      fn('cancelled', false),
      fn('always', true),
    ],
  };
}

function jobOutputs(rt: JobRuntime, notes: string[]): Record<string, string> {
  const outputs = evaluateMapping(rt.job.model.outputs, stepScope(rt), `jobs.${rt.job.id}.outputs`);
  for (const [name, value] of Object.entries(outputs))
    if (rt.run.masker.mask(value) !== value) {
      notes.push(`output ${name} left out: it may contain a secret (as GitHub skips it)`);
      delete outputs[name];
    }
  return outputs;
}
