// Committing a new table version: optimistic concurrency with put-if-absent on `_delta_log/<version>.json`.
import { randomUUID } from 'node:crypto';
import type { Action, CommitInfo } from './actions.ts';
import { serializeCommit } from './actions.ts';
import { commitPath, listLog, readCommit } from './log.ts';
import type { DeltaStorage } from './storage.ts';
import { FileExistsError } from './storage.ts';

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

/**
 * Commits `request.actions` as version readVersion + 1. If another writer took that version first, a blind
 * append checks the winning commits (a schema or protocol change, or the same application transaction,
 * conflicts) and tries the next version; anything else fails with a ConcurrentModificationError.
 */
export async function commit(
  storage: DeltaStorage,
  request: CommitRequest,
  options: CommitOptions = {},
): Promise<number> {
  const maxRetries = options.maxRetries ?? 50;
  const txnId = randomUUID();
  const appIds = new Set(request.actions.flatMap((a) => (a.txn ? [a.txn.appId] : [])));
  let version = request.readVersion + 1;
  for (let attempt = 0; ; attempt++) {
    const info: CommitInfo = {
      timestamp: Date.now(),
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
    try {
      // The file's time is the commit's timestamp too: Spark and other readers take it from the file.
      await storage.put(commitPath(version), serializeCommit([{ commitInfo: info }, ...request.actions]), {
        ifAbsent: true,
        modificationTime: info.timestamp,
      });
      return version;
    } catch (e) {
      if (!(e instanceof FileExistsError)) throw e;
    }
    const conflict = (reason: string) =>
      new ConcurrentModificationError(
        `${storage.location}: concurrent commit: this ${request.operation} read version ${request.readVersion} and ` +
          `tried to commit version ${version}, but another writer committed version ${version} first (${reason}). ` +
          'Re-read the table and run the operation again.',
        request.readVersion,
        version,
        version,
      );
    if (!request.isBlindAppend)
      throw conflict(`${request.operation} is not a blind append, so it cannot be re-based`);
    if (attempt >= maxRetries) throw conflict(`gave up after ${maxRetries} retries`);
    // Check every commit that won since our last attempt, then retry after the newest.
    const latest = Math.max(...(await listLog(storage)).commits.keys());
    for (let v = version; v <= latest; v++) {
      const winner = await readCommit(storage, v);
      const op = winner.find((a) => a.commitInfo)?.commitInfo?.operation ?? 'unknown operation';
      if (winner.some((a) => a.metaData || a.protocol)) {
        throw conflict(`version ${v} (${op}) changed the table's metadata or protocol`);
      }
      const txn = winner.find((a) => a.txn && appIds.has(a.txn.appId))?.txn;
      if (txn) throw conflict(`version ${v} (${op}) committed application transaction ${txn.appId}`);
    }
    version = latest + 1;
    // Spread retrying writers apart a little.
    await new Promise((r) => setTimeout(r, Math.random() * 20 * Math.min(attempt + 1, 10)));
  }
}
