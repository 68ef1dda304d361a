import { describe, expect, it } from 'vitest';
import { backoffDelay, retryDelay, serverRetryDelay } from '../../src/util/backoff.ts';

describe('serverRetryDelay', () => {
  it('reads Retry-After as seconds or an HTTP date, then Ratelimit-Reset as seconds or a Unix time', () => {
    const now = Date.parse('2026-11-24T06:00:00Z');
    expect(serverRetryDelay(new Headers({ 'retry-after': '3', 'ratelimit-reset': '50' }))).toBe(3000);
    expect(serverRetryDelay(new Headers({ 'retry-after': 'Tue, 24 Nov 2026 06:00:07 GMT' }), now)).toBe(7000);
    expect(serverRetryDelay(new Headers({ 'retry-after': 'Tue, 24 Nov 2026 05:59:00 GMT' }), now)).toBe(0);
    expect(serverRetryDelay(new Headers({ 'ratelimit-reset': '12' }))).toBe(12_000);
    expect(serverRetryDelay(new Headers({ 'ratelimit-reset': '1700000030' }), 1_700_000_000_000)).toBe(
      30_000,
    );
    expect(
      serverRetryDelay(new Headers({ 'retry-after': 'later', 'ratelimit-reset': 'soon' })),
    ).toBeUndefined();
    expect(serverRetryDelay(new Headers())).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('grows by the multiplier up to the cap, with half of each step random', () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 3 };
    const steps = [100, 300, 900, 1000, 1000];
    steps.forEach((step, i) => {
      for (let k = 0; k < 50; k++) {
        const delay = backoffDelay(i + 1, policy);
        expect(delay).toBeGreaterThanOrEqual(step / 2);
        expect(delay).toBeLessThanOrEqual(step);
      }
    });
    // Doubling when no multiplier is given.
    expect(backoffDelay(4, { initialDelayMs: 8, maxDelayMs: 1e6 })).toBeGreaterThanOrEqual(32);
  });
});

describe('retryDelay and GitHub’s rate-limit header', () => {
  it('reads X-Ratelimit-Reset as Ratelimit-Reset, and cuts a server’s ask to the policy’s limit', () => {
    expect(serverRetryDelay(new Headers({ 'x-ratelimit-reset': '1700000030' }), 1_700_000_000_000)).toBe(
      30_000,
    );
    const policy = { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000 };
    expect(retryDelay(1, policy, 5000)).toBe(1000);
    expect(retryDelay(1, { ...policy, maxServerDelayMs: 60_000 }, 5000)).toBe(5000);
    expect(retryDelay(3, { ...policy, jitter: false })).toBe(400);
  });
});
