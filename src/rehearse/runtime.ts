// A job's state while it runs, as the runner keeps it: its workspace and temporary folder, the job-wide
// environment (workflow env, job env, then GITHUB_ENV of earlier steps), PATH additions, the steps context, the
// status the status functions read, the post steps waiting, and the deadline of its timeout-minutes.
import { hashFilesFunction, statusFunctions, type JobStatus, type Json, type Scope } from './expressions.ts';
import { githubContext, runnerContext, runnerVariables, type JobPlace } from './contexts.ts';
import type { StepIo } from './step-io.ts';
import type { RunContext } from './types.ts';
import type { WorkflowJob, WorkflowStep } from './workflow.ts';

export interface StepCall {
  runtime: JobRuntime;
  step: WorkflowStep;
  /** The step's process environment. */
  env: Record<string, string>;
  /** `with:`, evaluated. */
  inputs: Record<string, string>;
  io: StepIo;
  timeoutMs: number;
}

export interface StepDone {
  ok: boolean;
  reason?: string;
  timedOut?: boolean;
  post?: PostStep;
}

/** A post step an action registered (actions/checkout's cleanup, a node action's `runs.post`). */
export interface PostStep {
  label: string;
  /** post-if; default always(). */
  condition: string;
  run(call: StepCall, state: Record<string, string>): Promise<StepDone>;
  /** GITHUB_STATE of the main step, given to the post step as STATE_*. */
  state: Record<string, string>;
}

export interface JobRuntime {
  run: RunContext;
  job: WorkflowJob;
  place: JobPlace;
  env: Record<string, string>;
  path: string[];
  steps: Record<string, Json>;
  status: JobStatus;
  needs: Record<string, Json>;
  matrix: Json;
  strategy: Json;
  services: Record<string, Json>;
  permissions: Record<string, string>;
  /** Epoch ms when timeout-minutes runs out. */
  deadline: number;
  timeoutMinutes: number;
  posts: PostStep[];
  /** Steps run so far (names the log files). */
  counter: number;
}

/** Where an expression of a step (or of the job after its steps) stands. */
export function stepScope(rt: JobRuntime, env: Record<string, string> = rt.env): Scope {
  return {
    contexts: {
      github: githubContext(rt.run, rt.place),
      env,
      vars: rt.run.standins.vars,
      secrets: rt.run.standins.secrets,
      inputs: rt.run.inputs,
      job: { status: rt.status, services: rt.services, container: {} },
      runner: runnerContext(rt.place),
      steps: rt.steps,
      needs: rt.needs,
      matrix: rt.matrix,
      strategy: rt.strategy,
    },
    functions: [...statusFunctions(() => rt.status), hashFilesFunction(rt.place.workspace)],
  };
}

/** The environment of a step's process: the machine's, the runner's variables, the job's env, the step's own. */
export function processEnvironment(
  rt: JobRuntime,
  stepEnv: Record<string, string>,
  action: { name: string; path?: string; repository?: string; ref?: string },
  io: StepIo,
): Record<string, string> {
  const github = githubContext(rt.run, rt.place);
  // GitHub's default variables: GITHUB_* and RUNNER_* cannot be overridden by an env (the assignment is
  // ignored), but CI can ("Currently, you can overwrite the value of the CI variable", GitHub's docs on default
  // variables): a step's `env: CI: false` is what its process sees.
  const { CI, ...defaults } = runnerVariables(github, runnerContext(rt.place), action);
  const env: Record<string, string> = {
    ...rt.run.baseEnv,
    ...rt.run.standins.endpointEnv,
    CI: CI!,
    ...stepEnv,
    ...defaults,
    ...io.files,
  };
  if (rt.permissions['id-token'] === 'write') {
    env.ACTIONS_ID_TOKEN_REQUEST_URL = rt.run.standins.idToken.url;
    env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = rt.run.standins.idToken.requestToken;
  }
  env.PATH = [...[...rt.path].reverse(), rt.run.baseEnv.PATH ?? ''].filter(Boolean).join(':');
  return env;
}

export function remainingMs(rt: JobRuntime): number {
  return Math.max(0, rt.deadline - Date.now());
}
