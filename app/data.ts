// The source behind a cache: every query result is cached under the current table versions, which are checked
// again at most every `versionCheckMs`; a new version of any table makes every cached result stale. It also
// keeps what /healthz reports: whether the source answers and how old the data served is.
import type { Cached } from './cache.ts';
import { QueryCache } from './cache.ts';
import type { FreshnessThresholds } from './runs.ts';
import { DEFAULT_FRESHNESS } from './runs.ts';
import type { DataSource, SourceParam, SourceRow, TableVersion } from './source.ts';
import { isOutage, SourceError } from './source.ts';
import type { TableName } from './sql.ts';

export interface DatasetsOptions {
  /** How often to look for new table versions (default 5 s for local tables, 60 s for a warehouse). */
  versionCheckMs?: number;
  cacheTtlMs?: number;
  /** How old the served data may get before the overview warns (app.freshness in lakehouse.yml). */
  freshness?: FreshnessThresholds;
  now?: () => number;
}

/** What one API response was built from: the oldest result it used and whether any was stale. */
export class ReadContext {
  oldest: number | undefined;
  stale = false;
  note<T>(cached: Cached<T>): T {
    if (this.oldest === undefined || cached.fetchedAt < this.oldest) this.oldest = cached.fetchedAt;
    if (cached.stale) this.stale = true;
    return cached.value;
  }
}

export interface Health {
  source: DataSource['kind'];
  /** False when the last attempt to reach the source failed. */
  reachable: boolean;
  lastError: string | null;
  /** When the source last answered (ISO-8601). */
  lastSuccessAt: string | null;
  /** Seconds since the source last answered (the age of the newest data the app can serve). */
  dataAgeSeconds: number | null;
  versions: Partial<Record<TableName, TableVersion>>;
  cache: { entries: number; bytes: number; hits: number; misses: number };
}

export class Datasets {
  readonly source: DataSource;
  readonly cache: QueryCache;
  readonly freshness: FreshnessThresholds;
  readonly now: () => number;
  private readonly versionCheckMs: number;
  private versionsAt = 0;
  private currentVersions: Partial<Record<TableName, TableVersion>> = {};
  private checking: Promise<void> | undefined;
  private stamp = '';
  private reachable = true;
  private lastError: string | null = null;
  private lastSuccess: number | undefined;

  constructor(source: DataSource, options: DatasetsOptions = {}) {
    this.source = source;
    this.now = options.now ?? Date.now;
    this.freshness = options.freshness ?? DEFAULT_FRESHNESS;
    this.versionCheckMs = options.versionCheckMs ?? (source.kind === 'local' ? 5000 : 60_000);
    this.cache = new QueryCache({ ttlMs: options.cacheTtlMs, now: this.now });
  }

  /** The latest table versions, checked again when the last check is older than `versionCheckMs`. */
  async versions(): Promise<Partial<Record<TableName, TableVersion>>> {
    if (this.versionsAt === 0 || this.now() - this.versionsAt >= this.versionCheckMs) {
      this.checking ??= this.checkVersions().finally(() => (this.checking = undefined));
      await this.checking;
    }
    return this.currentVersions;
  }

  private async checkVersions(): Promise<void> {
    try {
      const versions = await this.source.versions();
      this.succeeded();
      this.currentVersions = versions;
      // The latest versions too: a commit that is not served still changes a table's history.
      this.stamp = JSON.stringify(Object.entries(versions).map(([t, v]) => [t, v.version, v.latestVersion]));
    } catch (error) {
      // Without the versions, keep the last stamp: cached results stay usable while the source is away.
      if (sourceDown(error)) this.failed(error);
      if (!isOutage(error)) throw error;
    } finally {
      this.versionsAt = this.now();
    }
  }

  async query(ctx: ReadContext, sql: string, params: Record<string, SourceParam> = {}): Promise<SourceRow[]> {
    await this.versions();
    return ctx.note(
      await this.cached(`${sql}\u0000${JSON.stringify(params)}`, () => this.source.query(sql, params)),
    );
  }

  /** Any other read (history, time travel), cached the same way under `key`. */
  async read<T>(ctx: ReadContext, key: string, load: () => Promise<T>): Promise<T> {
    await this.versions();
    return ctx.note(await this.cached(key, load));
  }

  private async cached<T>(key: string, load: () => Promise<T>): Promise<Cached<T>> {
    const result = await this.cache.get(key, this.stamp, async () => {
      try {
        const value = await load();
        this.succeeded();
        return value;
      } catch (error) {
        if (sourceDown(error)) this.failed(error);
        throw error;
      }
    });
    return result;
  }

  health(): Health {
    return {
      source: this.source.kind,
      reachable: this.reachable,
      lastError: this.lastError,
      lastSuccessAt: this.lastSuccess === undefined ? null : new Date(this.lastSuccess).toISOString(),
      dataAgeSeconds:
        this.lastSuccess === undefined
          ? null
          : Math.max(0, Math.round((this.now() - this.lastSuccess) / 1000)),
      versions: this.currentVersions,
      cache: {
        entries: this.cache.size,
        bytes: this.cache.bytes,
        hits: this.cache.hits,
        misses: this.cache.misses,
      },
    };
  }

  private succeeded(): void {
    this.reachable = true;
    this.lastError = null;
    this.lastSuccess = this.now();
  }

  private failed(error: unknown): void {
    this.reachable = false;
    this.lastError = error instanceof Error ? error.message : String(error);
  }
}

/** The source as a whole fails (out of reach, or refusing the app's credentials), not just one query. */
function sourceDown(error: unknown): boolean {
  return isOutage(error) || (error instanceof SourceError && error.reason === 'unauthorized');
}
