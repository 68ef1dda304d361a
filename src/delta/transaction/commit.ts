// Committing a table version: put-if-absent of `_delta_log/<version>.json`, with the outcome as a value.
//
// PROTOCOL.md asks only that a commit file is never overwritten; which later version a writer that lost the
// race may take instead is the writer's call. Here a transaction is re-based only when nothing the winners did
// can change its meaning: a blind append (adds only, from data that did not read the table) over winners that
// changed neither metadata nor protocol nor its application transaction, or a commit that changes no state.
// Everything else comes back `conflicted`, and the operation must re-read the table and run again.
import { randomUUID } from 'node:crypto';
import type { Action, CommitInfo } from '../actions.ts';
import { serializeCommit } from '../actions.ts';
import { commitPath, listLog, readCommit } from '../log.ts';
import type { DeltaStorage } from '../storage.ts';
import { FileExistsError } from '../storage.ts';

export const ENGINE_INFO = 'actions-lakehouse-delta/0.1';

export class ConcurrentModificationError extends Error {
  readonly readVersion: number;
  readonly attemptedVersion: number;
  readonly winningVersion: number;
  constructor(message: string, readVersion: number, attemptedVersion: number, winningVersion: number) {
    super(message);
    this.name = 'ConcurrentModificationError';
    this.readVersion = readVersion;
    this.attemptedVersion = attemptedVersion;
    this.winningVersion = winningVersion;
  }
}

export interface CommitRequest {
  /** The version the transaction read (-1 when it creates the table). */
  readVersion: number;
  actions: Action[];
  operation: string;
  operationParameters?: Record<string, unknown>;
  operationMetrics?: Record<string, string | number>;
  /** Only adds, from data that did not read the table: may be committed after other writers' commits. */
  isBlindAppend: boolean;
  userMetadata?: string;
}

export interface CommitOptions {
  /** Blind-append attempts after losing a race (default 50). */
  maxRetries?: number;
}

export type CommitOutcome =
  | { status: 'committed'; version: number }
  /** Another writer committed `attemptedVersion` first and this transaction may not follow it. */
  | { status: 'conflicted'; attemptedVersion: number; winningVersion: number; reason: string }
  /** Every retry lost a race, but the winners leave the transaction valid: it may still take `nextVersion`. */
  | { status: 'retryable'; attemptedVersion: number; nextVersion: number; retries: number };

/**
 * Commits `request.actions` as version readVersion + 1. If another writer took that version first, a blind
 * append checks the winning commits and tries the next free version, up to `maxRetries` times.
 */
export async function commitTransaction(
  storage: DeltaStorage,
  request: CommitRequest,
  options: CommitOptions = {},
): Promise<CommitOutcome> {
  const maxRetries = options.maxRetries ?? 50;
  const txnId = randomUUID();
  let version = request.readVersion + 1;
  for (let attempt = 0; ; attempt++) {
    const timestamp = Math.max(Date.now(), (await previousTimestamp(storage, version)) + 1);
    const actions = [{ commitInfo: commitInfoFor(request, txnId, timestamp) }, ...request.actions];
    if (await putCommit(storage, version, actions)) return { status: 'committed', version };
    if (!request.isBlindAppend) {
      const reason = `${request.operation} is not a blind append, so it cannot be re-based`;
      return { status: 'conflicted', attemptedVersion: version, winningVersion: version, reason };
    }
    const rebase = await rebaseOverWinners(storage, request, version);
    if ('reason' in rebase) return { status: 'conflicted', attemptedVersion: version, ...rebase };
    if (attempt >= maxRetries)
      return {
        status: 'retryable',
        attemptedVersion: version,
        nextVersion: rebase.nextVersion,
        retries: attempt,
      };
    version = rebase.nextVersion;
    // Spread retrying writers apart a little.
    await new Promise((r) => setTimeout(r, Math.random() * 20 * Math.min(attempt + 1, 10)));
  }
}

/** The committed version, or a ConcurrentModificationError saying why the transaction could not commit. */
export function committedVersion(
  storage: DeltaStorage,
  request: CommitRequest,
  outcome: CommitOutcome,
): number {
  if (outcome.status === 'committed') return outcome.version;
  const { attemptedVersion } = outcome;
  const reason =
    outcome.status === 'conflicted' ? outcome.reason : `gave up after ${outcome.retries} retries`;
  throw new ConcurrentModificationError(
    `${storage.location}: concurrent commit: this ${request.operation} read version ${request.readVersion} and ` +
      `tried to commit version ${attemptedVersion}, but another writer committed version ${attemptedVersion} ` +
      `first (${reason}). Re-read the table and run the operation again.`,
    request.readVersion,
    attemptedVersion,
    outcome.status === 'conflicted' ? outcome.winningVersion : attemptedVersion,
  );
}

/** commitTransaction for callers that want the version or an error. */
export async function commit(
  storage: DeltaStorage,
  request: CommitRequest,
  options: CommitOptions = {},
): Promise<number> {
  return committedVersion(storage, request, await commitTransaction(storage, request, options));
}

/** A commit of commitInfo alone (e.g. VACUUM END): it changes no state, so any later free version will do. */
export async function commitInfoOnly(
  storage: DeltaStorage,
  readVersion: number,
  info: CommitInfo,
): Promise<number> {
  for (let version = readVersion + 1; ; version++) {
    const timestamp = Math.max(Date.now(), (await previousTimestamp(storage, version)) + 1);
    if (await putCommit(storage, version, [{ commitInfo: { timestamp, ...info } }])) return version;
  }
}

/**
 * The timestamp of the commit before `version` (-Infinity for the first). Commit times must increase: readers that
 * date commits by their files (Spark without in-commit timestamps) move a commit that is not later than the one
 * before it, so two commits in the same millisecond would make TIMESTAMP AS OF differ between engines.
 */
async function previousTimestamp(storage: DeltaStorage, version: number): Promise<number> {
  if (version === 0) return -Infinity;
  const text = new TextDecoder().decode((await storage.read(commitPath(version - 1))) ?? new Uint8Array());
  const line = text.split('\n').find((l) => l.includes('"commitInfo"'));
  const timestamp = line ? (JSON.parse(line) as Action).commitInfo?.timestamp : undefined;
  return typeof timestamp === 'number' ? timestamp : -Infinity;
}

/**
 * False when another writer already holds `version`. The file's time is the commit's timestamp too: Spark (without
 * in-commit timestamps) dates a commit by its file, so both readers see the same history and time travel.
 */
async function putCommit(storage: DeltaStorage, version: number, actions: Action[]): Promise<boolean> {
  const timestamp = actions.find((a) => a.commitInfo)?.commitInfo?.timestamp;
  try {
    await storage.put(commitPath(version), serializeCommit(actions), {
      ifAbsent: true,
      ...(typeof timestamp === 'number' ? { modificationTime: timestamp } : {}),
    });
    return true;
  } catch (e) {
    if (e instanceof FileExistsError) return false;
    throw e;
  }
}

/**
 * Checks every commit from `lostVersion` to the newest: a schema or protocol change, or the same application
 * transaction, conflicts with a blind append; otherwise it may follow the newest.
 */
async function rebaseOverWinners(
  storage: DeltaStorage,
  request: CommitRequest,
  lostVersion: number,
): Promise<{ nextVersion: number } | { winningVersion: number; reason: string }> {
  const appIds = new Set(request.actions.flatMap((a) => (a.txn ? [a.txn.appId] : [])));
  const latest = Math.max(...(await listLog(storage)).commits.keys());
  for (let v = lostVersion; v <= latest; v++) {
    const winner = await readCommit(storage, v);
    const op = winner.find((a) => a.commitInfo)?.commitInfo?.operation ?? 'unknown operation';
    if (winner.some((a) => a.metaData || a.protocol))
      return { winningVersion: v, reason: `version ${v} (${op}) changed the table's metadata or protocol` };
    const txn = winner.find((a) => a.txn && appIds.has(a.txn.appId))?.txn;
    if (txn)
      return {
        winningVersion: v,
        reason: `version ${v} (${op}) committed application transaction ${txn.appId}`,
      };
  }
  return { nextVersion: latest + 1 };
}

function commitInfoFor(request: CommitRequest, txnId: string, timestamp: number): CommitInfo {
  return {
    timestamp,
    operation: request.operation,
    // Spark reads operationParameters as a map of strings (JSON inside, e.g. partitionBy: "[\"day\"]").
    operationParameters: Object.fromEntries(
      Object.entries(request.operationParameters ?? {}).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : JSON.stringify(v),
      ]),
    ),
    ...(request.readVersion >= 0 ? { readVersion: request.readVersion } : {}),
    isolationLevel: 'Serializable',
    isBlindAppend: request.isBlindAppend,
    operationMetrics: Object.fromEntries(
      Object.entries(request.operationMetrics ?? {}).map(([k, v]) => [k, String(v)]),
    ),
    engineInfo: ENGINE_INFO,
    txnId,
    ...(request.userMetadata !== undefined ? { userMetadata: request.userMetadata } : {}),
  };
}
