// How long a client waits before retrying a request: the shared policy of the GCS, Databricks and Render clients.

export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Growth per attempt (2: each step doubles). */
  multiplier?: number;
}

/**
 * Exponential backoff with "equal jitter": half of the step fixed, half random, so that clients that failed together
 * do not come back together. `attempt` counts from 1.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const step = Math.min(policy.maxDelayMs, policy.initialDelayMs * (policy.multiplier ?? 2) ** (attempt - 1));
  return Math.round(step / 2 + Math.random() * (step / 2));
}

/**
 * How long a throttled server asks to wait: Retry-After (seconds, or an HTTP date), else Ratelimit-Reset (seconds
 * until the window resets or, when it is that large, a Unix time in seconds). Undefined when it says nothing usable.
 */
export function serverRetryDelay(headers: Headers, now = Date.now()): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.round(Number(retryAfter) * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = headers.get('ratelimit-reset')?.trim();
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
