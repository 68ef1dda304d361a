// The project's one retry policy: how often to try again and how long to wait, for the HTTP clients (src/http/),
// the GCS bucket and database connections alike; and the one loop that applies it.
import { setTimeout as delay } from 'node:timers/promises';

export interface RetryPolicy {
  /** Attempts in all, the first included; where work reports progress, attempts in a row without it. */
  maxAttempts: number;
  /** The first wait; each next one is `multiplier` times longer, up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Growth per attempt (default 2: each step doubles). */
  multiplier?: number;
  /** Half of each wait random (default true), so that clients that failed together do not come back together. */
  jitter?: boolean;
  /** The longest wait a server may ask for (Retry-After, Ratelimit-Reset); longer is cut to this (default maxDelayMs). */
  maxServerDelayMs?: number;
  /** Give up once this much time has passed without progress (default: no limit). */
  totalTimeoutMs?: number;
}

/**
 * Exponential backoff with "equal jitter": half of the step fixed, half random (unless jitter is off). `attempt`
 * counts from 1.
 */
export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs' | 'multiplier' | 'jitter'>,
): number {
  const step = Math.min(policy.maxDelayMs, policy.initialDelayMs * (policy.multiplier ?? 2) ** (attempt - 1));
  if (policy.jitter === false) return Math.round(step);
  return Math.round(step / 2 + Math.random() * (step / 2));
}

/** The wait before the next attempt: what the server asked for (capped), else the backoff step. */
export function retryDelay(failures: number, policy: RetryPolicy, serverDelayMs?: number): number {
  if (serverDelayMs === undefined) return backoffDelay(failures, policy);
  return Math.min(serverDelayMs, policy.maxServerDelayMs ?? policy.maxDelayMs);
}

/**
 * How long a throttled server asks to wait: Retry-After (seconds, or an HTTP date), else Ratelimit-Reset (seconds
 * until the window resets or, when it is that large, a Unix time in seconds; GitHub's X-Ratelimit-Reset is one).
 * Undefined when it says nothing usable.
 */
export function serverRetryDelay(headers: Headers, now = Date.now()): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.round(Number(retryAfter) * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = (headers.get('ratelimit-reset') ?? headers.get('x-ratelimit-reset'))?.trim();
  if (!reset || !/^\d+(\.\d+)?$/.test(reset)) return undefined;
  const seconds = Number(reset);
  return seconds > 1e9 ? Math.max(0, seconds * 1000 - now) : Math.round(seconds * 1000);
}

/** Why a request got no response (a refused or reset connection, a DNS failure, a timeout), for messages. */
export function noResponseCause(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.name === 'TimeoutError') return 'the request timed out';
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? e.message;
}

/** A retry about to happen, for the caller to log. */
export interface RetryNotice {
  error: unknown;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** Failures in a row: the attempt, unless the work reported progress. */
  failures: number;
  maxAttempts: number;
  delayMs: number;
  /** The wait is the one the server asked for. */
  serverAsked: boolean;
}

export interface RetryRules {
  policy: RetryPolicy;
  /** Whether this failure may pass and the work may be tried again. */
  retryable(error: unknown): boolean;
  /** How long the server asked to wait after this failure, if it did. */
  serverDelayMs?(error: unknown): number | undefined;
  /** Told before each wait (e.g. to log the retry). */
  onRetry?(notice: RetryNotice): void;
  sleep?(ms: number): Promise<void>;
  now?(): number;
}

/**
 * Runs `work` until it succeeds, the failure is not retryable, or the policy's budget is spent; then throws the
 * last failure as it is. Work that reports progress (a resumed upload that got further) starts the budget afresh,
 * so a long job is not failed by a few faults spread over its length.
 */
export async function retrying<T>(
  work: (attempt: number, progressed: () => void) => Promise<T>,
  rules: RetryRules,
): Promise<T> {
  const { policy } = rules;
  const now = rules.now ?? Date.now;
  const sleep = rules.sleep ?? ((ms: number) => delay(ms));
  let failures = 0;
  let since = now();
  const progressed = () => {
    failures = 0;
    since = now();
  };
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt, progressed);
    } catch (error) {
      failures++;
      if (!rules.retryable(error) || failures >= policy.maxAttempts) throw error;
      const asked = rules.serverDelayMs?.(error);
      const delayMs = retryDelay(failures, policy, asked);
      if (now() - since + delayMs > (policy.totalTimeoutMs ?? Infinity)) throw error;
      const { maxAttempts } = policy;
      rules.onRetry?.({ error, attempt, failures, maxAttempts, delayMs, serverAsked: asked !== undefined });
      await sleep(delayMs);
    }
  }
}

/** "retry 2/5 in 800 ms": retries so far out of those allowed. */
export function retryCountNote(notice: RetryNotice): string {
  return `retry ${notice.failures}/${notice.maxAttempts - 1} in ${notice.delayMs} ms`;
}

/** "retrying in 800 ms (attempt 3 of 6)": the attempt to come; "(Retry-After)" when the server set the wait. */
export function nextAttemptNote(notice: RetryNotice): string {
  const asked = notice.serverAsked ? ' (Retry-After)' : '';
  return `retrying in ${notice.delayMs} ms${asked} (attempt ${notice.failures + 1} of ${notice.maxAttempts})`;
}
