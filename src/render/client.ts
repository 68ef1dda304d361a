// A small client for Render's REST API (https://api.render.com/v1): trigger a deploy, follow it to a terminal
// status, read the service's URL; and the deploy hook, for users who have only that. Requests go through the
// project's HTTP client (src/http/), retried with exponential backoff and jitter on 429 (waiting as long as
// Ratelimit-Reset or Retry-After says), 408, 5xx and connection errors; a request that starts a deploy only after a
// 429 or a refused connection, since a blind repeat could start the deploy twice. Errors name the method, the path
// and the status, and never contain the API key or the deploy hook's key.
import { setTimeout as delay } from 'node:timers/promises';
import { HttpClient, answerMessage, isTransientStatus, type HttpFailure } from '../http/index.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import type { RetryPolicy } from '../util/backoff.ts';

export const RENDER_API = 'https://api.render.com/v1';

/**
 * Statuses after which a deploy changes no more. `deactivated` is a deploy that went live and was then replaced
 * by a newer one (between two polls, say): it succeeded. A deploy superseded before it went live is `canceled`.
 */
export const DEPLOY_SUCCEEDED = ['live', 'deactivated'] as const;
export const DEPLOY_FAILED = ['build_failed', 'update_failed', 'pre_deploy_failed', 'canceled'] as const;

export interface RenderDeploy {
  id: string;
  status: string;
  commit?: { id?: string; message?: string };
  trigger?: string;
  createdAt?: string;
  finishedAt?: string;
}

export interface RenderService {
  id: string;
  name?: string;
  dashboardUrl?: string;
  serviceDetails?: { url?: string };
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  maxServerDelayMs: 60_000,
};

export interface RenderClientOptions {
  apiKey?: string;
  /** Default: https://api.render.com/v1 (tests point it at their server). */
  baseUrl?: string;
  retry?: Partial<RetryPolicy>;
  /** How long one request may take before it counts as no response (default 30 s). */
  requestTimeoutMs?: number;
  log?: Logger;
  /** How the client waits between attempts and polls (tests record the waits instead of sleeping). */
  sleep?: (ms: number) => Promise<void>;
  /** The clock the wait's timeout is measured on (tests pair it with `sleep` as a virtual clock). */
  now?: () => number;
}

export interface WaitOptions {
  pollMs?: number;
  timeoutMs?: number;
  /** Called each time the status changes. */
  onStatus?: (deploy: RenderDeploy) => void;
  /** Ends the wait (a cancelled workflow); the deploy itself goes on on Render. */
  signal?: AbortSignal;
}

export class RenderApiError extends Error {
  override name = 'RenderApiError';
  readonly status: number;
  readonly method: string;
  readonly path: string;
  constructor(method: string, path: string, status: number, detail: string) {
    super(`Render API ${method} ${path}: ${status ? `HTTP ${status} ` : 'no response: '}${detail}`);
    this.method = method;
    this.path = path;
    this.status = status;
  }
}

/** The deploy did not finish within the timeout, or the wait was aborted. */
export class DeployTimeoutError extends Error {
  override name = 'DeployTimeoutError';
}

export function isTerminal(status: string): boolean {
  return isLive(status) || isFailed(status);
}
export function isLive(status: string): boolean {
  return (DEPLOY_SUCCEEDED as readonly string[]).includes(status);
}
export function isFailed(status: string): boolean {
  return (DEPLOY_FAILED as readonly string[]).includes(status);
}

/** The deploy hook URL with its key hidden, for messages. */
export function redactHookUrl(hookUrl: string): string {
  return hookUrl.replace(/([?&]key=)[^&#]*/gi, '$1***');
}

export class RenderClient {
  private readonly apiKey?: string;
  private readonly baseUrl: string;
  private readonly http: HttpClient;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(options: RenderClientOptions = {}) {
    this.apiKey = options.apiKey;
    this.baseUrl = (options.baseUrl ?? RENDER_API).replace(/\/+$/, '');
    this.log = options.log ?? silentLogger;
    this.sleep = options.sleep ?? ((ms) => delay(ms));
    this.now = options.now ?? Date.now;
    this.http = new HttpClient({
      retry: { ...DEFAULT_RETRY, ...options.retry },
      timeoutMs: options.requestTimeoutMs ?? 30_000,
      log: this.log,
      toError: (failure) => this.apiError(failure),
      sleep: this.sleep,
      now: this.now,
    });
  }

  triggerDeploy(
    serviceId: string,
    options: { commitId?: string; clearCache?: boolean } = {},
  ): Promise<RenderDeploy> {
    const body: Record<string, string> = { clearCache: options.clearCache ? 'clear' : 'do_not_clear' };
    if (options.commitId) body.commitId = options.commitId;
    return this.request<RenderDeploy>('POST', `/services/${enc(serviceId)}/deploys`, body);
  }

  getDeploy(serviceId: string, deployId: string): Promise<RenderDeploy> {
    return this.request<RenderDeploy>('GET', `/services/${enc(serviceId)}/deploys/${enc(deployId)}`);
  }

  getService(serviceId: string): Promise<RenderService> {
    return this.request<RenderService>('GET', `/services/${enc(serviceId)}`);
  }

  /**
   * Polls the deploy until its status is terminal and returns it (live or failed: the caller decides). A poll
   * that still fails after its retries is logged and the next poll tried, until the timeout; an error that will
   * not pass (401, 403, 404) ends the wait at once.
   */
  async waitForDeploy(serviceId: string, deployId: string, options: WaitOptions = {}): Promise<RenderDeploy> {
    const pollMs = options.pollMs ?? 10_000;
    const timeoutMs = options.timeoutMs ?? 15 * 60_000;
    const deadline = this.now() + timeoutMs;
    let last: RenderDeploy | undefined;
    for (;;) {
      if (options.signal?.aborted)
        throw new DeployTimeoutError(
          `Render deploy ${deployId} of ${serviceId}: the wait was aborted (last status: ${last?.status ?? 'unknown'}); it may still be running on Render`,
        );
      try {
        const deploy = await this.getDeploy(serviceId, deployId);
        if (deploy.status !== last?.status) options.onStatus?.(deploy);
        last = deploy;
        if (isTerminal(deploy.status)) return deploy;
      } catch (e) {
        if (!(e instanceof RenderApiError) || !isTransientStatus(e.status)) throw e;
        this.log.warn(`${e.message}; polling again`);
      }
      if (this.now() + pollMs > deadline)
        throw new DeployTimeoutError(
          `Render deploy ${deployId} of ${serviceId} did not finish within ${formatDuration(timeoutMs)} (last status: ${last?.status ?? 'unknown'}); it may still be running on Render`,
        );
      await sleepUnlessAborted(this.sleep, pollMs, options.signal);
    }
  }

  /**
   * Starts a deploy through the service's deploy hook (a secret URL that needs no API key). Returns the deploy
   * id when Render's answer carries one.
   */
  async triggerDeployHook(hookUrl: string): Promise<{ deployId?: string; serviceId?: string }> {
    let url: URL;
    try {
      url = new URL(hookUrl);
    } catch {
      throw new Error('Render deploy hook: expected a URL like https://api.render.com/deploy/srv-…?key=…');
    }
    const shown = redactHookUrl(`${url.origin}${url.pathname}${url.search}`);
    const answer = await this.http.request({
      method: 'POST',
      url: url.toString(),
      shown,
      headers: { accept: 'application/json' },
    });
    return { deployId: deployIdOf(answer.text), serviceId: /\/deploy\/(srv-[^/?]+)/.exec(url.pathname)?.[1] };
  }

  /** A call of the API with the key. A POST starts a deploy, and is repeated only when Render surely did not act. */
  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    if (!this.apiKey)
      throw new Error(`Render API ${method} /v1${path}: no API key (give one, or use a deploy hook)`);
    return this.http.json<T>({
      method,
      url: `${this.baseUrl}${path}`,
      shown: `/v1${path}`,
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${this.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  private apiError(failure: HttpFailure): RenderApiError {
    const { method, shown, status, answer } = failure;
    const detail =
      failure.problem ??
      (answer ? describeAnswer(answer.status, answer.statusText, answer.text) : failure.cause);
    const error = new RenderApiError(method, shown, status, this.scrub(detail ?? ''));
    if (failure.notRepeated)
      error.message += " (not repeated: Render may have started the deploy; see the service's deploys)";
    return error;
  }

  /** A server may echo what it was sent; the key must not travel on in an error. */
  private scrub(text: string): string {
    const out = this.apiKey ? text.split(this.apiKey).join('***') : text;
    return redactHookUrl(out);
  }
}

/** A deploy hook's answer is read only for a deploy id: anything else is no id. */
function deployIdOf(text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as { deploy?: { id?: unknown } } | null)?.deploy?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function describeAnswer(status: number, statusTextSent: string, text: string): string {
  const message = answerMessage(text, ['message']);
  return `${statusTextSent || statusText(status)}${message ? `: ${message}` : ''}`;
}

function statusText(status: number): string {
  return status === 401 ? 'Unauthorized' : status === 429 ? 'Too Many Requests' : '';
}

/** `sleep`, cut short when the signal aborts. */
function sleepUnlessAborted(
  sleep: (ms: number) => Promise<void>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!signal) return sleep(ms);
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    sleep(ms).then(done, done);
  });
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function formatDuration(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}
