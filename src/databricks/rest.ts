// src/databricks/ holds the Databricks clients: this REST client (workspace, Jobs), sign-in (auth.ts: PAT, OAuth
// M2M, GitHub OIDC) and the SQL warehouse client the app reads through (sql.ts).
//
// A small client for the Databricks REST API over fetch: the workspace (mkdirs, import) and one-time job runs
// (Jobs API 2.2 runs/submit, get, get-output, cancel). The official JS SDK is a preview without GitHub OIDC login,
// so the few calls the transform needs are made here directly.
//
// Requests go through the project's HTTP client (src/http/), which retries 429 (after Retry-After when the server
// sends it), 5xx and broken connections with exponential backoff and jitter. The workspace calls (mkdirs, import
// with overwrite, cancel) are idempotent by what they do and so are repeated like a GET; a runs/submit is only when
// it carries an idempotency_token (a repeat returns the run the first one started); without one, only after a 429
// (the request was refused, so no run started), since a submit whose answer was lost may have started a run that a
// repeat would start again.
//
// Errors name the method, the path, the HTTP status and Databricks' error_code and message; the token is never
// part of them (it only travels in the Authorization header).
//
// Authentication (src/databricks/auth.ts): a personal access token, or an OAuth token (M2M or GitHub OIDC) that is
// cached, renewed before it expires, and asked for again once when a request is answered 401.
import { HttpClient, answerMessage, isTransientStatus, type HttpFailure } from '../http/index.ts';
import { consoleLogger, type Logger } from '../util/log.ts';
import { nextAttemptNote, serverRetryDelay, type RetryPolicy } from '../util/backoff.ts';
import { createTokenProvider, type DatabricksAuth, type TokenProviderOptions } from './auth.ts';

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  initialDelayMs: 500,
  multiplier: 2,
  maxDelayMs: 30_000,
};

export interface DatabricksClientOptions {
  /** The workspace URL or host name, e.g. https://adb-123.4.azuredatabricks.net (https:// is assumed). */
  host: string;
  /** A personal access token (or any bearer token the workspace accepts): short for `auth: {kind: 'pat', token}`. */
  token?: string;
  /** How to authenticate, when not with `token`. */
  auth?: DatabricksAuth;
  /** Options of the OAuth token requests (the clock, a hook for each secret learnt). */
  tokens?: TokenProviderOptions;
  retry?: Partial<RetryPolicy>;
  /** Each request must be answered within this (default 60 000 ms); then it counts as a broken connection. */
  requestTimeoutMs?: number;
  log?: Logger;
}

/** Life cycle states of a run or task (the `state` object Jobs 2.2 still returns next to `status`). */
export type LifeCycleState =
  | 'QUEUED'
  | 'PENDING'
  | 'RUNNING'
  | 'TERMINATING'
  | 'TERMINATED'
  | 'SKIPPED'
  | 'INTERNAL_ERROR'
  | 'BLOCKED'
  | 'WAITING_FOR_RETRY';

export interface RunState {
  life_cycle_state: LifeCycleState;
  result_state?: string;
  state_message?: string;
  user_cancelled_or_timedout?: boolean;
}

export interface RunStatus {
  state: string;
  termination_details?: { code?: string; type?: string; message?: string };
}

export interface NotebookTask {
  notebook_path: string;
  base_parameters?: Record<string, string>;
  source?: 'WORKSPACE' | 'GIT';
  warehouse_id?: string;
}

export interface SubmitTask {
  task_key: string;
  depends_on?: { task_key: string }[];
  notebook_task: NotebookTask;
  existing_cluster_id?: string;
  timeout_seconds?: number;
}

export interface SubmitRunSpec {
  run_name?: string;
  tasks: SubmitTask[];
  timeout_seconds?: number;
  /** At most 64 characters; a submit with a token already used returns the run it started. */
  idempotency_token?: string;
}

export interface TaskRun {
  run_id: number;
  task_key: string;
  state: RunState;
  status?: RunStatus;
  notebook_task?: NotebookTask;
  depends_on?: { task_key: string }[];
  start_time?: number;
  end_time?: number;
  setup_duration?: number;
  execution_duration?: number;
  cleanup_duration?: number;
  run_page_url?: string;
}

export interface Run {
  run_id: number;
  job_id?: number;
  run_name?: string;
  state: RunState;
  status?: RunStatus;
  tasks?: TaskRun[];
  start_time?: number;
  end_time?: number;
  run_page_url?: string;
}

export interface RunOutput {
  metadata?: TaskRun;
  notebook_output?: { result?: string; truncated?: boolean };
  error?: string;
  error_trace?: string;
}

export interface WaitOptions {
  /** Time between polls (default 10 000 ms). */
  pollMs?: number;
  /** Give up after this long (default: no limit); the run is cancelled. */
  timeoutMs?: number;
  /** Aborting cancels the run. */
  signal?: AbortSignal;
  /** Called with every state polled, e.g. to log progress. */
  onPoll?: (run: Run) => void;
}

export interface DatabricksClient {
  /** The workspace URL requests go to, without a trailing slash. */
  readonly url: string;
  mkdirs(path: string): Promise<void>;
  /** Imports a SQL notebook in SOURCE format, replacing what is at `path`. */
  importNotebook(path: string, sqlSource: string): Promise<void>;
  submitRun(spec: SubmitRunSpec): Promise<number>;
  getRun(runId: number): Promise<Run>;
  /** The output of one task run (a multi-task run has none of its own). */
  getRunOutput(taskRunId: number): Promise<RunOutput>;
  cancelRun(runId: number): Promise<void>;
  /** Polls until the run is over and returns it; on timeout or abort, cancels it and throws. */
  waitForRun(runId: number, options?: WaitOptions): Promise<Run>;
}

export interface ApiErrorDetails {
  method: string;
  path: string;
  /** 0 when no response came (a broken connection or a request timeout). */
  status: number;
  errorCode?: string;
  /** What the server's Retry-After asked for. */
  retryAfterMs?: number;
}

export class DatabricksApiError extends Error {
  override name = 'DatabricksApiError';
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly errorCode?: string;
  readonly retryAfterMs?: number;
  constructor(message: string, details: ApiErrorDetails) {
    super(message);
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.errorCode = details.errorCode;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** Worth another attempt: rate limited, a server error, or no answer at all. */
  get transient(): boolean {
    return isTransientStatus(this.status);
  }
}

/** The run did not end in time (or the wait was aborted), and was cancelled. */
export class DatabricksRunTimeoutError extends Error {
  override name = 'DatabricksRunTimeoutError';
  readonly runId: number;
  constructor(message: string, runId: number) {
    super(message);
    this.runId = runId;
  }
}

const FINAL_STATES = new Set<LifeCycleState>(['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR']);

export function isRunOver(run: Pick<Run, 'state'>): boolean {
  return FINAL_STATES.has(run.state.life_cycle_state);
}

/**
 * The workspace's origin: https:// is assumed when the host has no scheme, and what follows the host is dropped
 * (a URL copied from the browser carries `/?o=<workspace id>#…`).
 */
export function workspaceUrl(host: string): string {
  const trimmed = host.trim();
  if (!trimmed) throw new Error('Databricks host: expected the workspace URL, found nothing');
  try {
    return new URL(/^https?:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`).origin;
  } catch {
    throw new Error(
      `Databricks host: expected a URL like https://adb-123.4.azuredatabricks.net, found ${JSON.stringify(host)}`,
    );
  }
}

export function createDatabricksClient(options: DatabricksClientOptions): DatabricksClient {
  const url = workspaceUrl(options.host);
  const log = options.log ?? consoleLogger;
  const request = workspaceRequests(url, log, options);
  const client: DatabricksClient = {
    url,
    async mkdirs(path) {
      await request('POST', '/api/2.0/workspace/mkdirs', { path });
    },
    async importNotebook(path, sqlSource) {
      await request('POST', '/api/2.0/workspace/import', {
        path,
        format: 'SOURCE',
        language: 'SQL',
        content: Buffer.from(sqlSource, 'utf8').toString('base64'),
        overwrite: true,
      });
    },
    async submitRun(spec) {
      const answer = await request<{ run_id: number }>(
        'POST',
        '/api/2.2/jobs/runs/submit',
        spec,
        Boolean(spec.idempotency_token),
      );
      return answer.run_id;
    },
    getRun: (runId) => request<Run>('GET', `/api/2.2/jobs/runs/get?run_id=${runId}`),
    getRunOutput: (taskRunId) =>
      request<RunOutput>('GET', `/api/2.2/jobs/runs/get-output?run_id=${taskRunId}`),
    async cancelRun(runId) {
      await request('POST', '/api/2.2/jobs/runs/cancel', { run_id: runId });
    },
    waitForRun: (runId, waitOptions = {}) => waitForRun(client, log, runId, waitOptions),
  };
  return client;
}

type WorkspaceRequest = <T>(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  guarded?: boolean,
) => Promise<T>;

/** Requests to the workspace, authenticated, through the HTTP client. */
function workspaceRequests(url: string, log: Logger, options: DatabricksClientOptions): WorkspaceRequest {
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const tokens = createTokenProvider(url, options.auth ?? { kind: 'pat', token: options.token ?? '' }, {
    retry,
    timeoutMs: options.requestTimeoutMs,
    log,
    ...options.tokens,
  });
  const http = new HttpClient({
    baseUrl: url,
    headers: async () => ({ Authorization: await tokens.authorization(), Accept: 'application/json' }),
    retry,
    timeoutMs: options.requestTimeoutMs ?? 60_000,
    log,
    toError: apiError,
    retryMessage: (error, notice) => `databricks: ${error.message}; ${nextAttemptNote(notice)}`,
  });
  // `guarded`: safe to repeat although a POST (see the top of this file).
  return async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown, guarded = true) {
    const send = () =>
      http.json<T>({
        method,
        url: path,
        shown: path,
        guarded,
        ...(body === undefined
          ? {}
          : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
      });
    try {
      return await send();
    } catch (e) {
      // An OAuth token can be revoked or expire early: ask for a new one, once, and repeat the request with it
      // (a 401 did nothing, so even a submit may go again).
      if (e instanceof DatabricksApiError && e.status === 401 && tokens.invalidate()) return send();
      throw e;
    }
  };
}

/** Polls until the run is over; on timeout or abort, cancels it and throws. */
async function waitForRun(
  client: DatabricksClient,
  log: Logger,
  runId: number,
  { pollMs = 10_000, timeoutMs, signal, onPoll }: WaitOptions,
): Promise<Run> {
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  for (;;) {
    const stop = signal?.aborted
      ? 'the wait was aborted'
      : Date.now() >= deadline
        ? `it did not finish within ${timeoutMs} ms`
        : undefined;
    if (stop) {
      // The cancel is the point of stopping: if it fails, say so rather than hide the run still going.
      const cancelled = await client.cancelRun(runId).then(
        () => 'cancelled it',
        (e: unknown) => `cancelling it failed (${e instanceof Error ? e.message : String(e)})`,
      );
      throw new DatabricksRunTimeoutError(`run ${runId}: ${stop}; ${cancelled}`, runId);
    }
    try {
      const run = await client.getRun(runId);
      onPoll?.(run);
      if (isRunOver(run)) return run;
    } catch (e) {
      // The run goes on whatever happens to one poll: only errors that will not pass end the wait.
      if (!(e instanceof DatabricksApiError) || !e.transient) throw e;
      log.warn(`databricks: polling run ${runId}: ${e.message}; polling on`);
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), signal);
  }
}

/** A failed request as Databricks tells it: method, path, status, its error_code and message. */
function apiError(failure: HttpFailure): DatabricksApiError {
  const { method, shown: path, status, answer } = failure;
  if (!answer)
    return new DatabricksApiError(`${method} ${path}: no response (${failure.cause})`, {
      method,
      path,
      status,
    });
  const errorCode = failure.problem ? undefined : stringField(answer.text, 'error_code');
  const message = failure.problem ?? (answerMessage(answer.text, ['message', 'error']) || answer.statusText);
  return new DatabricksApiError(
    `${method} ${path}: HTTP ${status}${errorCode ? ` ${errorCode}` : ''}: ${message}`,
    {
      method,
      path,
      status,
      errorCode,
      retryAfterMs: failure.problem ? undefined : serverRetryDelay(answer.headers),
    },
  );
}

function stringField(text: string, field: string): string | undefined {
  try {
    const value = (JSON.parse(text) as Record<string, unknown>)?.[field];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
