// A Databricks REST API server for tests, written from the public API reference: the workspace (mkdirs, import
// in SOURCE format, get-status, export) and one-time job runs (Jobs API 2.2 runs/submit, get, get-output,
// cancel). Errors are JSON `{error_code, message}` with Databricks' codes.
//
// Runs advance by polling, not by the clock, so tests are deterministic: every runs/get of a run moves each task
// whose upstream tasks all succeeded one step along PENDING → RUNNING → TERMINATED. A notebook can be made to fail
// (its task ends FAILED with an error; tasks downstream are SKIPPED with UPSTREAM_FAILED, as Databricks does), to
// hang in RUNNING (for timeouts), or to return a result. Faults (500, 429 with Retry-After, connection reset) are
// switched on for the next N requests; every request is recorded in `requests`.
//
// With `runNotebook` (as `lakehouse rehearse` starts it) a task really runs its notebook when it starts, and stays
// RUNNING until that run settles.
//
// OAuth (POST /oidc/v1/token, form-encoded): the client_credentials grant checks HTTP Basic `client_id:secret`
// against the configured service principals; the RFC 8693 token-exchange grant checks the subject token's iss, aud,
// sub and exp claims against the configured federation policies (one per service principal, matched by client_id,
// or account-wide without one). Both issue access tokens with a short expires_in, which the API endpoints then
// accept as Bearer; an expired or unknown OAuth token gets 401. Errors are `{error, error_description}`.
//
// This file authenticates, dispatches and answers; workspace.ts and runs.ts act on the state (state.ts), run-json.ts
// shows runs as the API does, oauth.ts issues tokens, api.ts holds the errors and request checks.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../http-body.ts';
import { absolutePath, ApiError, parseBody, requireString, runNotFound } from './api.ts';
import { oauthService, type FederationPolicy, type ServicePrincipal } from './oauth.ts';
import { JOB_ID, runJson, taskJson } from './run-json.ts';
import { advance, findTask, finish, isFinal, submit } from './runs.ts';
import type { NotebookBehaviour, NotebookTask, ServerRun, ServerState, WorkspaceObject } from './state.ts';
import { importObject, mkdirs } from './workspace.ts';

export type { FederationPolicy, ServicePrincipal } from './oauth.ts';
export type { NotebookBehaviour, NotebookTask, WorkspaceObject } from './state.ts';

export type FaultKind = '500' | '503' | '429' | 'reset';

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** 0 when the server reset the connection instead of answering. */
  status: number;
  fault?: FaultKind;
}

export interface DatabricksServerOptions {
  /** The personal access token requests may carry (default `test-token`). */
  token?: string;
  servicePrincipals?: ServicePrincipal[];
  federationPolicies?: FederationPolicy[];
  /** expires_in of the OAuth access tokens issued (default 60 seconds). */
  accessTokenSeconds?: number;
  /** SQL warehouses that exist (default: `wh-test`). */
  warehouses?: string[];
  /** Clusters that exist (default: `cluster-test`). */
  clusters?: string[];
  /**
   * Runs a task's notebook for real when the task starts: the task stays RUNNING until the promise settles, then
   * succeeds with its answer as the notebook's result, or fails with the error's message.
   */
  runNotebook?: (task: NotebookTask) => Promise<string | undefined>;
}

export interface DatabricksServer {
  url: string;
  token: string;
  requests: RequestRecord[];
  workspace: Map<string, WorkspaceObject>;
  runs: Map<number, ServerRun>;
  /** How a notebook behaves when a task runs it, by workspace path. */
  notebooks: Map<string, NotebookBehaviour>;
  /** Fails the next `count` requests that match `when` with `kind`. 429 sends `Retry-After: retryAfter`. */
  inject(
    kind: FaultKind,
    options?: { count?: number; when?: (method: string, path: string) => boolean; retryAfter?: string },
  ): void;
  /** The run ids of every runs/cancel request answered. */
  cancels: number[];
  /** Every OAuth access token issued, with when it expires and to whom. */
  accessTokens: Map<string, { expiresAt: number; principal: string }>;
  /** The federation policies in force (tests may add one once the server's URL is known). */
  federationPolicies: FederationPolicy[];
  /** Makes every access token issued so far expired (as if its hour had passed). */
  expireAccessTokens(): void;
  close(): Promise<void>;
}

export async function startDatabricksServer(
  options: DatabricksServerOptions = {},
): Promise<DatabricksServer> {
  const policies = [...(options.federationPolicies ?? [])];
  const oauth = oauthService({
    servicePrincipals: options.servicePrincipals ?? [],
    policies,
    accessTokenSeconds: options.accessTokenSeconds ?? 60,
  });
  let nextId = 1000;
  let url = '';
  const state: ServerState = {
    workspace: new Map([['/', { object_type: 'DIRECTORY', path: '/', object_id: 1 }]]),
    runs: new Map(),
    notebooks: new Map(),
    tokens: new Map(),
    cancels: [],
    warehouses: new Set(options.warehouses ?? ['wh-test']),
    clusters: new Set(options.clusters ?? ['cluster-test']),
    runNotebook: options.runNotebook,
    nextId: () => nextId++,
    runUrl: (runId) => `${url}/#job/${JOB_ID}/run/${runId}`,
  };
  const service: Service = { state, token: options.token ?? 'test-token', requests: [], faults: [], oauth };
  const server = http.createServer((req, res) => {
    void readBody(req).then((body) => answer(service, req, res, body.toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { accessTokens } = oauth;
  return {
    url,
    token: service.token,
    requests: service.requests,
    workspace: state.workspace,
    runs: state.runs,
    notebooks: state.notebooks,
    cancels: state.cancels,
    accessTokens,
    federationPolicies: policies,
    expireAccessTokens() {
      for (const issued of accessTokens.values()) issued.expiresAt = 0;
    },
    inject(kind, { count = 1, when = () => true, retryAfter } = {}) {
      for (let i = 0; i < count; i++) service.faults.push({ kind, when, retryAfter });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a request is answered from: the state, the credentials, the faults to inject, the record of requests. */
interface Service {
  state: ServerState;
  token: string;
  requests: RequestRecord[];
  faults: { kind: FaultKind; when: (m: string, p: string) => boolean; retryAfter?: string }[];
  oauth: ReturnType<typeof oauthService>;
}

/** Records a request, then answers it: an injected fault, the token endpoint, a refusal, or the API's answer. */
function answer(service: Service, req: http.IncomingMessage, res: http.ServerResponse, text: string): void {
  const parsedUrl = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const record: RequestRecord = {
    method,
    path: parsedUrl.pathname,
    query: Object.fromEntries(parsedUrl.searchParams),
    body: undefined,
    status: 0,
  };
  service.requests.push(record);
  const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
    record.status = status;
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(payload));
  };
  const fault = service.faults.findIndex((f) => f.when(method, parsedUrl.pathname));
  if (fault >= 0) {
    const [{ kind, retryAfter }] = service.faults.splice(fault, 1) as [Service['faults'][number]];
    record.fault = kind;
    if (kind === 'reset') return void req.socket.destroy();
    return send(...faultAnswer(kind, retryAfter));
  }
  const auth = req.headers.authorization;
  if (method === 'POST' && parsedUrl.pathname === '/oidc/v1/token') {
    const form = new URLSearchParams(text);
    // What was asked, without the credentials.
    record.body = Object.fromEntries(
      [...form].filter(([k]) => !['subject_token', 'client_secret'].includes(k)),
    );
    return send(...service.oauth.tokenEndpoint(form, auth));
  }
  const refused = service.oauth.refusal(auth, service.token);
  if (refused) return send(...refused);
  try {
    const body = method === 'POST' ? parseBody(text) : {};
    record.body = body;
    send(200, route(service.state, method, parsedUrl.pathname, parsedUrl.searchParams, body));
  } catch (e) {
    if (e instanceof ApiError) return send(e.status, { error_code: e.code, message: e.message });
    send(500, { error_code: 'INTERNAL_ERROR', message: String(e) });
  }
}

/** The answer to an authenticated API request (the endpoints of the top of this file). */
function route(
  state: ServerState,
  method: string,
  path: string,
  query: URLSearchParams,
  body: Record<string, unknown>,
): unknown {
  const endpoint = `${method} ${path}`;
  if (path.startsWith('/api/2.0/workspace/')) return workspaceEndpoint(state, endpoint, query, body);
  if (path.startsWith('/api/2.2/jobs/runs/')) return runsEndpoint(state, endpoint, query, body);
  throw new ApiError(404, 'ENDPOINT_NOT_FOUND', `No API found for '${endpoint}'`);
}

function workspaceEndpoint(
  state: ServerState,
  endpoint: string,
  query: URLSearchParams,
  body: Record<string, unknown>,
): unknown {
  switch (endpoint) {
    case 'POST /api/2.0/workspace/mkdirs': {
      const target = requireString(body, 'path');
      absolutePath(target);
      mkdirs(state, target);
      return {};
    }
    case 'POST /api/2.0/workspace/import':
      importObject(state, body);
      return {};
    case 'GET /api/2.0/workspace/get-status':
    case 'GET /api/2.0/workspace/export': {
      const target = query.get('path') ?? '';
      const object = state.workspace.get(target);
      if (!object) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Path (${target}) doesn't exist.`);
      if (endpoint.endsWith('export'))
        return { content: Buffer.from(object.content ?? '').toString('base64'), file_type: 'sql' };
      const { content: _content, ...status } = object;
      return status;
    }
    default:
      throw new ApiError(404, 'ENDPOINT_NOT_FOUND', `No API found for '${endpoint}'`);
  }
}

function runsEndpoint(
  state: ServerState,
  endpoint: string,
  query: URLSearchParams,
  body: Record<string, unknown>,
): unknown {
  switch (endpoint) {
    case 'POST /api/2.2/jobs/runs/submit':
      return submit(state, body);
    case 'GET /api/2.2/jobs/runs/get': {
      const run = state.runs.get(Number(query.get('run_id')));
      if (!run) throw runNotFound(query.get('run_id'));
      advance(state, run);
      return runJson(state, run);
    }
    case 'GET /api/2.2/jobs/runs/get-output': {
      const id = Number(query.get('run_id'));
      if (state.runs.has(id))
        throw new ApiError(
          400,
          'INVALID_PARAMETER_VALUE',
          'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.',
        );
      const found = findTask(state, id);
      if (!found) throw runNotFound(query.get('run_id'));
      const { task } = found;
      const result = task.execution?.result ?? state.notebooks.get(task.notebook_task.notebook_path)?.result;
      return {
        metadata: taskJson(state, task),
        notebook_output:
          task.result_state === 'SUCCESS' && result !== undefined ? { result, truncated: false } : {},
        ...(task.error
          ? {
              error: task.error,
              error_trace: `${task.error}\n\tat notebook ${task.notebook_task.notebook_path}`,
            }
          : {}),
      };
    }
    case 'POST /api/2.2/jobs/runs/cancel': {
      const run = state.runs.get(Number(body.run_id));
      if (!run) throw runNotFound(String(body.run_id));
      state.cancels.push(run.run_id);
      if (!run.tasks.every(isFinal)) {
        run.cancelled = true;
        for (const task of run.tasks.filter((t) => !isFinal(t)))
          finish(task, 'TERMINATED', 'CANCELED', 'Run cancelled.');
        run.end_time = Date.now();
      }
      return {};
    }
    default:
      throw new ApiError(404, 'ENDPOINT_NOT_FOUND', `No API found for '${endpoint}'`);
  }
}

/** The answer to a request that drew an injected fault (other than a reset). */
function faultAnswer(
  kind: Exclude<FaultKind, 'reset'>,
  retryAfter: string | undefined,
): [number, unknown, Record<string, string>] {
  if (kind === '429')
    return [
      429,
      { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'Too many requests.' },
      retryAfter === undefined ? {} : { 'Retry-After': retryAfter },
    ];
  return [
    Number(kind),
    {
      error_code: kind === '500' ? 'INTERNAL_ERROR' : 'TEMPORARILY_UNAVAILABLE',
      message: 'The service is having a moment.',
    },
    {},
  ];
}
