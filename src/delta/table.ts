// A Delta table at a location: snapshots (latest, by version, by timestamp), history and vacuum.
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Action, CommitInfo } from './actions.ts';
import type { Checkpoint, LogListing } from './log.ts';
import { LOG_DIR, commitInfoOf, commitPath, listLog, readCheckpoint, readCommit } from './log.ts';
import type { TableState } from './replay.ts';
import { replay } from './replay.ts';
import { Snapshot, resolveActionPath } from './snapshot.ts';
import type { DeltaStorage } from './storage.ts';
import { storageFor } from './storage.ts';
import { ENGINE_INFO, commitInfoOnly } from './transaction/commit.ts';

export interface DeltaTableOptions {
  /** Used to read checkpoint Parquet files; a private in-memory DuckDB is used when absent. */
  conn?: DuckDBConnection;
}

export interface SnapshotOptions {
  version?: number;
  /** The latest version committed at or before this instant (Date, ms since epoch, or ISO-8601; no zone = UTC). */
  timestamp?: Date | number | string;
}

export interface HistoryEntry {
  version: number;
  timestamp: number;
  operation: string;
  operationParameters: Record<string, unknown>;
  operationMetrics: Record<string, string>;
  readVersion: number | undefined;
  isBlindAppend: boolean | undefined;
  userMetadata: string | undefined;
  engineInfo: string | undefined;
}

export interface VacuumOptions {
  /** Files unreferenced for less than this are kept. Below 168 hours (7 days) needs `force`. */
  retentionHours?: number;
  force?: boolean;
  dryRun?: boolean;
}

export interface VacuumResult {
  /** Paths (relative to the table root) deleted, or that would be deleted with dryRun. */
  files: string[];
  dryRun: boolean;
  retentionHours: number;
  /** The version recording the vacuum (not for dry runs or when nothing was deleted). */
  version: number | undefined;
}

export class TableNotFoundError extends Error {
  constructor(location: string) {
    super(`${location} is not a Delta table: ${LOG_DIR}/ holds no commit`);
    this.name = 'TableNotFoundError';
  }
}

export class DeltaTable {
  readonly storage: DeltaStorage;
  readonly location: string;
  private readonly conn: DuckDBConnection | undefined;

  constructor(storage: DeltaStorage, options: DeltaTableOptions = {}) {
    this.storage = storage;
    this.location = storage.location;
    this.conn = options.conn;
  }

  async exists(): Promise<boolean> {
    const listing = await listLog(this.storage);
    return listing.commits.size > 0 || listing.checkpoints.length > 0;
  }

  async latestVersion(): Promise<number> {
    return latestOf(await this.listing());
  }

  async snapshot(options: SnapshotOptions = {}): Promise<Snapshot> {
    const listing = await this.listing();
    const latest = latestOf(listing);
    let target = latest;
    if (options.version !== undefined) {
      if (!Number.isInteger(options.version) || options.version < 0 || options.version > latest) {
        throw new Error(
          `${this.location}: version ${options.version} does not exist; the latest version is ${latest}`,
        );
      }
      target = options.version;
    } else if (options.timestamp !== undefined) {
      target = await this.versionAt(parseTimestamp(options.timestamp), listing);
    }
    const { state, last } = await this.stateAt(target, listing);
    const targetActions =
      last ?? (listing.commits.has(target) ? await readCommit(this.storage, target) : undefined);
    const info = targetActions ? commitInfoOf(targetActions) : undefined;
    return new Snapshot(
      this.storage,
      state,
      info?.timestamp ?? listing.commits.get(target)?.modificationTime,
    );
  }

  /** Commits, newest first (at most `limit`), as far back as the log still holds them. */
  async history(limit?: number): Promise<HistoryEntry[]> {
    const listing = await this.listing();
    const entries: HistoryEntry[] = [];
    for (let v = latestOf(listing); v >= 0 && (limit === undefined || entries.length < limit); v--) {
      const file = listing.commits.get(v);
      if (!file) break;
      const info: CommitInfo = commitInfoOf(await readCommit(this.storage, v)) ?? {};
      entries.push({
        version: v,
        timestamp: info.timestamp ?? file.modificationTime,
        operation: info.operation ?? 'UNKNOWN',
        operationParameters: info.operationParameters ?? {},
        operationMetrics: info.operationMetrics ?? {},
        readVersion: info.readVersion,
        isBlindAppend: info.isBlindAppend,
        userMetadata: info.userMetadata,
        engineInfo: info.engineInfo,
      });
    }
    return entries;
  }

  /**
   * Deletes data files that the latest version does not reference and that were last modified (and, for
   * removed files, removed) longer ago than the retention. Refuses a retention under 7 days unless forced,
   * because a concurrent reader or writer of an older version may still need those files.
   */
  async vacuum(options: VacuumOptions = {}): Promise<VacuumResult> {
    const snapshot = await this.snapshot();
    // Like Delta, the table's delta.deletedFileRetentionDuration (7 days by default) is the safe minimum.
    const minimum = snapshot.deletedFileRetentionHours();
    const retentionHours = options.retentionHours ?? minimum;
    if (!(retentionHours >= 0)) {
      throw new Error(`vacuum: retentionHours must be a number ≥ 0, found ${retentionHours}`);
    }
    if (retentionHours < minimum && !options.force) {
      throw new Error(
        `vacuum ${this.location}: a retention of ${retentionHours} hours is under the safe minimum of ` +
          `${minimum} hours (delta.deletedFileRetentionDuration, 7 days unless set); files still needed by ` +
          'readers of older versions or by running writers could be deleted. Pass force to do it anyway.',
      );
    }
    const cutoff = Date.now() - retentionHours * 3_600_000;
    const keep = new Set(snapshot.files.map((f) => resolveActionPath(f.path)));
    for (const t of snapshot.tombstones) {
      if ((t.deletionTimestamp ?? 0) > cutoff) keep.add(resolveActionPath(t.path));
    }
    const files = (await this.storage.list('', { recursive: true }))
      .filter((f) => !isHiddenPath(f.path) && !keep.has(f.path) && f.modificationTime < cutoff)
      .map((f) => f.path)
      .sort();
    const dryRun = options.dryRun ?? false;
    if (dryRun || files.length === 0) return { files, dryRun, retentionHours, version: undefined };
    for (const f of files) await this.storage.delete(f);
    const version = await commitInfoOnly(this.storage, snapshot.version, {
      operation: 'VACUUM END',
      operationParameters: { status: 'COMPLETED', retentionHours },
      engineInfo: ENGINE_INFO,
      operationMetrics: { numDeletedFiles: String(files.length), numVacuumedDirectories: '0' },
      readVersion: snapshot.version,
      isBlindAppend: true,
    });
    return { files, dryRun, retentionHours, version };
  }

  /** Commit timestamps of the versions the log still holds, ascending and made strictly increasing. */
  async commitTimestamps(listing?: LogListing): Promise<{ version: number; timestamp: number }[]> {
    const l = listing ?? (await this.listing());
    const versions = [...l.commits.keys()].sort((a, b) => a - b);
    const infos = await Promise.all(versions.map((v) => readCommit(this.storage, v).then(commitInfoOf)));
    const out: { version: number; timestamp: number }[] = [];
    versions.forEach((version, i) => {
      const raw = infos[i]?.timestamp ?? l.commits.get(version)!.modificationTime;
      // Clocks of different writers disagree; like Delta, keep timestamps increasing with versions.
      const previous = out.at(-1)?.timestamp;
      out.push({ version, timestamp: previous !== undefined && raw <= previous ? previous + 1 : raw });
    });
    return out;
  }

  private async versionAt(timestamp: number, listing: LogListing): Promise<number> {
    const commits = await this.commitTimestamps(listing);
    let found: number | undefined;
    for (const c of commits) if (c.timestamp <= timestamp) found = c.version;
    if (found === undefined) {
      const first = commits[0];
      throw new Error(
        `${this.location}: no version at or before ${new Date(timestamp).toISOString()}` +
          (first
            ? `; the earliest available is version ${first.version} at ${new Date(first.timestamp).toISOString()}`
            : ''),
      );
    }
    return found;
  }

  private async listing(): Promise<LogListing> {
    const listing = await listLog(this.storage);
    if (listing.commits.size === 0 && listing.checkpoints.length === 0)
      throw new TableNotFoundError(this.location);
    return listing;
  }

  /** The state at `version`, and the actions of that version's commit when they were read on the way. */
  private async stateAt(
    version: number,
    listing: LogListing,
  ): Promise<{ state: TableState; last?: Action[] }> {
    const where = this.location;
    let base: TableState | undefined;
    const errors: string[] = [];
    const candidates = listing.checkpoints.filter((c) => c.version <= version).reverse();
    for (const checkpoint of candidates) {
      try {
        base = await this.checkpointState(checkpoint);
        break;
      } catch (e) {
        // A damaged checkpoint is skipped: the commits before it still rebuild the same state.
        errors.push(`checkpoint ${checkpoint.version}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const from = (base?.version ?? -1) + 1;
    const versions: number[] = [];
    for (let v = from; v <= version; v++) {
      if (!listing.commits.has(v)) {
        throw new Error(
          `${where}: cannot rebuild version ${version}: commit ${commitPath(v)} is missing` +
            (base ? ` after checkpoint ${base.version}` : ' and no usable checkpoint precedes it') +
            (errors.length ? ` (${errors.join('; ')})` : ''),
        );
      }
      versions.push(v);
    }
    const commits = await Promise.all(
      versions.map(async (v) => ({ version: v, actions: await readCommit(this.storage, v) })),
    );
    return { state: replay(base, commits, where), last: commits.at(-1)?.actions };
  }

  private async checkpointState(checkpoint: Checkpoint): Promise<TableState> {
    const conn = this.conn ?? (await privateConnection());
    const actions = await readCheckpoint(conn, this.storage, checkpoint);
    return replay(
      undefined,
      [{ version: checkpoint.version, actions }],
      `${this.location} checkpoint ${checkpoint.version}`,
    );
  }
}

export function openDeltaTable(location: string | DeltaStorage, options: DeltaTableOptions = {}): DeltaTable {
  return new DeltaTable(typeof location === 'string' ? storageFor(location) : location, options);
}

function latestOf(listing: LogListing): number {
  const commits = [...listing.commits.keys()];
  const checkpoints = listing.checkpoints.map((c) => c.version);
  return Math.max(-1, ...commits, ...checkpoints);
}

// `_delta_log`, `_change_data` and files starting with `_` or `.` are not data files (Spark's rule).
function isHiddenPath(p: string): boolean {
  return p.split('/').some((segment) => segment.startsWith('_') || segment.startsWith('.'));
}

export function parseTimestamp(value: Date | number | string): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  let text = value.trim();
  if (/^\d{4}-\d\d-\d\d$/.test(text)) text += 'T00:00:00Z';
  else if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(text)) text = text.replace(' ', 'T') + 'Z';
  const ms = Date.parse(text.replace(' ', 'T'));
  if (Number.isNaN(ms)) {
    throw new Error(
      `timestamp "${value}": expected ISO-8601 (e.g. 2024-05-01T12:00:00Z or 2024-05-01 12:00:00)`,
    );
  }
  return ms;
}

let shared: Promise<DuckDBConnection> | undefined;
function privateConnection(): Promise<DuckDBConnection> {
  shared ??= DuckDBInstance.create(':memory:').then((i) => i.connect());
  return shared;
}
