// src/delta/transaction/ holds the Delta write side, one file per operation or concern: create, append and
// overwrite (write.ts), DELETE, MERGE, schema evolution, checks (validation.ts) and the commit.
//
// What every write operation shares: its options and result, the remove actions of the files it replaces, and
// the end of a commit (the version, or a ConcurrentModificationError; then a checkpoint when one is due).
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AddFile, RemoveFile } from '../actions.ts';
import { checkpointInterval, writeCheckpoint } from '../checkpoint.ts';
import type { DeltaTable } from '../table.ts';
import type { CommitOutcome, CommitRequest } from './commit.ts';
import { commitTransaction, committedVersion } from './commit.ts';

export interface CommonWriteOptions {
  /** Free text stored as commitInfo.userMetadata. */
  userMetadata?: string;
  /** Checkpoint every N versions (default: the table's delta.checkpointInterval, else 10). */
  checkpointInterval?: number;
  /** Blind-append retries after losing a race (default 50). */
  maxRetries?: number;
}

export interface WriteResult {
  /** The version committed (or the current one, when nothing was committed). */
  version: number;
  /** Data files added. */
  files: number;
  rows: number;
  /** False when nothing was committed (idempotent skip, or no row matched). */
  committed: boolean;
  /** Set when a checkpoint was written after the commit, or why it failed (the commit stands). */
  checkpoint?: { version: number } | { error: string };
}

export interface FinishedCommit {
  version: number;
  checkpoint?: WriteResult['checkpoint'];
}

/** Commits the request and finishes it (see finishCommit). */
export async function commitOperation(
  conn: DuckDBConnection,
  table: DeltaTable,
  request: CommitRequest,
  options: CommonWriteOptions,
): Promise<FinishedCommit> {
  const outcome = await commitTransaction(table.storage, request, { maxRetries: options.maxRetries });
  return finishCommit(conn, table, request, outcome, options);
}

/**
 * The committed version (a conflict throws ConcurrentModificationError), and the checkpoint when the version
 * falls on the interval. A failed checkpoint is reported, not thrown: the commit stands without it.
 */
export async function finishCommit(
  conn: DuckDBConnection,
  table: DeltaTable,
  request: CommitRequest,
  outcome: CommitOutcome,
  options: CommonWriteOptions,
): Promise<FinishedCommit> {
  const version = committedVersion(table.storage, request, outcome);
  if (version === 0) return { version };
  try {
    const snapshot = await table.snapshot({ version });
    if (version % checkpointInterval(snapshot, options.checkpointInterval) !== 0) return { version };
    return { version, checkpoint: await writeCheckpoint(conn, snapshot) };
  } catch (e) {
    return { version, checkpoint: { error: e instanceof Error ? e.message : String(e) } };
  }
}

export function removeOf(add: AddFile, now: number): RemoveFile {
  return {
    path: add.path,
    deletionTimestamp: now,
    dataChange: true,
    extendedFileMetadata: true,
    partitionValues: add.partitionValues,
    size: add.size,
  };
}
