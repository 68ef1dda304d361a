// A small client for Render's REST API (https://api.render.com/v1): trigger a deploy, follow it to a terminal
// status, read the service's URL; and the deploy hook, for users who have only that. Requests are retried here,
// with exponential backoff and jitter, on 429 (waiting as long as Ratelimit-Reset or Retry-After says), 408,
// 5xx and connection errors. Errors name the method, the path and the status, and never contain the API key or
// the deploy hook's key.
import { setTimeout as delay } from 'node:timers/promises';
import { silentLogger, type Logger } from '../util/log.ts';
import { backoffDelay, serverRetryDelay, noResponseCause } from '../util/backoff.ts';

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

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** The longest wait a 429 may ask for; a longer one is cut to this. */
  maxRateLimitWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  maxRateLimitWaitMs: 60_000,
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
  private readonly retry: RetryPolicy;
  private readonly requestTimeoutMs: number;
  private readonly log: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(options: RenderClientOptions = {}) {
    this.apiKey = options.apiKey;
    this.baseUrl = (options.baseUrl ?? RENDER_API).replace(/\/+$/, '');
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.log = options.log ?? silentLogger;
    this.sleep = options.sleep ?? ((ms) => delay(ms));
    this.now = options.now ?? Date.now;
  }

  triggerDeploy(
    serviceId: string,
    options: { commitId?: string; clearCache?: boolean } = {},
  ): Promise<RenderDeploy> {
    const body: Record<string, string> = { clearCache: options.clearCache ? 'clear' : 'do_not_clear' };
    if (options.commitId) body.commitId = options.commitId;
    return this.request<RenderDeploy>('POST', `/services/${enc(serviceId)}/deploys`, body, false);
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
    const body = await this.send<{ deploy?: { id?: string } }>('POST', url.toString(), shown, undefined, {
      withKey: false,
      repeatable: false,
    });
    return { deployId: body?.deploy?.id, serviceId: /\/deploy\/(srv-[^/?]+)/.exec(url.pathname)?.[1] };
  }

  /** `repeatable`: false for a request that starts a deploy, which a blind repeat could start twice. */
  private request<T>(method: string, path: string, body?: unknown, repeatable = true): Promise<T> {
    return this.send<T>(method, `${this.baseUrl}${path}`, `/v1${path}`, body, { withKey: true, repeatable });
  }

  private async send<T>(
    method: string,
    url: string,
    shown: string,
    body: unknown,
    { withKey, repeatable }: { withKey: boolean; repeatable: boolean },
  ): Promise<T> {
    if (withKey && !this.apiKey)
      throw new Error(`Render API ${method} ${shown}: no API key (give one, or use a deploy hook)`);
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(withKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.requestTimeoutMs),
        });
      } catch (e) {
        // No response came: refused, reset, DNS, timed out. Only a refused connection surely sent nothing; after
        // the others a request that starts a deploy may have started it, so it is not repeated.
        const cause = noResponseCause(e);
        const error = new RenderApiError(method, shown, 0, this.scrub(cause));
        if (attempt >= this.retry.maxAttempts || (!repeatable && cause !== 'ECONNREFUSED'))
          throw notRepeated(error, repeatable);
        await this.pause(attempt, error.message);
        continue;
      }
      if (response.ok) return this.parse<T>(method, shown, response, withKey);
      const error = new RenderApiError(method, shown, response.status, this.scrub(await detail(response)));
      // A 429 was refused before any work; any other failure of a deploy trigger may have started the deploy.
      const retryable = isTransientStatus(response.status) && (repeatable || response.status === 429);
      if (!retryable || attempt >= this.retry.maxAttempts)
        throw isTransientStatus(response.status) ? notRepeated(error, repeatable) : error;
      await this.pause(attempt, error.message, serverRetryDelay(response.headers, this.now()));
    }
  }

  /** The API answers JSON; a deploy hook's answer is only read for a deploy id, so anything else is no id. */
  private async parse<T>(method: string, shown: string, response: Response, strict: boolean): Promise<T> {
    const text = await response.text();
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch {
      if (!strict) return undefined as T;
      throw new RenderApiError(
        method,
        shown,
        response.status,
        `expected a JSON answer, found ${JSON.stringify(this.scrub(text.slice(0, 100)))}`,
      );
    }
  }

  private async pause(attempt: number, message: string, askedMs?: number): Promise<void> {
    const ms =
      askedMs !== undefined
        ? Math.min(askedMs, this.retry.maxRateLimitWaitMs)
        : backoffDelay(attempt, this.retry);
    this.log.warn(`${message}; retry ${attempt}/${this.retry.maxAttempts - 1} in ${ms} ms`);
    await this.sleep(ms);
  }

  /** A server may echo what it was sent; the key must not travel on in an error. */
  private scrub(text: string): string {
    const out = this.apiKey ? text.split(this.apiKey).join('***') : text;
    return redactHookUrl(out);
  }
}

export function isTransientStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

async function detail(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  let message = text.slice(0, 300);
  try {
    const json = JSON.parse(text) as { message?: unknown };
    if (typeof json.message === 'string') message = json.message;
  } catch {
    // Not JSON: the text itself, shortened.
  }
  return `${response.statusText || statusText(response.status)}${message ? `: ${message}` : ''}`;
}

function statusText(status: number): string {
  return status === 401 ? 'Unauthorized' : status === 429 ? 'Too Many Requests' : '';
}

/** A deploy trigger's failure says why it was not tried again. */
function notRepeated(error: RenderApiError, repeatable: boolean): RenderApiError {
  if (!repeatable)
    error.message += " (not repeated: Render may have started the deploy; see the service's deploys)";
  return error;
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
