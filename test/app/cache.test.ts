// The query cache (fresh per table versions and TTL, stale on an outage, one load for concurrent requests) and
// the rewriting of `:name` markers for DuckDB.
import { describe, expect, test } from 'vitest';
import { estimateBytes, QueryCache } from '../../app/cache.ts';
import { SourceError } from '../../app/source.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDBPool, duckdbMarkers } from '../../app/sources/duckdb.ts';

describe('QueryCache', () => {
  test('reuses a value until the stamp changes or the TTL passes', async () => {
    let now = 1000;
    let loads = 0;
    const cache = new QueryCache({ ttlMs: 100, now: () => now });
    const load = async () => ++loads;
    expect((await cache.get('q', 'v1', load)).value).toBe(1);
    expect((await cache.get('q', 'v1', load)).value).toBe(1);
    expect((await cache.get('q', 'v2', load)).value).toBe(2);
    now += 100;
    expect((await cache.get('q', 'v2', load)).value).toBe(3);
    expect(cache.hits).toBe(1);
  });

  test('concurrent requests share one load', async () => {
    let loads = 0;
    const cache = new QueryCache();
    const slow = () => new Promise<number>((resolve) => setTimeout(() => resolve(++loads), 20));
    const results = await Promise.all([1, 2, 3].map(() => cache.get('q', 's', slow)));
    expect(results.map((r) => r.value)).toEqual([1, 1, 1]);
    expect(loads).toBe(1);
  });

  test('on an outage serves the last good value, marked stale; other errors are thrown', async () => {
    let now = 0;
    const cache = new QueryCache({ ttlMs: 10, now: () => now });
    await cache.get('q', 's', async () => 'good');
    now = 50;
    const stale = await cache.get('q', 's', async () => {
      throw new SourceError('unreachable', 'warehouse down');
    });
    expect(stale).toEqual({ value: 'good', fetchedAt: 0, stale: true });
    await expect(
      cache.get('q', 's', async () => {
        throw new SourceError('query', 'syntax error');
      }),
    ).rejects.toThrow('syntax error');
    await expect(
      cache.get('other', 's', async () => {
        throw new SourceError('timeout', 'slow');
      }),
    ).rejects.toThrow('slow');
  });

  test('keeps at most maxEntries, dropping the least recently used', async () => {
    const cache = new QueryCache({ maxEntries: 2 });
    await cache.get('a', 's', async () => 1);
    await cache.get('b', 's', async () => 2);
    await cache.get('a', 's', async () => 0);
    await cache.get('c', 's', async () => 3);
    expect(cache.size).toBe(2);
    expect((await cache.get('a', 's', async () => 9)).value).toBe(1);
    expect((await cache.get('b', 's', async () => 9)).value).toBe(9);
  });
});

describe('QueryCache in bytes', () => {
  /** A result of `n` rows shaped like the API's (a name, numbers, a date). */
  const rows = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => ({
      item: `item ${seed}-${i} ${'x'.repeat(i % 40)}`,
      support: i / n,
      baskets: i * seed,
      day: new Date(Date.UTC(2015, 0, 1 + (i % 365))),
    }));

  test('varied queries keep the cache under its byte bound, dropping the least recently used', async () => {
    const maxBytes = 2 * 1024 * 1024;
    const cache = new QueryCache({ maxBytes, maxEntries: 100_000 });
    for (let q = 0; q < 400; q++) {
      await cache.get(`q${q}`, 's', async () => rows(50 + (q % 7) * 100, q));
      expect(cache.bytes).toBeLessThanOrEqual(maxBytes);
    }
    expect(cache.size).toBeGreaterThan(5);
    expect(cache.size).toBeLessThan(400);
    // The newest is kept, the oldest went first.
    let loads = 0;
    await cache.get('q399', 's', async () => ++loads);
    await cache.get('q0', 's', async () => ++loads);
    expect(loads).toBe(1);
    cache.clear();
    expect(cache.bytes).toBe(0);
  });

  test('does not keep a result larger than the whole bound, but still returns it', async () => {
    const cache = new QueryCache({ maxBytes: 10_000 });
    const big = rows(1000, 1);
    expect((await cache.get('big', 's', async () => big)).value).toBe(big);
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });

  test('estimates at least what the values hold: two bytes a character, eight a number', () => {
    const result = rows(1000, 3);
    const characters = result.reduce((n, r) => n + r.item.length, 0);
    expect(estimateBytes(result)).toBeGreaterThan(2 * characters + 8 * 2 * result.length);
    expect(estimateBytes('abc')).toBeGreaterThan(estimateBytes('a'));
  });
});

describe('duckdbMarkers', () => {
  test('turns :name into $name outside strings, quoted names and comments, and keeps :: casts', () => {
    expect(duckdbMarkers('SELECT :a, x::INT, \':b\', "c:d" -- :e\nFROM t WHERE y = :f_1')).toBe(
      'SELECT $a, x::INT, \':b\', "c:d" -- :e\nFROM t WHERE y = $f_1',
    );
    expect(duckdbMarkers("WHERE s = 'it''s :x' AND t = :x")).toBe("WHERE s = 'it''s :x' AND t = $x");
  });
});

describe('DuckDBPool.close', () => {
  test('interrupts running queries, drops queued ones and waits for them before closing', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const pool = await DuckDBPool.open(instance, 1);
    // Minutes of work, unless interrupted.
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'ran',
        (e: unknown) => (e as Error).message,
      );
    const running = outcome(pool.query('SELECT count(*) FROM range(100000000000) a'));
    const queued = outcome(pool.query('SELECT 1 AS one'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await pool.close();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await running).toMatch(/interrupt/i);
    expect(await queued).toMatch(/closed before the query could run/);
    await expect(pool.query('SELECT 1')).rejects.toThrow(/closed/);
    instance.closeSync();
  });
});
