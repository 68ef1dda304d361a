// Query results kept by key (SQL text + parameters). An entry is fresh while the tables' versions are the ones
// it was read at (the "stamp") and it is younger than the TTL. When the source is out of reach, the last good
// entry is served anyway, marked stale, so the app keeps working on the data it had. The cache is bounded in
// bytes (an estimate of each entry's size), not only in entries: varied queries with large results must not
// grow the process without end.
import { isOutage } from './source.ts';

export interface CacheOptions {
  /** An entry older than this is read again (default 5 minutes). */
  ttlMs?: number;
  /** At most this many entries; the least recently used go first (default 2000). */
  maxEntries?: number;
  /** At most about this many bytes of results, by estimateBytes (default 64 MiB); a larger result is not kept. */
  maxBytes?: number;
  now?: () => number;
}

export interface Cached<T> {
  value: T;
  /** When the value was read from the source (ms since epoch). */
  fetchedAt: number;
  /** True when the source failed and this is the last good value. */
  stale: boolean;
}

interface Entry<T> {
  value: T;
  fetchedAt: number;
  stamp: string;
  bytes: number;
}

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export class QueryCache {
  private readonly entries = new Map<string, Entry<unknown>>();
  private readonly loading = new Map<string, Promise<Entry<unknown>>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  hits = 0;
  misses = 0;
  /** The estimated size of the entries held. */
  bytes = 0;

  constructor(options: CacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.maxEntries = options.maxEntries ?? 2000;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value for `key` read at `stamp`: from the cache when fresh, else from `load`. */
  async get<T>(key: string, stamp: string, load: () => Promise<T>): Promise<Cached<T>> {
    const entry = this.entries.get(key) as Entry<T> | undefined;
    if (entry && entry.stamp === stamp && this.now() - entry.fetchedAt < this.ttlMs) {
      this.hits += 1;
      this.touch(key, entry);
      return { value: entry.value, fetchedAt: entry.fetchedAt, stale: false };
    }
    this.misses += 1;
    const loadKey = `${stamp}\u0000${key}`;
    // Concurrent requests for the same result share one query.
    let pending = this.loading.get(loadKey) as Promise<Entry<T>> | undefined;
    if (!pending) {
      pending = load().then((value) => ({
        value,
        fetchedAt: this.now(),
        stamp,
        bytes: estimateBytes(value),
      }));
      this.loading.set(loadKey, pending);
      void pending.then(
        (loaded) => {
          this.loading.delete(loadKey);
          this.touch(key, loaded);
        },
        () => this.loading.delete(loadKey),
      );
    }
    try {
      const loaded = await pending;
      return { value: loaded.value, fetchedAt: loaded.fetchedAt, stale: false };
    } catch (error) {
      if (entry && isOutage(error)) return { value: entry.value, fetchedAt: entry.fetchedAt, stale: true };
      throw error;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private touch(key: string, entry: Entry<unknown>): void {
    this.remove(key);
    if (entry.bytes > this.maxBytes) return;
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes)
      this.remove(this.entries.keys().next().value as string);
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}

/**
 * About how much memory a value takes in V8: 16 bytes per object or array header and slot, strings at two bytes
 * a character. An estimate that errs high (a short string or a small integer may take less).
 */
export function estimateBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 8;
  if (typeof value === 'number' || typeof value === 'bigint') return 16;
  if (typeof value === 'string') return 16 + 2 * value.length;
  if (value instanceof Date) return 48;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + 8 + estimateBytes(v), 32);
  if (typeof value === 'object')
    return Object.entries(value).reduce((n, [k, v]) => n + 8 + 2 * k.length + estimateBytes(v), 32);
  return 16;
}
