// The contexts an expression sees (github, runner, job, env, vars, secrets, inputs, needs, steps, matrix,
// strategy) and the GITHUB_* / RUNNER_* variables a step gets, built as the runner builds them.
import type { Json } from './expressions.ts';
import type { RunContext } from './types.ts';

/** What differs from one job to the next. */
export interface JobPlace {
  jobId: string;
  workspace: string;
  temp: string;
  toolCache: string;
  eventPath: string;
  token: string;
}

export function githubContext(run: RunContext, place: JobPlace): Record<string, Json> {
  const [owner] = run.repository.split('/');
  const ref = `refs/heads/${run.branch}`;
  return {
    action: '',
    action_path: '',
    action_ref: '',
    action_repository: '',
    actor: 'lakehouse-rehearsal',
    actor_id: '1',
    api_url: run.standins.githubApiUrl,
    base_ref: '',
    event: run.eventPayload,
    event_name: run.event,
    event_path: place.eventPath,
    graphql_url: `${run.standins.githubApiUrl}/graphql`,
    head_ref: '',
    job: place.jobId,
    ref,
    ref_name: run.branch,
    ref_protected: false,
    ref_type: 'branch',
    repository: run.repository,
    repository_id: '1',
    repository_owner: owner ?? '',
    repository_owner_id: '1',
    repositoryUrl: `git://github.com/${run.repository}.git`,
    retention_days: '90',
    run_attempt: run.attempt,
    run_id: run.runId,
    run_number: run.runNumber,
    secret_source: 'Actions',
    server_url: 'https://github.com',
    sha: run.commit.sha,
    token: place.token,
    triggering_actor: 'lakehouse-rehearsal',
    // In a called workflow, github is the caller's: the run's workflow, not the called file.
    workflow: (run.runWorkflow ?? run.workflow).name,
    workflow_ref: `${run.repository}/${(run.runWorkflow ?? run.workflow).file}@${ref}`,
    workflow_sha: run.commit.sha,
    workspace: place.workspace,
  };
}

export function runnerContext(place: JobPlace): Record<string, Json> {
  return {
    name: 'lakehouse-rehearsal',
    os: 'Linux',
    arch: process.arch === 'arm64' ? 'ARM64' : 'X64',
    temp: place.temp,
    tool_cache: place.toolCache,
    environment: 'self-hosted',
    debug: '',
  };
}

/** GITHUB_* and RUNNER_* as the runner exports them from its contexts (CI and GITHUB_ACTIONS too). */
export function runnerVariables(
  github: Record<string, Json>,
  runner: Record<string, Json>,
  action: { name: string; path?: string; repository?: string; ref?: string },
): Record<string, string> {
  const fromGithub = [
    'actor',
    'actor_id',
    'api_url',
    'base_ref',
    'event_name',
    'event_path',
    'graphql_url',
    'head_ref',
    'job',
    'ref',
    'ref_name',
    'ref_protected',
    'ref_type',
    'repository',
    'repository_id',
    'repository_owner',
    'repository_owner_id',
    'retention_days',
    'run_attempt',
    'run_id',
    'run_number',
    'server_url',
    'sha',
    'triggering_actor',
    'workflow',
    'workflow_ref',
    'workflow_sha',
    'workspace',
  ];
  const env: Record<string, string> = { CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_ACTION: action.name };
  for (const key of fromGithub) env[`GITHUB_${key.toUpperCase()}`] = String(github[key] ?? '');
  if (action.path) env.GITHUB_ACTION_PATH = action.path;
  if (action.repository) env.GITHUB_ACTION_REPOSITORY = action.repository;
  if (action.ref) env.GITHUB_ACTION_REF = action.ref;
  for (const key of ['name', 'os', 'arch', 'temp', 'tool_cache', 'environment'])
    env[`RUNNER_${key.toUpperCase()}`] = String(runner[key] ?? '');
  return env;
}

/** The machine's own variables a runner passes on; the caller's other variables (tokens, URLs) stay out. */
export function machineEnvironment(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'JAVA_HOME', 'SHELL', 'USER', 'TMPDIR'];
  return Object.fromEntries(
    keep.flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k]!]])),
  );
}
