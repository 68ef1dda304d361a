// A job that calls a reusable workflow (`jobs.<id>.uses`), as GitHub runs it: its `if` against the jobs it
// needs; `with:` evaluated and typed against the called file's `on.workflow_call.inputs` (defaults applied);
// `secrets:` (a map, or `inherit`: every secret of the caller) against its `on.workflow_call.secrets`; then the
// called workflow's jobs in `needs` order, in the same run (same commit, event, github context and artifacts),
// with the called file's own env and permissions, `inputs` and `secrets` as the call gives them; then the
// caller job's outputs from `on.workflow_call.outputs.<name>.value`, which sees the called jobs as `jobs.<id>`.
// The converter has already refused, when the file was read, an input or secret the called workflow does not
// declare and a required one left out; here a required secret that is empty (an `inherit` or an expression
// that finds nothing) fails the caller job too, where GitHub would let the job fail later.
import path from 'node:path';
import { isMapping } from '@actions/workflow-parser';
import type { MappingToken } from '@actions/workflow-parser/templates/tokens/index';
import { evaluateText, evaluateToken, toData, type Json, type Scope } from './expressions.ts';
import { jobPermissions } from './job-setup.ts';
import { jobScope, needsContext, skipReason, type JobOutcome } from './job.ts';
import type { RunContext } from './types.ts';
import { isCallerJob, type CallerJob } from './workflow.ts';

export class CallError extends Error {}

export type RunJobs = (run: RunContext, done: Map<string, JobOutcome>) => Promise<JobOutcome[]>;

/** The caller job's outcome, and the called workflow's jobs (named `<caller>/<job>`), for the report. */
export async function runCallerJob(
  run: RunContext,
  job: CallerJob,
  done: Map<string, JobOutcome>,
  runJobs: RunJobs,
): Promise<{ outcome: JobOutcome; called: JobOutcome[] }> {
  const started = Date.now();
  const base = {
    id: job.id,
    name: job.model.name ? String(job.model.name) : job.id,
    steps: [],
    outputs: {},
    notes: [callNote(run, job)],
    continueOnError: false,
  };
  const needs = needsContext(job, done);
  const skipped = skipReason(run, job, needs, done);
  if (skipped) return { outcome: { ...base, state: 'skipped', ms: 0, reason: skipped }, called: [] };
  let calledRun: RunContext;
  try {
    const scope = jobScope(run, job, needs, done);
    const withSecrets = { ...scope, contexts: { ...scope.contexts, secrets: run.standins.secrets } };
    const inputs = calledInputs(job, scope);
    const secrets = calledSecrets(run, job, withSecrets);
    for (const value of Object.values(secrets)) run.masker.add(value);
    checkPermissions(run, job);
    calledRun = {
      ...run,
      workflow: job.called,
      runWorkflow: run.runWorkflow ?? run.workflow,
      inputs,
      standins: { ...run.standins, secrets },
      runDir: path.join(run.runDir, 'called', job.id),
    };
  } catch (e) {
    const reason = run.masker.mask(e instanceof Error ? e.message : String(e));
    return { outcome: { ...base, state: 'failure', ms: Date.now() - started, reason }, called: [] };
  }
  const inner = await runJobs(calledRun, new Map());
  const failed = inner.find((j) => j.state === 'failure' && !j.continueOnError);
  const notes = [...base.notes];
  const outputs = calledOutputs(calledRun, job, inner, notes);
  return {
    outcome: {
      ...base,
      notes,
      state: failed ? 'failure' : 'success',
      ms: Date.now() - started,
      outputs,
      ...(failed ? { reason: `the called workflow's job ${failed.id} failed` } : {}),
    },
    called: inner.map((j) => ({ ...j, id: `${job.id}/${j.id}` })),
  };
}

function callNote(run: RunContext, job: CallerJob): string {
  const file = path.relative(job.source.root, job.source.file);
  if (!job.source.repository) return `calls ${job.source.ref} (${run.repository}, the rehearsed commit)`;
  return `calls ${job.source.ref}: the rehearsal has no other repository, so ${job.source.repository} is the repository at ${job.source.root} (its ${file}, and actions/checkout of ${job.source.repository} clones it)`;
}

const definitions = (token: MappingToken | undefined, scope: Scope) =>
  (token ? evaluateToken(token, scope) : {}) as Record<string, Record<string, Json> | null>;

/** `with:` typed as `on.workflow_call.inputs` declares, with the declared defaults. */
export function calledInputs(job: CallerJob, scope: Scope): Record<string, string | number | boolean> {
  const declared = definitions(job.model['input-definitions'], scope);
  const given: Record<string, Json> = {};
  const values = job.model['input-values'];
  if (values && isMapping(values))
    for (const { key, value } of values) given[String(key).toLowerCase()] = evaluateToken(value, scope);
  const inputs: Record<string, string | number | boolean> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const type = String(spec?.type ?? 'string');
    const value = name.toLowerCase() in given ? given[name.toLowerCase()] : (spec?.default ?? null);
    if (value === null || value === undefined) {
      if (spec?.required === true)
        throw new CallError(`Input ${name} is required, but not provided while calling.`);
      inputs[name] = type === 'boolean' ? false : type === 'number' ? 0 : '';
      continue;
    }
    if (type === 'boolean' || type === 'number') {
      if (typeof value !== type)
        throw new CallError(
          `The input '${name}' of ${job.source.ref} is of type ${type}, but the call gives ${JSON.stringify(value)}`,
        );
      inputs[name] = value as boolean | number;
    } else inputs[name] = typeof value === 'string' ? value : toData(value).coerceString();
  }
  return inputs;
}

/** The called workflow's `secrets`: every secret of the caller (`inherit`) or the map, and GITHUB_TOKEN. */
export function calledSecrets(run: RunContext, job: CallerJob, scope: Scope): Record<string, string> {
  const declared = definitions(job.model['secret-definitions'], scope);
  const secrets: Record<string, string> = {};
  if (job.model['inherit-secrets']) Object.assign(secrets, run.standins.secrets);
  else {
    const values = job.model['secret-values'];
    if (values && isMapping(values))
      for (const { key, value } of values)
        secrets[String(key)] = evaluateText(value, scope, `jobs.${job.id}.secrets.${String(key)}`);
  }
  for (const [name, spec] of Object.entries(declared))
    if (spec?.required === true && !secrets[name])
      throw new CallError(
        `Secret ${name} is required by ${job.source.ref}, but ${job.model['inherit-secrets'] ? 'the caller has no such secret (secrets: inherit)' : 'the call gives it no value'}.`,
      );
  const token = run.standins.secrets.GITHUB_TOKEN;
  if (token) secrets.GITHUB_TOKEN = token;
  return secrets;
}

const LEVEL: Record<string, number> = { none: 0, read: 1, write: 2 };

/**
 * The called jobs get at most the caller job's permissions: GitHub refuses to start a called job that asks for
 * more ("The nested job 'x' is requesting 'id-token: write', but is only allowed 'id-token: none'.").
 */
function checkPermissions(run: RunContext, job: CallerJob): void {
  const allowed = jobPermissions(run, job);
  const called = { ...run, workflow: job.called };
  for (const inner of job.called.jobs) {
    if (isCallerJob(inner)) continue;
    for (const [scope, level] of Object.entries(jobPermissions(called, inner)))
      if ((LEVEL[level] ?? 0) > (LEVEL[allowed[scope] ?? 'none'] ?? 0))
        throw new CallError(
          `The nested job '${inner.id}' is requesting '${scope}: ${level}', but is only allowed '${scope}: ${allowed[scope] ?? 'none'}'.`,
        );
  }
}

/** `on.workflow_call.outputs.<name>.value`, which sees the called jobs' results and outputs as `jobs`. */
function calledOutputs(
  run: RunContext,
  job: CallerJob,
  inner: JobOutcome[],
  notes: string[],
): Record<string, string> {
  const token = job.model.outputs;
  if (!token) return {};
  const jobs = Object.fromEntries(
    inner.map((j) => [j.id, { result: j.state, outputs: j.outputs as Record<string, Json> }]),
  );
  const scope: Scope = {
    contexts: { github: {}, inputs: run.inputs, vars: run.standins.vars, jobs },
    functions: [],
  };
  const outputs: Record<string, string> = {};
  for (const { key, value } of token) {
    const name = String(key);
    const spec = isMapping(value) ? value.find('value') : undefined;
    if (!spec) continue;
    const text = evaluateText(spec, scope, `on.workflow_call.outputs.${name}`);
    if (run.masker.mask(text) !== text) {
      notes.push(`output ${name} left out: it may contain a secret (as GitHub skips it)`);
      continue;
    }
    outputs[name] = text;
  }
  return outputs;
}
