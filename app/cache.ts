// Query results kept by key (SQL text + parameters). An entry is fresh while the tables' versions are the ones
// it was read at (the "stamp") and it is younger than the TTL. When the source is out of reach, the last good
// entry is served anyway, marked stale, so the app keeps working on the data it had.
import { isOutage } from './source.ts';

export interface CacheOptions {
  /** An entry older than this is read again (default 5 minutes). */
  ttlMs?: number;
  /** At most this many entries; the least recently used go first (default 2000). */
  maxEntries?: number;
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
}

export class QueryCache {
  private readonly entries = new Map<string, Entry<unknown>>();
  private readonly loading = new Map<string, Promise<Entry<unknown>>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  hits = 0;
  misses = 0;

  constructor(options: CacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.maxEntries = options.maxEntries ?? 2000;
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
      pending = load().then((value) => ({ value, fetchedAt: this.now(), stamp }));
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
  }

  private touch(key: string, entry: Entry<unknown>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
