// `lakehouse rehearse`: runs one workflow of this repository on this machine as GitHub would run it. GitHub's
// parser reads the file; the trigger decides whether it runs; the commit (HEAD, or a temporary commit of the
// working tree) is what every job clones; the cloud stand-ins start; the jobs run in `needs` order, each in a
// fresh workspace; the result names the first failure's job, step and reason.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArtifactStore, type ArtifactInfo } from './artifacts.ts';
import { Masker } from './commands.ts';
import { machineEnvironment } from './contexts.ts';
import { evaluateToken, type Json } from './expressions.ts';
import { dropCommitRef, prepareCommit, repositoryRoot } from './git.ts';
import { concurrencyText } from './job-setup.ts';
import { runCallerJob } from './call-job.ts';
import { runJob, type JobOutcome } from './job.ts';
import { startStandins, type Recorded } from './services.ts';
import { decideTrigger, TriggerError, type RehearsedEvent } from './triggers.ts';
import type { Failure, JobReport, RehearsedCommit, RunContext } from './types.ts';
import {
  isCallerJob,
  readWorkflow,
  WorkflowError,
  type AnyJob,
  type CalledSource,
  type Workflow,
} from './workflow.ts';

export interface RehearseOptions {
  workflow: string;
  event: RehearsedEvent;
  inputs?: Record<string, string>;
  /** Paths a push changed; default: what the rehearsed commit changes against its parent. */
  changed?: string[];
  /** The branch the event is on (default main, the default branch, where schedules always run). */
  branch?: string;
  /** owner/name (default: from the origin remote, else local/<folder>). */
  repository?: string;
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  /** Keep the cloud (bucket, SQL schema, Delta tables) in this folder, for a later rehearsal to continue from. */
  stateDir?: string;
  /** Keep each job's workspace in the run folder (default: removed when the job ends). */
  keepWorkspaces?: boolean;
  /**
   * The repository a job's `uses: <owner>/<repo>/.github/workflows/x.yml@ref` is read from, and which
   * actions/checkout of that <owner>/<repo> clones (default: this repository, the one the rehearsal runs from).
   */
  calledRepository?: string;
  /** Called as each job ends (progress). */
  onJob?: (job: JobReport) => void;
}

export interface Rehearsal {
  workflow: string;
  event: RehearsedEvent;
  branch: string;
  state: 'success' | 'failure' | 'not triggered';
  trigger?: string;
  commit?: RehearsedCommit;
  concurrency?: string;
  notes: string[];
  jobs: JobReport[];
  artifacts: ArtifactInfo[];
  firstFailure?: Failure;
  runDir?: string;
  deltaRoot?: string;
  /** Where the Databricks stand-in's notebook runs wrote their manifests (the app's run history). */
  manifestsDir?: string;
  /** What the stand-ins recorded: Render deploys, GitHub deployments. */
  recorded?: Recorded;
}

export async function rehearse(options: RehearseOptions): Promise<Rehearsal> {
  const file = path.resolve(options.workflow);
  const repoRoot = repositoryRoot(path.dirname(file));
  const branch = options.branch ?? 'main';
  const base = {
    workflow: path.relative(repoRoot, file),
    event: options.event,
    branch,
    notes: [],
    jobs: [],
    artifacts: [],
  };
  let workflow: Workflow;
  try {
    workflow = await readWorkflow(file, repoRoot, {
      calledRoot: options.calledRepository ? path.resolve(options.calledRepository) : THIS_REPOSITORY,
    });
  } catch (e) {
    if (!(e instanceof WorkflowError)) throw e;
    return { ...base, state: 'failure', firstFailure: { job: e.job ?? '', step: e.step, reason: e.message } };
  }
  const runId = String(Date.now()).slice(-10);
  const commit = prepareCommit(repoRoot, runId);
  const others: Prepared['others'] = {};
  try {
    for (const source of calledSources(workflow))
      if (source.repository && !(source.repository.toLowerCase() in others))
        others[source.repository.toLowerCase()] = {
          repoRoot: source.root,
          commit: prepareCommit(source.root, `${runId}-called`),
        };
    return await rehearseCommit(options, { repoRoot, workflow, commit, runId, branch, base, others });
  } finally {
    dropCommitRef(repoRoot, commit);
    for (const other of Object.values(others)) dropCommitRef(other.repoRoot, other.commit);
  }
}

const THIS_REPOSITORY = path.resolve(import.meta.dirname, '../..');

/** The workflows the jobs call, and those they call in turn. */
function calledSources(workflow: Workflow): CalledSource[] {
  return workflow.jobs.flatMap((j) => (isCallerJob(j) ? [j.source, ...calledSources(j.called)] : []));
}

interface Prepared {
  repoRoot: string;
  workflow: Workflow;
  commit: RehearsedCommit;
  runId: string;
  branch: string;
  base: Omit<Rehearsal, 'state'>;
  /** The other repositories a called workflow names, each mapped onto a folder and a commit of it. */
  others: NonNullable<RunContext['repositories']>;
}

async function rehearseCommit(options: RehearseOptions, p: Prepared): Promise<Rehearsal> {
  const base = { ...p.base, commit: p.commit };
  let decision;
  try {
    decision = decideTrigger(p.workflow.template.events, {
      event: options.event,
      branch: p.branch,
      changed: options.changed ?? p.commit.changed,
      inputs: options.inputs ?? {},
    });
  } catch (e) {
    if (!(e instanceof TriggerError)) throw e;
    return { ...base, state: 'failure', firstFailure: { job: '', reason: e.message } };
  }
  if (!decision.runs) return { ...base, state: 'not triggered', trigger: decision.reason };
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `lakehouse-rehearse-${p.runId}-`));
  const repository = options.repository ?? repositoryName(p.repoRoot);
  const standins = await startStandins({
    runDir,
    runId: p.runId,
    repository,
    branch: p.branch,
    vars: options.vars,
    secrets: options.secrets,
    stateDir: options.stateDir,
  });
  const masker = new Masker();
  for (const value of Object.values(standins.secrets)) masker.add(value);
  masker.add(standins.idToken.requestToken);
  const run: RunContext = {
    repoRoot: p.repoRoot,
    runDir,
    commit: p.commit,
    repository,
    branch: p.branch,
    event: options.event,
    eventPayload: eventPayload(options.event, p, repository, decision),
    inputs: decision.inputs,
    runId: p.runId,
    runNumber: '1',
    attempt: '1',
    workflow: p.workflow,
    masker,
    standins,
    artifacts: new ArtifactStore(path.join(runDir, 'artifacts')),
    baseEnv: machineEnvironment(),
    repositories: p.others,
  };
  try {
    const jobs = await runJobs(run, new Map(), options);
    const failedJobs = jobs.filter((j) => j.state === 'failure' && !j.continueOnError);
    // A called workflow's job that failed at a step says more than the caller job that failed with it.
    const failed = failedJobs.find((j) => j.steps.some((s) => s.state === 'failure')) ?? failedJobs[0];
    return {
      ...base,
      state: failed ? 'failure' : 'success',
      trigger: decision.reason,
      concurrency: workflowConcurrency(run),
      notes: standins.notes,
      jobs,
      artifacts: run.artifacts.list(),
      firstFailure: failed ? firstFailure(failed) : undefined,
      runDir,
      deltaRoot: standins.deltaRoot,
      manifestsDir: standins.manifestsDir,
      recorded: standins.recorded(),
    };
  } finally {
    await standins.close();
  }
}

/** The jobs in needs order; a job that calls a reusable workflow is followed by the called workflow's jobs. */
async function runJobs(
  run: RunContext,
  done: Map<string, JobOutcome>,
  options: RehearseOptions,
): Promise<JobOutcome[]> {
  const reported: JobOutcome[] = [];
  for (const job of needsOrder(run.workflow.jobs)) {
    if (isCallerJob(job)) {
      // The called jobs' progress is named as the report names them: <caller job>/<called job>.
      const onJob = (j: JobReport) => options.onJob?.({ ...j, id: `${job.id}/${j.id}` });
      const { outcome, called } = await runCallerJob(run, job, done, (calledRun, calledDone) =>
        runJobs(calledRun, calledDone, { ...options, onJob }),
      );
      done.set(job.id, outcome);
      reported.push(outcome, ...called);
      options.onJob?.(outcome);
      continue;
    }
    const outcome = await runJob(run, job, done, { keepWorkspaces: options.keepWorkspaces ?? false });
    done.set(job.id, outcome);
    reported.push(outcome);
    options.onJob?.(outcome);
  }
  return reported;
}

/** Jobs ordered so that each comes after every job it needs; among ready jobs, the file's order. */
export function needsOrder<J extends AnyJob>(jobs: J[]): J[] {
  const ordered: J[] = [];
  const placed = new Set<string>();
  while (ordered.length < jobs.length) {
    const ready = jobs.find(
      (j) => !placed.has(j.id) && (j.model.needs ?? []).every((n) => placed.has(n.value)),
    );
    if (!ready) throw new WorkflowError(`the jobs' needs form a cycle or name a missing job`);
    ordered.push(ready);
    placed.add(ready.id);
  }
  return ordered;
}

function firstFailure(job: JobOutcome): Failure {
  const step = job.steps.find((s) => s.state === 'failure');
  return {
    job: job.id,
    step: step?.label,
    reason: step?.reason ?? job.reason ?? 'failed',
  };
}

function workflowConcurrency(run: RunContext): string | undefined {
  const token = run.workflow.template.concurrency;
  if (!token) return undefined;
  const scope = {
    contexts: {
      github: { workflow: run.workflow.name, ref: `refs/heads/${run.branch}` } as Json,
      inputs: run.inputs,
      vars: run.standins.vars,
    },
    functions: [],
  };
  try {
    return concurrencyText(token, scope);
  } catch {
    return JSON.stringify(evaluateToken(token, { contexts: {}, functions: [] }));
  }
}

function repositoryName(repoRoot: string): string {
  try {
    const url = fs.readFileSync(path.join(repoRoot, '.git', 'config'), 'utf8');
    const match = /url = .*github\.com[:/]([^/\s]+\/[^/\s]+?)(\.git)?\s/.exec(url);
    if (match) return match[1]!;
  } catch {
    // A worktree's .git is a file: no remote to read here.
  }
  return `local/${path.basename(repoRoot)}`;
}

function eventPayload(
  event: RehearsedEvent,
  p: Prepared,
  repository: string,
  decision: { inputs: Record<string, string | number | boolean>; cron?: string },
): Record<string, Json> {
  const [owner, name] = repository.split('/');
  const repo = {
    full_name: repository,
    name: name ?? '',
    owner: { login: owner ?? '' },
    default_branch: 'main',
  };
  const common = { repository: repo, sender: { login: 'lakehouse-rehearsal' } };
  const ref = `refs/heads/${p.branch}`;
  if (event === 'workflow_dispatch')
    return {
      ...common,
      ref,
      workflow: p.workflow.file,
      // github.event.inputs holds strings, where the inputs context holds typed values.
      inputs: Object.fromEntries(Object.entries(decision.inputs).map(([k, v]) => [k, String(v)])),
    };
  if (event === 'schedule') return { ...common, schedule: decision.cron ?? '' };
  return {
    ...common,
    ref,
    after: p.commit.sha,
    before: '0'.repeat(40),
    head_commit: { id: p.commit.sha, message: 'rehearsed commit', modified: p.commit.changed },
    commits: [{ id: p.commit.sha, message: 'rehearsed commit', modified: p.commit.changed }],
    pusher: { name: 'lakehouse-rehearsal' },
  };
}
