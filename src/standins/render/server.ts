// A Render REST API server for tests, written from Render's public API reference (api-docs.render.com):
// trigger a deploy (POST /v1/services/{serviceId}/deploys with clearCache and commitId), retrieve a deploy
// (GET /v1/services/{serviceId}/deploys/{deployId}), retrieve a service (GET /v1/services/{serviceId}, its URL in
// serviceDetails.url), and a service's deploy hook (GET or POST /deploy/{serviceId}?key=…). Requests need
// `Authorization: Bearer <key>` (401 with a JSON error otherwise); errors are `{ id, message }` as Render sends
// them. Each deploy advances one status per retrieval, to live or to the failure its service is set to. Faults
// (429 with Ratelimit-* headers, 5xx, connection resets) are switchable for the next N requests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../http-body.ts';

/**
 * How a service's deploys end: live, one of Render's failures, never (for timeouts), or replaced: live and then
 * deactivated by a newer deploy between two polls.
 */
export type DeployOutcome =
  'live' | 'build_failed' | 'update_failed' | 'pre_deploy_failed' | 'canceled' | 'never' | 'replaced';

export interface FakeService {
  id: string;
  name: string;
  url: string;
  /** The secret in the deploy hook's `key` parameter. */
  hookKey: string;
  outcome: DeployOutcome;
}

export interface FakeDeploy {
  id: string;
  serviceId: string;
  status: string;
  trigger: 'api' | 'deploy_hook';
  commit?: { id: string };
  clearCache: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** The statuses still to come, one per retrieval. */
  next: string[];
}

/** `hang`: the request is read and never answered (until the client gives up). */
export type RenderFaultKind = '429' | '500' | '502' | '503' | 'reset' | 'hang';

export interface RenderRequestRecord {
  method: string;
  path: string;
  /** The query string as sent (it holds the hook's key: tests may check it, never print it). */
  search: string;
  authorization?: string;
  body?: unknown;
  /** 0 when the connection was reset instead of answered. */
  status: number;
}

export interface RenderServerOptions {
  apiKey?: string;
  services?: Partial<FakeService>[];
  /** Seconds the 429 fault puts in Ratelimit-Reset. */
  rateLimitResetSeconds?: number;
}

export interface RenderServer {
  /** The API base, as a client's baseUrl: http://127.0.0.1:port/v1 */
  apiUrl: string;
  /** The origin, for deploy hook URLs. */
  origin: string;
  apiKey: string;
  services: Map<string, FakeService>;
  deploys: Map<string, FakeDeploy>;
  requests: RenderRequestRecord[];
  /** The deploy hook URL of a service (a secret). */
  hookUrl(serviceId: string): string;
  /** Fails the next `count` requests that match `when` with `kind`. */
  inject(kind: RenderFaultKind, count?: number, when?: (method: string, path: string) => boolean): void;
  close(): Promise<void>;
}

const PROGRESS: Record<DeployOutcome, string[]> = {
  live: ['build_in_progress', 'update_in_progress', 'live'],
  build_failed: ['build_in_progress', 'build_failed'],
  update_failed: ['build_in_progress', 'update_in_progress', 'update_failed'],
  pre_deploy_failed: ['build_in_progress', 'pre_deploy_in_progress', 'pre_deploy_failed'],
  canceled: ['build_in_progress', 'canceled'],
  replaced: ['build_in_progress', 'update_in_progress', 'deactivated'],
  // Builds for ever: a deploy that outlasts any timeout.
  never: [],
};
const FINISHED = new Set([
  'live',
  'build_failed',
  'update_failed',
  'pre_deploy_failed',
  'canceled',
  'deactivated',
]);

class HttpError extends Error {
  readonly status: number;
  readonly id: string;
  readonly headers: Record<string, string>;
  constructor(status: number, id: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.id = id;
    this.headers = headers;
  }
}

export async function startRenderServer(options: RenderServerOptions = {}): Promise<RenderServer> {
  const apiKey = options.apiKey ?? 'rnd_testKey0123456789abcdef';
  const state = new RenderState(servicesOf(options.services ?? [{}]));
  const requests: RenderRequestRecord[] = [];
  const faults: { kind: RenderFaultKind; when: (method: string, path: string) => boolean }[] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const record: RenderRequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      search: url.search,
      authorization: req.headers.authorization,
      status: 0,
    };
    requests.push(record);
    readBody(req)
      .then((body) => body.toString('utf8'))
      .then((text) => {
        const index = faults.findIndex((f) => f.when(record.method, record.path));
        const fault = index >= 0 ? faults.splice(index, 1)[0]!.kind : undefined;
        if (fault === 'reset') return req.socket.resetAndDestroy();
        if (fault === 'hang') return;
        if (fault) throw faultError(fault, options.rateLimitResetSeconds ?? 0);
        if (text) record.body = parseJson(text);
        return reply(res, record, route(state, apiKey, record, url));
      })
      .catch((e: unknown) => {
        const error =
          e instanceof HttpError
            ? e
            : new HttpError(500, 'internal', e instanceof Error ? e.message : String(e));
        reply(
          res,
          record,
          { status: error.status, body: { id: error.id, message: error.message } },
          error.headers,
        );
      });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    apiUrl: `${origin}/v1`,
    origin,
    apiKey,
    services: state.services,
    deploys: state.deploys,
    requests,
    hookUrl: (serviceId) => `${origin}/deploy/${serviceId}?key=${state.services.get(serviceId)!.hookKey}`,
    inject: (kind, count = 1, when = () => true) => {
      for (let i = 0; i < count; i++) faults.push({ kind, when });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The services a test asked for, each field it left out given a value of its own. */
function servicesOf(wanted: Partial<FakeService>[]): Map<string, FakeService> {
  const services = new Map<string, FakeService>();
  for (const [i, s] of wanted.entries()) {
    const id = s.id ?? `srv-test${String(i).padStart(16, '0')}`;
    services.set(id, {
      id,
      name: s.name ?? `service-${i}`,
      url: s.url ?? `https://service-${i}.onrender.com`,
      hookKey: s.hookKey ?? `hookKey${i}SecretValue`,
      outcome: s.outcome ?? 'live',
    });
  }
  return services;
}

/** The error an injected fault answers with (a 429 carries Render's rate-limit headers). */
function faultError(fault: Exclude<RenderFaultKind, 'reset' | 'hang'>, resetSeconds: number): HttpError {
  if (fault === '429')
    return new HttpError(429, 'rate_limited', 'rate limit exceeded', {
      'Ratelimit-Limit': '10',
      'Ratelimit-Remaining': '0',
      'Ratelimit-Reset': String(resetSeconds),
    });
  return new HttpError(Number(fault), 'internal', 'internal server error');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
  }
}

/** A request's answer: the deploy hook (its key is the credential), or the REST API (a bearer key). */
function route(
  state: RenderState,
  apiKey: string,
  record: RenderRequestRecord,
  url: URL,
): { status: number; body: unknown } {
  const { method, path } = record;
  const hook = /^\/deploy\/([^/]+)$/.exec(path);
  if (hook) {
    if (method !== 'GET' && method !== 'POST')
      throw new HttpError(405, 'method_not_allowed', 'use GET or POST');
    const service = state.services.get(decodeURIComponent(hook[1]!));
    // A wrong key looks like no hook at all: the URL is the credential.
    if (!service || url.searchParams.get('key') !== service.hookKey)
      throw new HttpError(404, 'not_found', 'not found');
    const deploy = state.createDeploy(service, 'deploy_hook', 'do_not_clear');
    return { status: 200, body: { deploy: { id: deploy.id } } };
  }
  if (!path.startsWith('/v1/')) throw new HttpError(404, 'not_found', 'not found');
  if (record.authorization !== `Bearer ${apiKey}`) throw new HttpError(401, 'unauthorized', 'unauthorized');
  const parts = path.slice('/v1/'.length).split('/').map(decodeURIComponent);
  if (parts[0] !== 'services' || !parts[1]) throw new HttpError(404, 'not_found', 'not found');
  const service = state.services.get(parts[1]);
  if (!service) throw new HttpError(404, 'not_found', 'service not found');
  if (parts.length === 2 && method === 'GET') return { status: 200, body: serviceResource(service) };
  if (parts[2] === 'deploys' && parts.length === 3 && method === 'POST')
    return { status: 201, body: deployResource(triggerDeploy(state, service, record.body)) };
  if (parts[2] === 'deploys' && parts.length === 4 && method === 'GET') {
    const deploy = state.deploys.get(parts[3]!);
    if (!deploy || deploy.serviceId !== service.id) throw new HttpError(404, 'not_found', 'deploy not found');
    state.advance(deploy);
    return { status: 200, body: deployResource(deploy) };
  }
  throw new HttpError(404, 'not_found', 'not found');
}

/** POST /v1/services/{id}/deploys: its body checked as Render checks it. */
function triggerDeploy(state: RenderState, service: FakeService, body: unknown): FakeDeploy {
  const { clearCache = 'do_not_clear', commitId } = (body ?? {}) as {
    clearCache?: unknown;
    commitId?: unknown;
  };
  if (clearCache !== 'clear' && clearCache !== 'do_not_clear')
    throw new HttpError(400, 'invalid', 'clearCache must be one of clear, do_not_clear');
  if (commitId !== undefined && (typeof commitId !== 'string' || !/^[0-9a-f]{7,40}$/.test(commitId)))
    throw new HttpError(400, 'invalid', 'commitId must be a git commit SHA');
  return state.createDeploy(service, 'api', clearCache, commitId);
}

/** The services and their deploys, each deploy advancing one status per retrieval. */
class RenderState {
  readonly deploys = new Map<string, FakeDeploy>();
  private deploySeq = 0;

  readonly services: Map<string, FakeService>;

  constructor(services: Map<string, FakeService>) {
    this.services = services;
  }

  createDeploy(service: FakeService, trigger: FakeDeploy['trigger'], clearCache: string, commitId?: string) {
    const now = new Date().toISOString();
    // A newer deploy cancels one still in progress, as on Render.
    for (const d of this.deploys.values())
      if (d.serviceId === service.id && !FINISHED.has(d.status)) {
        d.status = 'canceled';
        d.next = [];
      }
    const deploy: FakeDeploy = {
      id: `dep-${String(++this.deploySeq).padStart(20, '0')}`,
      serviceId: service.id,
      status: 'created',
      trigger,
      clearCache,
      ...(commitId ? { commit: { id: commitId } } : {}),
      createdAt: now,
      updatedAt: now,
      next: [...PROGRESS[service.outcome]],
    };
    this.deploys.set(deploy.id, deploy);
    return deploy;
  }

  advance(deploy: FakeDeploy): void {
    const status = deploy.next.shift();
    if (!status) return;
    deploy.status = status;
    deploy.updatedAt = new Date().toISOString();
    if (FINISHED.has(status)) deploy.finishedAt = deploy.updatedAt;
    // The deploy that was live before is deactivated when a newer one goes live.
    if (status === 'live')
      for (const d of this.deploys.values())
        if (d !== deploy && d.serviceId === deploy.serviceId && d.status === 'live') d.status = 'deactivated';
  }
}

function serviceResource(service: FakeService) {
  return {
    id: service.id,
    name: service.name,
    type: 'web_service',
    autoDeploy: 'no',
    branch: 'main',
    dashboardUrl: `https://dashboard.render.com/web/${service.id}`,
    suspended: 'not_suspended',
    serviceDetails: { runtime: 'node', plan: 'starter', url: service.url },
  };
}

function deployResource(deploy: FakeDeploy) {
  const { next: _next, serviceId: _serviceId, clearCache: _clearCache, ...resource } = deploy;
  return resource;
}

function reply(
  res: http.ServerResponse,
  record: RenderRequestRecord,
  { status, body }: { status: number; body: unknown },
  headers: Record<string, string> = {},
): void {
  record.status = status;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}
