// The one HTTP client of the REST APIs the pipeline calls (Databricks and its token endpoint, Render, GitHub through
// Octokit): fetch with a timeout per attempt and the project's one retry policy (src/util/backoff.ts).
//
// Which failures are repeated is written in ./failure.ts: only those that may pass, of requests that are idempotent,
// guarded by the caller, or surely not acted on. The wait is what the server asks for (Retry-After,
// Ratelimit-Reset; capped by the policy), else exponential backoff with jitter.
//
// Each retry is logged through the caller's logger, in the caller's words (`toError`, `retryMessage`). The client
// never puts headers (Authorization), request bodies (credentials) or query strings in a message, and redacts
// every registered secret from what it logs.
import { setTimeout as delay } from 'node:timers/promises';
import {
  noResponseCause,
  retryCountNote,
  retrying,
  serverRetryDelay,
  type RetryNotice,
  type RetryPolicy,
} from '../util/backoff.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { redact, registerSecret } from '../util/secrets.ts';
import {
  HttpError,
  repeatVerdict,
  tooManyRequests,
  type HttpAnswer,
  type HttpFailure,
  type RepeatVerdict,
} from './failure.ts';

export const DEFAULT_HTTP_RETRY: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  maxServerDelayMs: 60_000,
};

export interface HttpClientOptions {
  /** What relative request URLs are resolved against. */
  baseUrl?: string;
  /** Headers of every attempt, asked for anew each time (a renewed token goes out with the next attempt). */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  retry?: Partial<RetryPolicy>;
  /** Each attempt must be answered (and its answer read) within this, or counts as no answer (default 60 s). */
  timeoutMs?: number;
  log?: Logger;
  /** A failure in the caller's words: logged before each retry, thrown by `request` and `json` at the end. */
  toError?: (failure: HttpFailure) => Error;
  /** The line logged before a retry (default: "<error message>; retry 1/4 in 800 ms"). */
  retryMessage?: (error: Error, notice: RetryNotice) => string;
  /** Whether an answer says the server did not act on the request, so that even a POST may be repeated (default: 429). */
  refused?: (answer: HttpAnswer) => boolean;
  /** How the client waits between attempts (tests record the waits instead). */
  sleep?: (ms: number) => Promise<void>;
  /** The clock Retry-After dates are read against. */
  now?: () => number;
}

export interface HttpRequest {
  method: string;
  /** An absolute URL, or one relative to the client's baseUrl. */
  url: string;
  headers?: Record<string, string>;
  /** Sent again as it is with each attempt. */
  body?: string | Uint8Array<ArrayBuffer> | URLSearchParams;
  /** Safe to repeat although the method is not idempotent (idempotent by what it does, or an idempotency token). */
  guarded?: boolean;
  /** How messages show the URL (default: origin and path, without the query string). */
  shown?: string;
  /** Ends the request and its retries; what it aborts is thrown as it is. */
  signal?: AbortSignal;
}

/** One attempt that failed: what the caller is told, and whether it is tried again. */
class AttemptFailure extends Error {
  readonly failure: HttpFailure;
  readonly verdict: RepeatVerdict;
  /** What fetch threw, or the answer (for `fetch`, unread: its text is in `failure`). */
  readonly original: { error?: unknown; response?: Response };
  constructor(failure: HttpFailure, verdict: RepeatVerdict, original: AttemptFailure['original']) {
    super(failure.cause ?? `HTTP ${failure.status}`);
    this.failure = failure;
    this.verdict = verdict;
    this.original = original;
  }
}

export class HttpClient {
  readonly policy: RetryPolicy;
  private readonly options: HttpClientOptions;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(options: HttpClientOptions = {}) {
    this.options = options;
    this.policy = { ...DEFAULT_HTTP_RETRY, ...options.retry };
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  /** The successful (2xx) answer, read; a failure after the retries the policy allows is thrown as `toError` makes it. */
  async request(request: HttpRequest): Promise<HttpAnswer> {
    const response = await this.exchange(request, true).catch((e: unknown) => {
      throw e instanceof AttemptFailure ? this.toError(e.failure) : e;
    });
    return response.answer!;
  }

  /** `request`, parsed as JSON (an empty answer is `{}`); an answer that is not JSON is a failure. */
  async json<T>(request: HttpRequest): Promise<T> {
    const answer = await this.request(request);
    if (!answer.text) return {} as T;
    try {
      return JSON.parse(answer.text) as T;
    } catch {
      throw this.toError({
        method: request.method,
        shown: this.shown(request),
        status: answer.status,
        answer,
        problem: `expected a JSON answer, found ${JSON.stringify(answer.text.slice(0, 100))}`,
        notRepeated: false,
      });
    }
  }

  /**
   * A fetch with this client's retries, for libraries that take one (Octokit's `request.fetch`): the last answer,
   * whatever its status, is returned for the library to read; when none came, what fetch threw is thrown.
   */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const incoming = new Request(input, init);
    const headers: Record<string, string> = {};
    incoming.headers.forEach((value, name) => (headers[name] = value));
    const request: HttpRequest = {
      method: incoming.method,
      url: incoming.url,
      headers,
      body: incoming.body ? new Uint8Array(await incoming.arrayBuffer()) : undefined,
      signal: (input instanceof Request ? input.signal : init?.signal) ?? undefined,
    };
    const exchange = await this.exchange(request, false).catch((e: unknown) => {
      if (!(e instanceof AttemptFailure)) throw e;
      if (e.original.response) return { response: e.original.response };
      throw e.original.error;
    });
    return exchange.response;
  };

  private exchange(
    request: HttpRequest,
    read: boolean,
  ): Promise<{ response: Response; answer?: HttpAnswer }> {
    const url = new URL(request.url, this.options.baseUrl).toString();
    return retrying(() => this.once(request, url, read), {
      policy: this.policy,
      retryable: (e) => e instanceof AttemptFailure && e.verdict.repeat,
      serverDelayMs: (e) => {
        const answer = e instanceof AttemptFailure ? e.failure.answer : undefined;
        return answer && serverRetryDelay(answer.headers, this.now());
      },
      onRetry: (notice) => {
        const attempt = notice.error as AttemptFailure;
        void attempt.original.response?.body?.cancel().catch(() => {});
        const error = this.toError(attempt.failure);
        const message =
          this.options.retryMessage?.(error, notice) ?? `${error.message}; ${retryCountNote(notice)}`;
        this.log.warn(redact(message));
      },
      sleep: (ms) =>
        this.options.sleep ? this.options.sleep(ms) : delay(ms, undefined, { signal: request.signal }),
      now: this.now,
    });
  }

  /** One attempt. `read`: read a successful answer too (within the attempt's time). */
  private async once(
    request: HttpRequest,
    url: string,
    read: boolean,
  ): Promise<{ response: Response; answer?: HttpAnswer }> {
    const headers = { ...(await this.options.headers?.()), ...request.headers };
    registerCredentials(headers);
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
    try {
      const response = await fetch(url, { method: request.method, headers, body: request.body, signal });
      if (response.ok && !read) return { response };
      // A failure's text is read for messages; `fetch` returns the answer itself, unread, when it is the last.
      const answer = await readAnswer(response.ok || read ? response : response.clone());
      if (response.ok) return { response, answer };
      const refused = (this.options.refused ?? tooManyRequests)(answer);
      const verdict = repeatVerdict(request, { status: response.status, refused });
      throw this.attemptFailure(request, { status: response.status, answer }, verdict, { response });
    } catch (error) {
      if (error instanceof AttemptFailure || request.signal?.aborted) throw error;
      // No answer, or one cut off while it was read: the request may have reached the server.
      const errorCode = (error as { cause?: { code?: unknown } }).cause?.code;
      const verdict = repeatVerdict(request, { status: 0, errorCode: String(errorCode ?? '') });
      throw this.attemptFailure(request, { status: 0, cause: noResponseCause(error) }, verdict, { error });
    }
  }

  private attemptFailure(
    request: HttpRequest,
    outcome: Pick<HttpFailure, 'status' | 'answer' | 'cause'>,
    verdict: RepeatVerdict,
    original: AttemptFailure['original'],
  ): AttemptFailure {
    const failure = { method: request.method, shown: this.shown(request), ...outcome };
    return new AttemptFailure({ ...failure, notRepeated: verdict.notRepeated }, verdict, original);
  }

  private shown(request: HttpRequest): string {
    if (request.shown !== undefined) return request.shown;
    const url = new URL(request.url, this.options.baseUrl);
    return `${url.origin}${url.pathname}`;
  }

  /** The caller's error, with every registered secret (the credentials sent among them) taken out. */
  private toError(failure: HttpFailure): Error {
    const error = this.options.toError?.(failure) ?? new HttpError(failure);
    error.message = redact(error.message);
    if (error.stack) error.stack = redact(error.stack);
    return error;
  }
}

/**
 * The credentials a request carries are registered as secrets, so that a server echoing them (or a library's
 * error quoting the request) cannot put them in a log or an error.
 */
function registerCredentials(headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!/^(proxy-)?authorization$/i.test(name)) continue;
    registerSecret(value);
    registerSecret(value.slice(value.indexOf(' ') + 1));
  }
}

async function readAnswer(response: Response): Promise<HttpAnswer> {
  const { status, statusText, headers } = response;
  return { status, statusText, headers, text: await response.text() };
}
