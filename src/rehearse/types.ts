// The shapes the rehearsal passes between its parts: the run (one per rehearsal), the report it ends with.
import type { Masker } from './commands.ts';
import type { Json } from './expressions.ts';
import type { Annotation } from './step-io.ts';
import type { RehearsedEvent } from './triggers.ts';
import type { Workflow } from './workflow.ts';

export type State = 'success' | 'failure' | 'skipped' | 'cancelled';

/** The commit every job clones: HEAD, or a temporary commit of the working tree when it has changes. */
export interface RehearsedCommit {
  sha: string;
  source: 'HEAD' | 'working tree';
  /** A temporary ref that keeps the commit reachable while the jobs clone it. */
  ref: string;
  /** Paths the commit changes against its parent (what a push of it would change). */
  changed: string[];
}

/** What the cloud stand-ins give the jobs. */
export interface StandinEnvironment {
  /** Endpoint variables every step gets (e.g. STORAGE_EMULATOR_HOST), with why. */
  endpointEnv: Record<string, string>;
  vars: Record<string, string>;
  secrets: Record<string, string>;
  /** The job's GITHUB_TOKEN, by whether the job may write deployments. */
  githubToken(permissions: Record<string, string>): string;
  githubApiUrl: string;
  idToken: { url: string; requestToken: string };
  /** Action input defaults that name a cloud endpoint, replaced by a stand-in's (action.yml default → value). */
  inputDefaults: Record<string, string>;
  /** Changes a fresh checkout needs for the stand-ins (the SQL Server → PostgreSQL switch), each said in `notes`. */
  prepareWorkspace(workspace: string): void;
  /** What the stand-ins replace, one line each, for the report. */
  notes: string[];
}

export interface RunContext {
  repoRoot: string;
  runDir: string;
  commit: RehearsedCommit;
  repository: string;
  branch: string;
  event: RehearsedEvent;
  eventPayload: Record<string, Json>;
  inputs: Record<string, string | number | boolean>;
  runId: string;
  runNumber: string;
  attempt: string;
  workflow: Workflow;
  /** In a called workflow, the workflow of the run (the caller's), which the github context names. */
  runWorkflow?: Workflow;
  masker: Masker;
  standins: StandinEnvironment;
  artifacts: import('./artifacts.ts').ArtifactStore;
  /**
   * Other repositories (owner/name, lower case) a called workflow names: the rehearsal has none, so each is a
   * folder and a commit of it, which actions/checkout clones when asked for that repository.
   */
  repositories?: Record<string, { repoRoot: string; commit: RehearsedCommit }>;
  /** The machine's variables a runner has too (PATH, HOME, LANG …); nothing else of the caller's environment. */
  baseEnv: Record<string, string>;
}

export interface StepReport {
  label: string;
  id: string;
  /** The conclusion: a failure under continue-on-error concludes as success. */
  state: State;
  outcome: State;
  ms: number;
  summary: string;
  reason?: string;
  annotations: Annotation[];
  logFile?: string;
  post?: boolean;
}

export interface JobReport {
  id: string;
  name: string;
  state: State;
  ms: number;
  steps: StepReport[];
  outputs: Record<string, string>;
  /** Why the job failed or was skipped, when it was not one of its steps. */
  reason?: string;
  runsOn?: string;
  concurrency?: string;
  notes: string[];
}

export interface Failure {
  job: string;
  step?: string;
  reason: string;
}
