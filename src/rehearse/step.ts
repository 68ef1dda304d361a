// One step, as the runner's StepsRunner takes it: its `if` (the converter has already added the implicit
// success()), its env over the job's, its inputs, continue-on-error and timeout-minutes; then the step itself
// (a `run:` script, one of our actions, or a third-party action's stand-in); then what it left in its files.
// steps.<id>.outcome is the result, steps.<id>.conclusion the result after continue-on-error.
import path from 'node:path';
import { isBoolean } from '@actions/workflow-parser';
import {
  evaluateCondition,
  evaluateMapping,
  evaluateToken,
  ExpressionFailure,
  type Json,
} from './expressions.ts';
import { runLocalAction } from './local-action.ts';
import { runScript } from './run-step.ts';
import {
  processEnvironment,
  remainingMs,
  stepScope,
  type JobRuntime,
  type PostStep,
  type StepDone,
} from './runtime.ts';
import { runStandin } from './standins/index.ts';
import { StepIo } from './step-io.ts';
import type { State, StepReport } from './types.ts';
import { child, type WorkflowStep } from './workflow.ts';

export async function runStep(rt: JobRuntime, step: WorkflowStep): Promise<StepReport> {
  const started = Date.now();
  const io = newStepIo(rt, step.label);
  const report = (outcome: State, state: State, extra: Partial<StepReport> = {}): StepReport => ({
    label: step.label,
    id: step.model.id,
    outcome,
    state,
    ms: Date.now() - started,
    summary: '',
    annotations: io.annotations,
    logFile: io.logFile,
    ...extra,
  });
  let continueOnError = false;
  try {
    const condition = 'if' in step.model && step.model.if ? step.model.if.expression : 'success()';
    if (!evaluateCondition(condition, stepScope(rt))) {
      recordStep(rt, step, {}, 'skipped', 'skipped');
      return report('skipped', 'skipped', { reason: `if: ${condition} was false` });
    }
    continueOnError = stepContinueOnError(rt, step);
    const done = await execute(rt, step, io);
    const exchange = io.collect();
    applyExchange(rt, exchange);
    if (done.post) rt.posts.push({ ...done.post, state: exchange.state });
    const outcome: State = done.ok
      ? 'success'
      : done.timedOut && remainingMs(rt) === 0
        ? 'cancelled'
        : 'failure';
    const state: State = outcome === 'failure' && continueOnError ? 'success' : outcome;
    recordStep(rt, step, exchange.outputs, outcome, state);
    if (state === 'failure') rt.status = 'failure';
    return report(outcome, state, { summary: exchange.summary, reason: done.ok ? undefined : done.reason });
  } catch (e) {
    // An expression or an input the step cannot start with: the step fails, as the runner fails it.
    const reason = rt.run.masker.mask(e instanceof Error ? e.message : String(e));
    io.error(reason);
    const state: State = continueOnError ? 'success' : 'failure';
    recordStep(rt, step, {}, 'failure', state);
    if (state === 'failure') rt.status = 'failure';
    return report('failure', state, { reason });
  }
}

/** The post steps, last registered first, each under its post-if (default always()). */
export async function runPostSteps(rt: JobRuntime): Promise<StepReport[]> {
  const reports: StepReport[] = [];
  for (const post of [...rt.posts].reverse()) {
    const started = Date.now();
    const io = newStepIo(rt, post.label);
    let state: State = 'skipped';
    let reason: string | undefined;
    if (evaluateCondition(post.condition, stepScope(rt))) {
      const done = await runPost(rt, post, io);
      state = done.ok ? 'success' : 'failure';
      reason = done.reason;
      if (!done.ok) rt.status = 'failure';
    }
    const summary = state === 'skipped' ? '' : io.collect().summary;
    reports.push({
      label: post.label,
      id: post.label,
      state,
      outcome: state,
      ms: Date.now() - started,
      summary,
      reason,
      annotations: io.annotations,
      logFile: io.logFile,
      post: true,
    });
  }
  return reports;
}

async function runPost(rt: JobRuntime, post: PostStep, io: StepIo): Promise<StepDone> {
  const state = Object.fromEntries(Object.entries(post.state).map(([k, v]) => [`STATE_${k}`, v]));
  const env = processEnvironment(rt, { ...rt.env, ...state }, { name: post.label }, io);
  const call = { runtime: rt, step: undefined as never, env, inputs: {}, io, timeoutMs: remainingMs(rt) };
  return post.run(call, post.state);
}

async function execute(rt: JobRuntime, step: WorkflowStep, io: StepIo): Promise<StepDone> {
  const scope = stepScope(rt);
  const stepEnv = {
    ...rt.env,
    ...evaluateMapping('env' in step.model ? step.model.env : undefined, scope, 'env'),
  };
  const inputs = evaluateMapping(child(step.raw, 'with'), stepScope(rt, stepEnv), 'with');
  const timeoutMs = Math.min(remainingMs(rt), stepTimeoutMs(rt, step, stepEnv));
  const uses = 'uses' in step.model ? step.model.uses.value : undefined;
  const action = { name: step.model.id, ...(uses ? actionOrigin(uses) : {}) };
  const env = processEnvironment(rt, stepEnv, action, io);
  const call = { runtime: rt, step, env, inputs, io, timeoutMs };
  if (!uses) return runScript(call);
  if (uses.startsWith('./')) return runLocalAction(call, uses);
  if (uses.startsWith('docker://'))
    return { ok: false, reason: `${uses}: a Docker action has no stand-in (no Docker runs here)` };
  return runStandin(call, uses);
}

function actionOrigin(uses: string): { repository?: string; ref?: string } {
  const at = uses.lastIndexOf('@');
  if (uses.startsWith('./') || at < 0) return {};
  return { repository: uses.slice(0, at).split('/').slice(0, 2).join('/'), ref: uses.slice(at + 1) };
}

function stepContinueOnError(rt: JobRuntime, step: WorkflowStep): boolean {
  const value = step.model['continue-on-error'];
  if (value === undefined || typeof value === 'boolean') return value ?? false;
  const evaluated = evaluateToken(value, stepScope(rt));
  if (typeof evaluated !== 'boolean')
    throw new ExpressionFailure(`continue-on-error: expected a boolean, found ${JSON.stringify(evaluated)}`);
  return evaluated;
}

/**
 * timeout-minutes of a step, as milliseconds. Fractions of a minute are honoured (the runner takes whole
 * minutes), so that a test can time out in seconds.
 */
function stepTimeoutMs(rt: JobRuntime, step: WorkflowStep, env: Record<string, string>): number {
  const token = child(step.raw, 'timeout-minutes');
  if (!token) return Infinity;
  const minutes = Number(isBoolean(token) ? NaN : evaluateToken(token, stepScope(rt, env)));
  if (!Number.isFinite(minutes) || minutes <= 0)
    throw new ExpressionFailure(`timeout-minutes: expected a positive number of minutes`);
  return minutes * 60_000;
}

function applyExchange(rt: JobRuntime, exchange: ReturnType<StepIo['collect']>): void {
  for (const [name, value] of Object.entries(exchange.env)) {
    // As the runner: GITHUB_* and RUNNER_* cannot be set through GITHUB_ENV (NODE_OPTIONS neither).
    if (/^(GITHUB_|RUNNER_)/.test(name) || name === 'NODE_OPTIONS') continue;
    rt.env[name] = value;
  }
  rt.path.push(...exchange.path);
}

function recordStep(
  rt: JobRuntime,
  step: WorkflowStep,
  outputs: Record<string, string>,
  outcome: State,
  conclusion: State,
): void {
  // Generated ids (`__actions_checkout`) name no step an expression can reach.
  if (step.model.id.startsWith('__')) return;
  rt.steps[step.model.id] = { outputs: outputs as Record<string, Json>, outcome, conclusion };
}

function newStepIo(rt: JobRuntime, label: string): StepIo {
  rt.counter += 1;
  const slug = label.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60);
  const log = path.join(
    rt.run.runDir,
    'logs',
    rt.job.id,
    `${String(rt.counter).padStart(2, '0')}-${slug}.log`,
  );
  return new StepIo(path.join(rt.place.temp, '_runner_file_commands'), log, rt.run.masker);
}
