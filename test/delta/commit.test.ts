// Commit outcomes as values: committed, conflicted (naming the winning version and why) and retryable, and the
// one write that may follow a conflict: an append that lost the race to create the table it fits.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import {
  ConcurrentModificationError,
  LocalStorage,
  openDeltaTable,
  registerDeltaView,
  writeDelta,
} from '../../src/delta/index.ts';
import type { CommitRequest } from '../../src/delta/transaction/commit.ts';
import { commitInfoOnly, commitTransaction, committedVersion } from '../../src/delta/transaction/commit.ts';
import { commitPath } from '../../src/delta/log.ts';
import { newConnection, rowsOf, tempDir } from './helpers.ts';
import { checkLog, commitsOf } from './protocol.ts';

async function newTable(prefix: string): Promise<LocalStorage> {
  const location = path.join(tempDir(prefix), 't');
  await writeDelta(await newConnection(), location, 'SELECT 1 AS id', { mode: 'create' });
  return new LocalStorage(location);
}

const blindAppend = (readVersion: number, appId?: string): CommitRequest => ({
  readVersion,
  actions: appId ? [{ txn: { appId, version: 1, lastUpdated: 0 } }] : [],
  operation: 'WRITE',
  isBlindAppend: true,
});

/** Runs `beforeFirstCommit` just before this storage writes commit 0: another writer gets there first. */
class OvertakenStorage extends LocalStorage {
  beforeFirstCommit: (() => Promise<unknown>) | undefined;
  override async put(relPath: string, data: Uint8Array | string, options?: { ifAbsent?: boolean }) {
    const run = relPath === commitPath(0) ? this.beforeFirstCommit : undefined;
    this.beforeFirstCommit = undefined;
    if (run) await run();
    return super.put(relPath, data, options);
  }
}

describe('commit outcomes', () => {
  it('is committed at the version after the one read', async () => {
    const storage = await newTable('delta-commit');
    expect(await commitTransaction(storage, blindAppend(0))).toEqual({ status: 'committed', version: 1 });
  });

  it('is conflicted when a transaction that is not a blind append loses the race, and the error says so', async () => {
    const storage = await newTable('delta-commit-conflict');
    const request: CommitRequest = { readVersion: 0, actions: [], operation: 'DELETE', isBlindAppend: false };
    expect(await commitTransaction(storage, request)).toEqual({ status: 'committed', version: 1 });
    const lost = await commitTransaction(storage, request);
    expect(lost).toEqual({
      status: 'conflicted',
      attemptedVersion: 1,
      winningVersion: 1,
      reason: 'DELETE is not a blind append, so it cannot be re-based',
    });
    let error: unknown;
    try {
      committedVersion(storage, request, lost);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConcurrentModificationError);
    expect(error).toMatchObject({ readVersion: 0, attemptedVersion: 1, winningVersion: 1 });
  });

  it('re-bases a blind append over winners that changed no metadata, and names the winner that did', async () => {
    const storage = await newTable('delta-commit-rebase');
    await commitTransaction(storage, blindAppend(0));
    expect(await commitTransaction(storage, blindAppend(0))).toEqual({ status: 'committed', version: 2 });
    const conn = await newConnection();
    await writeDelta(conn, storage, `SELECT 2 AS id, 'x' AS extra`, {
      mode: 'append',
      schemaEvolution: 'addColumns',
    });
    expect(await commitTransaction(storage, blindAppend(1))).toMatchObject({
      status: 'conflicted',
      attemptedVersion: 2,
      winningVersion: 3,
      reason: "version 3 (WRITE) changed the table's metadata or protocol",
    });
  });

  it('is conflicted when a winner committed the same application transaction', async () => {
    const storage = await newTable('delta-commit-txn');
    await commitTransaction(storage, blindAppend(0, 'nightly'));
    expect(await commitTransaction(storage, blindAppend(0, 'nightly'))).toMatchObject({
      status: 'conflicted',
      winningVersion: 1,
      reason: 'version 1 (WRITE) committed application transaction nightly',
    });
  });

  it('is retryable when a blind append runs out of retries, with the version it may still take', async () => {
    const storage = await newTable('delta-commit-retry');
    await commitTransaction(storage, blindAppend(0));
    await commitTransaction(storage, blindAppend(1));
    const outcome = await commitTransaction(storage, blindAppend(0), { maxRetries: 0 });
    expect(outcome).toEqual({ status: 'retryable', attemptedVersion: 1, nextVersion: 3, retries: 0 });
    expect(() => committedVersion(storage, blindAppend(0), outcome)).toThrow(
      /tried to commit version 1, but another writer committed version 1 first \(gave up after 0 retries\)/,
    );
    expect(await openDeltaTable(storage).latestVersion()).toBe(2);
  });

  it('commits commitInfo alone at the next free version', async () => {
    const storage = await newTable('delta-commit-info');
    await commitTransaction(storage, blindAppend(0));
    expect(await commitInfoOnly(storage, 0, { operation: 'VACUUM END' })).toBe(2);
    expect(commitsOf(storage.location)[2]).toEqual([
      { commitInfo: { timestamp: expect.any(Number), operation: 'VACUUM END' } },
    ]);
  });
});

describe('appends racing to create a table', () => {
  it('lets the loser append to the table the winner created when its files fit', async () => {
    const location = path.join(tempDir('delta-create-race'), 't');
    const [a, b] = [await newConnection(), await newConnection()];
    const storage = new OvertakenStorage(location);
    storage.beforeFirstCommit = () => writeDelta(a, location, 'SELECT 1 AS id', { mode: 'append' });
    const result = await writeDelta(b, storage, 'SELECT 2 AS id', { mode: 'append' });
    expect(result).toMatchObject({ version: 1, rows: 1, committed: true });
    const log = checkLog(location);
    expect(log[1]!.some((action) => action.protocol || action.metaData)).toBe(false);
    expect(log[1]!.find((action) => action.commitInfo)!.commitInfo!.isBlindAppend).toBe(true);
    await registerDeltaView(a, 'raced', location);
    expect(await rowsOf(a, 'SELECT id FROM raced')).toEqual(['{"id":1}', '{"id":2}']);
  });

  it('fails the loser when the table the winner created has other columns', async () => {
    const location = path.join(tempDir('delta-create-race-schema'), 't');
    const [a, b] = [await newConnection(), await newConnection()];
    const storage = new OvertakenStorage(location);
    storage.beforeFirstCommit = () =>
      writeDelta(a, location, `SELECT 1 AS id, 'x' AS name`, { mode: 'append' });
    await expect(writeDelta(b, storage, 'SELECT 2 AS id', { mode: 'append' })).rejects.toThrow(
      /read version -1 and tried to commit version 0, but another writer committed version 0 first/,
    );
    expect(await openDeltaTable(location).latestVersion()).toBe(0);
  });
});
