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
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtClaims } from '../github/id-token.ts';
import { readBody } from '../http-body.ts';

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

export interface NotebookBehaviour {
  /** The task fails with this error (what get-output's `error` says). */
  fail?: string;
  /** The task never leaves RUNNING (until the run is cancelled). */
  hang?: boolean;
  /** What get-output's notebook_output.result says. */
  result?: string;
}

export interface WorkspaceObject {
  object_type: 'DIRECTORY' | 'NOTEBOOK';
  path: string;
  object_id: number;
  language?: string;
  /** A notebook's source, decoded. */
  content?: string;
}

interface ServerTask {
  run_id: number;
  task_key: string;
  depends_on: { task_key: string }[];
  notebook_task: Record<string, unknown> & { notebook_path: string };
  existing_cluster_id?: string;
  life_cycle_state: string;
  result_state?: string;
  state_message: string;
  start_time?: number;
  end_time?: number;
  error?: string;
  /** A notebook run for real (see `runNotebook`): settled or not, and how. */
  execution?: { settled: boolean; result?: string; error?: string };
}

interface ServerRun {
  run_id: number;
  run_name: string;
  spec: Record<string, unknown>;
  tasks: ServerTask[];
  cancelled: boolean;
  start_time: number;
  end_time?: number;
}

export interface ServicePrincipal {
  clientId: string;
  clientSecret: string;
}

export interface FederationPolicy {
  issuer?: string;
  /** The `aud` the subject token must have. */
  audience: string;
  /** The `sub` the subject token must have. */
  subject: string;
  /** The service principal the policy belongs to; unset: an account-wide policy. */
  clientId?: string;
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

export interface NotebookTask {
  taskKey: string;
  path: string;
  source: string;
  parameters: Record<string, string>;
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

class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const JOB_ID = 0; // One-time runs belong to no job.
const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

export async function startDatabricksServer(
  options: DatabricksServerOptions = {},
): Promise<DatabricksServer> {
  const token = options.token ?? 'test-token';
  const warehouses = new Set(options.warehouses ?? ['wh-test']);
  const clusters = new Set(options.clusters ?? ['cluster-test']);
  const requests: RequestRecord[] = [];
  const workspace = new Map<string, WorkspaceObject>([
    ['/', { object_type: 'DIRECTORY', path: '/', object_id: 1 }],
  ]);
  const runs = new Map<number, ServerRun>();
  const notebooks = new Map<string, NotebookBehaviour>();
  const tokens = new Map<string, number>();
  const cancels: number[] = [];
  const servicePrincipals = options.servicePrincipals ?? [];
  const policies = [...(options.federationPolicies ?? [])];
  const accessTokenSeconds = options.accessTokenSeconds ?? 60;
  const accessTokens = new Map<string, { expiresAt: number; principal: string }>();
  const faults: {
    kind: FaultKind;
    when: (m: string, p: string) => boolean;
    retryAfter?: string;
  }[] = [];
  let nextId = 1000;
  let url = '';

  const taskRunUrl = (runId: number) => `${url}/#job/${JOB_ID}/run/${runId}`;

  function mkdirs(path: string): void {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const prefix = `/${parts.slice(0, i).join('/')}`;
      const existing = workspace.get(prefix);
      if (existing?.object_type === 'NOTEBOOK')
        throw new ApiError(
          400,
          'RESOURCE_ALREADY_EXISTS',
          `Path (${prefix}) already exists and is not a directory.`,
        );
      if (!existing) workspace.set(prefix, { object_type: 'DIRECTORY', path: prefix, object_id: nextId++ });
    }
  }

  function importObject(body: Record<string, unknown>): void {
    const path = requireString(body, 'path');
    absolutePath(path);
    if (body.format !== 'SOURCE')
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'This server imports only format SOURCE.');
    if (!['SQL', 'PYTHON', 'SCALA', 'R'].includes(String(body.language)))
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        'The language field is required to import a single file as SOURCE.',
      );
    const content = requireString(body, 'content');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content))
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Invalid base64 content.');
    const bytes = Buffer.from(content, 'base64');
    if (bytes.length > MAX_IMPORT_BYTES)
      throw new ApiError(400, 'MAX_NOTEBOOK_SIZE_EXCEEDED', 'The content exceeds 10 MB.');
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (workspace.get(parent)?.object_type !== 'DIRECTORY')
      throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `The parent folder (${parent}) does not exist.`);
    const existing = workspace.get(path);
    if (existing && (existing.object_type === 'DIRECTORY' || body.overwrite !== true))
      throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `${path} already exists.`);
    workspace.set(path, {
      object_type: 'NOTEBOOK',
      path,
      object_id: existing?.object_id ?? nextId++,
      language: String(body.language),
      content: bytes.toString('utf8'),
    });
  }

  function submit(body: Record<string, unknown>): { run_id: number } {
    const idempotency = body.idempotency_token;
    if (idempotency !== undefined) {
      if (typeof idempotency !== 'string' || idempotency.length > 64)
        throw new ApiError(
          400,
          'INVALID_PARAMETER_VALUE',
          'idempotency_token must be a string of at most 64 characters.',
        );
      const seen = tokens.get(idempotency);
      if (seen !== undefined) return { run_id: seen };
    }
    if (
      body.timeout_seconds !== undefined &&
      !(Number.isInteger(body.timeout_seconds) && (body.timeout_seconds as number) >= 0)
    )
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'timeout_seconds must be a non-negative integer.');
    const tasks = body.tasks;
    if (!Array.isArray(tasks) || tasks.length === 0)
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'A run must have at least one task.');
    const keys = new Set<string>();
    const parsed: ServerTask[] = tasks.map((raw: Record<string, unknown>, i) => {
      const key = raw?.task_key;
      if (typeof key !== 'string' || !/^[\w-]{1,100}$/.test(key))
        throw new ApiError(
          400,
          'INVALID_PARAMETER_VALUE',
          `Task ${i}: task_key is required (1 to 100 letters, digits, - or _).`,
        );
      if (keys.has(key))
        throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Task key ${key} is used more than once.`);
      keys.add(key);
      return parseTask(raw, key);
    });
    for (const task of parsed)
      for (const dep of task.depends_on)
        if (!keys.has(dep.task_key))
          throw new ApiError(
            400,
            'INVALID_PARAMETER_VALUE',
            `Task ${task.task_key} depends on ${dep.task_key}, which is not a task of this run.`,
          );
    rejectCycles(parsed);
    const run: ServerRun = {
      run_id: nextId++,
      run_name: typeof body.run_name === 'string' ? body.run_name : 'Untitled',
      spec: body,
      tasks: parsed,
      cancelled: false,
      start_time: Date.now(),
    };
    runs.set(run.run_id, run);
    if (typeof idempotency === 'string') tokens.set(idempotency, run.run_id);
    return { run_id: run.run_id };
  }

  function parseTask(raw: Record<string, unknown>, key: string): ServerTask {
    const dependsOn = raw.depends_on ?? [];
    if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d?.task_key !== 'string'))
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `Task ${key}: depends_on must be a list of {task_key}.`,
      );
    const notebook = raw.notebook_task as Record<string, unknown> | undefined;
    if (!notebook || typeof notebook.notebook_path !== 'string')
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `Task ${key}: this server runs notebook tasks only (notebook_task.notebook_path is required).`,
      );
    const path = notebook.notebook_path;
    if ((notebook.source ?? 'WORKSPACE') === 'WORKSPACE' && workspace.get(path)?.object_type !== 'NOTEBOOK')
      throw new ApiError(
        400,
        'RESOURCE_DOES_NOT_EXIST',
        `Task ${key}: the notebook ${path} does not exist in the workspace.`,
      );
    const params = notebook.base_parameters ?? {};
    if (typeof params !== 'object' || Object.values(params).some((v) => typeof v !== 'string'))
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `Task ${key}: base_parameters must map names to strings.`,
      );
    const warehouse = notebook.warehouse_id;
    if (warehouse !== undefined && !warehouses.has(String(warehouse)))
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `Task ${key}: SQL warehouse ${String(warehouse)} does not exist.`,
      );
    const cluster = raw.existing_cluster_id;
    if (cluster !== undefined && !clusters.has(String(cluster)))
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `Task ${key}: cluster ${String(cluster)} does not exist.`,
      );
    if (warehouse !== undefined && cluster !== undefined)
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `Task ${key}: give warehouse_id or existing_cluster_id, not both.`,
      );
    return {
      run_id: nextId++,
      task_key: key,
      depends_on: dependsOn as { task_key: string }[],
      notebook_task: notebook as ServerTask['notebook_task'],
      ...(cluster !== undefined ? { existing_cluster_id: String(cluster) } : {}),
      life_cycle_state: 'PENDING',
      state_message: 'Waiting for cluster',
    };
  }

  /** One step of the state machine (see the top of this file). */
  function advance(run: ServerRun): void {
    if (run.cancelled) return;
    const byKey = new Map(run.tasks.map((t) => [t.task_key, t]));
    const before = new Map(run.tasks.map((t) => [t.task_key, t.life_cycle_state]));
    for (const task of run.tasks) {
      if (isFinal(task) || before.get(task.task_key) !== task.life_cycle_state) continue;
      const upstream = task.depends_on.map((d) => byKey.get(d.task_key)!);
      if (upstream.some((u) => isFinal(u) && u.result_state !== 'SUCCESS')) {
        finish(task, 'SKIPPED', 'UPSTREAM_FAILED', 'Upstream task(s) failed.');
        continue;
      }
      if (!upstream.every((u) => u.result_state === 'SUCCESS')) continue;
      const behaviour = notebooks.get(task.notebook_task.notebook_path) ?? {};
      if (task.life_cycle_state === 'PENDING') {
        task.life_cycle_state = 'RUNNING';
        task.state_message = 'In run';
        task.start_time = Date.now();
        if (options.runNotebook) execute(task, options.runNotebook);
      } else if (task.execution) {
        const { settled, error } = task.execution;
        if (settled && error !== undefined) {
          task.error = error;
          finish(task, 'TERMINATED', 'FAILED', 'Workload failed, see run output for details');
        } else if (settled) finish(task, 'TERMINATED', 'SUCCESS', '');
      } else if (task.life_cycle_state === 'RUNNING' && !behaviour.hang) {
        if (behaviour.fail) {
          task.error = behaviour.fail;
          finish(task, 'TERMINATED', 'FAILED', 'Workload failed, see run output for details');
        } else finish(task, 'TERMINATED', 'SUCCESS', '');
      }
    }
    if (run.tasks.every(isFinal)) run.end_time ??= Date.now();
  }

  function execute(task: ServerTask, runNotebook: NonNullable<DatabricksServerOptions['runNotebook']>): void {
    const execution: NonNullable<ServerTask['execution']> = { settled: false };
    task.execution = execution;
    const path = task.notebook_task.notebook_path;
    const parameters = (task.notebook_task.base_parameters ?? {}) as Record<string, string>;
    void runNotebook({
      taskKey: task.task_key,
      path,
      source: workspace.get(path)?.content ?? '',
      parameters,
    }).then(
      (result) => Object.assign(execution, { settled: true, result }),
      (e: unknown) =>
        Object.assign(execution, { settled: true, error: e instanceof Error ? e.message : String(e) }),
    );
  }

  function finish(task: ServerTask, life: string, result: string, message: string): void {
    task.life_cycle_state = life;
    task.result_state = result;
    task.state_message = message;
    task.start_time ??= Date.now();
    task.end_time = Date.now();
  }

  function taskJson(task: ServerTask) {
    return {
      run_id: task.run_id,
      task_key: task.task_key,
      ...(task.depends_on.length ? { depends_on: task.depends_on } : {}),
      notebook_task: task.notebook_task,
      ...(task.existing_cluster_id ? { existing_cluster_id: task.existing_cluster_id } : {}),
      state: stateJson(task.life_cycle_state, task.result_state, task.state_message),
      status: statusJson(task.life_cycle_state, task.result_state, task.state_message),
      start_time: task.start_time ?? 0,
      ...(task.end_time ? { end_time: task.end_time } : {}),
      setup_duration: 0,
      execution_duration: task.end_time && task.start_time ? task.end_time - task.start_time : 0,
      cleanup_duration: 0,
      run_page_url: taskRunUrl(task.run_id),
    };
  }

  function runJson(run: ServerRun) {
    const life = run.tasks.every(isFinal)
      ? 'TERMINATED'
      : run.tasks.some((t) => t.life_cycle_state !== 'PENDING')
        ? 'RUNNING'
        : 'PENDING';
    const result =
      life !== 'TERMINATED'
        ? undefined
        : run.cancelled
          ? 'CANCELED'
          : run.tasks.every((t) => t.result_state === 'SUCCESS')
            ? 'SUCCESS'
            : 'FAILED';
    return {
      job_id: JOB_ID,
      run_id: run.run_id,
      run_name: run.run_name,
      run_type: 'SUBMIT_RUN',
      state: stateJson(life, result, result === 'FAILED' ? 'One or more tasks failed.' : ''),
      status: statusJson(life, result, ''),
      tasks: run.tasks.map(taskJson),
      start_time: run.start_time,
      ...(run.end_time ? { end_time: run.end_time } : {}),
      run_page_url: taskRunUrl(run.run_id),
    };
  }

  function findTask(runId: number): { run: ServerRun; task: ServerTask } | undefined {
    for (const run of runs.values()) {
      const task = run.tasks.find((t) => t.run_id === runId);
      if (task) return { run, task };
    }
    return undefined;
  }

  function route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): unknown {
    const endpoint = `${method} ${path}`;
    switch (endpoint) {
      case 'POST /api/2.0/workspace/mkdirs': {
        const target = requireString(body, 'path');
        absolutePath(target);
        mkdirs(target);
        return {};
      }
      case 'POST /api/2.0/workspace/import':
        importObject(body);
        return {};
      case 'GET /api/2.0/workspace/get-status':
      case 'GET /api/2.0/workspace/export': {
        const target = query.get('path') ?? '';
        const object = workspace.get(target);
        if (!object) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Path (${target}) doesn't exist.`);
        if (endpoint.endsWith('export'))
          return { content: Buffer.from(object.content ?? '').toString('base64'), file_type: 'sql' };
        const { content: _content, ...status } = object;
        return status;
      }
      case 'POST /api/2.2/jobs/runs/submit':
        return submit(body);
      case 'GET /api/2.2/jobs/runs/get': {
        const run = runs.get(Number(query.get('run_id')));
        if (!run) throw runNotFound(query.get('run_id'));
        advance(run);
        return runJson(run);
      }
      case 'GET /api/2.2/jobs/runs/get-output': {
        const id = Number(query.get('run_id'));
        if (runs.has(id))
          throw new ApiError(
            400,
            'INVALID_PARAMETER_VALUE',
            'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.',
          );
        const found = findTask(id);
        if (!found) throw runNotFound(query.get('run_id'));
        const { task } = found;
        const result = task.execution?.result ?? notebooks.get(task.notebook_task.notebook_path)?.result;
        return {
          metadata: taskJson(task),
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
        const run = runs.get(Number(body.run_id));
        if (!run) throw runNotFound(String(body.run_id));
        cancels.push(run.run_id);
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

  function issueAccessToken(principal: string) {
    const token = `dbx-oauth-${crypto.randomBytes(18).toString('hex')}`;
    accessTokens.set(token, { expiresAt: Date.now() + accessTokenSeconds * 1000, principal });
    return { access_token: token, token_type: 'Bearer', expires_in: accessTokenSeconds, scope: 'all-apis' };
  }

  /** POST /oidc/v1/token: `[status, answer]`. */
  function tokenEndpoint(form: URLSearchParams, authorization: string | undefined): [number, unknown] {
    const oauthError = (status: number, error: string, description: string): [number, unknown] => [
      status,
      { error, error_description: description },
    ];
    if (form.get('scope') !== 'all-apis')
      return oauthError(400, 'invalid_scope', `Unsupported scope: ${form.get('scope') ?? '(none)'}`);
    const grant = form.get('grant_type');
    if (grant === 'client_credentials') {
      const basic = /^Basic (\S+)$/.exec(authorization ?? '');
      if (!basic) return oauthError(401, 'invalid_client', 'Client authentication is required.');
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const clientId = decoded.slice(0, colon);
      const principal = servicePrincipals.find(
        (p) => p.clientId === clientId && p.clientSecret === decoded.slice(colon + 1),
      );
      if (colon < 0 || !principal) return oauthError(401, 'invalid_client', 'Client authentication failed');
      return [200, issueAccessToken(principal.clientId)];
    }
    if (grant === 'urn:ietf:params:oauth:grant-type:token-exchange') {
      if (form.get('subject_token_type') !== 'urn:ietf:params:oauth:token-type:jwt')
        return oauthError(
          400,
          'invalid_request',
          'subject_token_type must be urn:ietf:params:oauth:token-type:jwt',
        );
      const claims = jwtClaims(form.get('subject_token') ?? '');
      if (!claims) return oauthError(400, 'invalid_request', 'subject_token is not a JWT');
      const clientId = form.get('client_id') ?? undefined;
      const exp = Number(claims.exp);
      if (!Number.isFinite(exp) || exp * 1000 <= Date.now())
        return oauthError(401, 'invalid_grant', 'The subject token has expired.');
      const policy = policies.find(
        (p) =>
          p.clientId === clientId &&
          (p.issuer ?? 'https://token.actions.githubusercontent.com') === claims.iss &&
          p.audience === claims.aud &&
          p.subject === claims.sub,
      );
      if (!policy)
        return oauthError(
          401,
          'invalid_grant',
          `No federation policy${clientId ? ` of service principal ${clientId}` : ''} matches the subject token (iss, aud, sub).`,
        );
      return [200, issueAccessToken(clientId ?? `federated:${String(claims.sub)}`)];
    }
    return oauthError(400, 'unsupported_grant_type', `Unsupported grant_type: ${grant ?? '(none)'}`);
  }

  const server = http.createServer((req, res) => {
    void readBody(req).then((body) => {
      const parsedUrl = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method ?? 'GET';
      const text = body.toString('utf8');
      const record: RequestRecord = {
        method,
        path: parsedUrl.pathname,
        query: Object.fromEntries(parsedUrl.searchParams),
        body: undefined,
        status: 0,
      };
      requests.push(record);
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        record.status = status;
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      const fault = faults.findIndex((f) => f.when(method, parsedUrl.pathname));
      if (fault >= 0) {
        const [{ kind, retryAfter }] = faults.splice(fault, 1) as [(typeof faults)[number]];
        record.fault = kind;
        if (kind === 'reset') return void req.socket.destroy();
        if (kind === '429')
          return send(
            429,
            { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'Too many requests.' },
            retryAfter === undefined ? {} : { 'Retry-After': retryAfter },
          );
        return send(Number(kind), {
          error_code: kind === '500' ? 'INTERNAL_ERROR' : 'TEMPORARILY_UNAVAILABLE',
          message: 'The service is having a moment.',
        });
      }
      const auth = req.headers.authorization;
      if (method === 'POST' && parsedUrl.pathname === '/oidc/v1/token') {
        const form = new URLSearchParams(text);
        // What was asked, without the credentials.
        record.body = Object.fromEntries(
          [...form].filter(([k]) => !['subject_token', 'client_secret'].includes(k)),
        );
        const [status, answer] = tokenEndpoint(form, auth);
        return send(status, answer);
      }
      if (!auth || !/^Bearer \S+$/.test(auth))
        return send(401, {
          error_code: 'UNAUTHENTICATED',
          message: 'Credential was not sent or was of an unsupported type for this API.',
        });
      const bearer = auth.slice('Bearer '.length);
      if (bearer.startsWith('dbx-oauth-')) {
        const issued = accessTokens.get(bearer);
        if (!issued || issued.expiresAt <= Date.now())
          return send(401, {
            error_code: 'UNAUTHENTICATED',
            message: issued ? 'Token expired.' : 'Invalid OAuth access token.',
          });
      } else if (bearer !== token)
        return send(403, { error_code: 'PERMISSION_DENIED', message: 'Invalid access token.' });
      try {
        const body = method === 'POST' ? parseBody(text) : {};
        record.body = body;
        send(200, route(method, parsedUrl.pathname, parsedUrl.searchParams, body));
      } catch (e) {
        if (e instanceof ApiError) return send(e.status, { error_code: e.code, message: e.message });
        send(500, { error_code: 'INTERNAL_ERROR', message: String(e) });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    requests,
    workspace,
    runs,
    notebooks,
    cancels,
    accessTokens,
    federationPolicies: policies,
    expireAccessTokens() {
      for (const issued of accessTokens.values()) issued.expiresAt = 0;
    },
    inject(kind, { count = 1, when = () => true, retryAfter } = {}) {
      for (let i = 0; i < count; i++) faults.push({ kind, when, retryAfter });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function isFinal(task: ServerTask): boolean {
  return task.result_state !== undefined;
}

function stateJson(life: string, result: string | undefined, message: string) {
  return {
    life_cycle_state: life,
    ...(result ? { result_state: result } : {}),
    state_message: message,
    user_cancelled_or_timedout: result === 'CANCELED',
  };
}

/** Jobs 2.2's `status`: SKIPPED and INTERNAL_ERROR runs are TERMINATED with termination details. */
function statusJson(life: string, result: string | undefined, message: string) {
  if (!result) return { state: life === 'PENDING' ? 'PENDING' : 'RUNNING' };
  const code =
    result === 'CANCELED'
      ? 'CANCELED'
      : result === 'SUCCESS'
        ? 'SUCCESS'
        : result === 'UPSTREAM_FAILED'
          ? 'UPSTREAM_FAILED'
          : 'RUN_EXECUTION_ERROR';
  return {
    state: 'TERMINATED',
    termination_details: { code, type: code === 'SUCCESS' ? 'SUCCESS' : 'CLIENT_ERROR', message },
  };
}

function rejectCycles(tasks: ServerTask[]): void {
  const byKey = new Map(tasks.map((t) => [t.task_key, t]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (key: string): void => {
    if (done.has(key)) return;
    if (visiting.has(key))
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `The tasks' depends_on form a cycle through ${key}.`,
      );
    visiting.add(key);
    for (const dep of byKey.get(key)!.depends_on) visit(dep.task_key);
    visiting.delete(key);
    done.add(key);
  };
  for (const t of tasks) visit(t.task_key);
}

function parseBody(text: string): Record<string, unknown> {
  try {
    const body = JSON.parse(text || '{}') as unknown;
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new ApiError(400, 'MALFORMED_REQUEST', 'The request body is not a JSON object.');
}

function requireString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '')
    throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Missing required field: ${key}`);
  return value;
}

function absolutePath(path: string): void {
  if (!path.startsWith('/') || path.split('/').some((p, i) => i > 0 && (p === '' || p === '.' || p === '..')))
    throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Path (${path}) must be absolute and normalized.`);
}

function runNotFound(id: string | null): ApiError {
  return new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Run ${id ?? ''} does not exist.`);
}
