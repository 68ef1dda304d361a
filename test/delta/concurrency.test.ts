// Optimistic concurrency: racing commits (in one process and across processes), readers during writes.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ConcurrentModificationError,
  LocalStorage,
  openDeltaTable,
  registerDeltaView,
  writeDelta,
} from '../../src/delta/index.ts';
import { commit } from '../../src/delta/transaction/commit.ts';
import { newConnection, rowsOf, tempDir } from './helpers.ts';
import { checkLog, commitsOf } from './protocol.ts';

const worker = path.join(import.meta.dirname, 'concurrent-worker.ts');

function runWorker(args: string[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`worker ${args.join(' ')} exited with ${code}: ${err}`));
      else
        resolve(
          out
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        );
    });
  });
}

describe('concurrent writers', () => {
  it('lets exactly one of two writers racing for a version win; the loser fails naming the versions', async () => {
    const location = path.join(tempDir('delta-race'), 't');
    const conn = await newConnection();
    await writeDelta(conn, location, 'SELECT 1 AS id', { mode: 'create' });
    const storage = new LocalStorage(location);
    const attempt = (operation: string) =>
      commit(storage, { readVersion: 0, actions: [], operation, isBlindAppend: false });
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => attempt(`OP${i}`)));
    expect(
      results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value),
    ).toEqual([1]);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      const e = (r as PromiseRejectedResult).reason as ConcurrentModificationError;
      expect(e).toBeInstanceOf(ConcurrentModificationError);
      expect(e.message).toMatch(
        /read version 0 and tried to commit version 1, but another writer committed version 1 first/,
      );
    }
    // Blind appends re-base onto the winners instead.
    const appends = await Promise.all(
      Array.from({ length: 6 }, () =>
        commit(storage, { readVersion: 1, actions: [], operation: 'WRITE', isBlindAppend: true }),
      ),
    );
    expect(appends.sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('does not re-base a blind append over a schema change', async () => {
    const location = path.join(tempDir('delta-race-schema'), 't');
    const conn = await newConnection();
    await writeDelta(conn, location, 'SELECT 1 AS id', { mode: 'create' });
    await writeDelta(conn, location, `SELECT 2 AS id, 'x' AS extra`, {
      mode: 'append',
      schemaEvolution: 'addColumns',
    });
    const storage = new LocalStorage(location);
    await expect(
      commit(storage, { readVersion: 0, actions: [], operation: 'WRITE', isBlindAppend: true }),
    ).rejects.toThrow(/version 1 \(WRITE\) changed the table's metadata or protocol/);
  });

  it('fails an overwrite of rows read at an older version', async () => {
    const location = path.join(tempDir('delta-stale'), 't');
    const conn = await newConnection();
    await writeDelta(conn, location, 'SELECT 1 AS id', { mode: 'create' });
    const read = await registerDeltaView(conn, 'stale', location);
    await writeDelta(conn, location, 'SELECT 2 AS id', { mode: 'append' });
    await expect(
      writeDelta(conn, location, 'SELECT * FROM stale', { mode: 'overwrite', readVersion: read.version }),
    ).rejects.toThrow(/the query read version 0, but the table is at version 1 now/);
  });

  it('several processes appending and overwriting at once lose no commit, overwrite no file, and readers always see a consistent table', async () => {
    const location = path.join(tempDir('delta-processes'), 't');
    const conn = await newConnection();
    // Partitioned by writer: appenders and the compactor create files in the same folders at once.
    await writeDelta(conn, location, `SELECT 'seed' AS writer, 0 AS seq`, {
      mode: 'create',
      partitionBy: ['writer'],
    });
    const appenders = ['a', 'b', 'c'];
    const perWriter = 8;
    const running = [
      ...appenders.map((w) => runWorker([location, 'append', w, String(perWriter)])),
      runWorker([location, 'overwrite', 'compactor', '3']),
    ];
    let finished = false;
    const all = Promise.all(running).finally(() => (finished = true));

    // Read while they write: every snapshot holds each writer's rows 0..k-1 exactly once.
    let snapshots = 0;
    const readerConn = await newConnection();
    while (!finished) {
      await registerDeltaView(readerConn, 'live', location);
      const rows = await rowsOf(
        readerConn,
        'SELECT writer, list(seq ORDER BY seq) AS seqs FROM live GROUP BY writer',
      );
      for (const row of rows) {
        const { writer, seqs } = JSON.parse(row) as { writer: string; seqs: number[] };
        expect(seqs, `snapshot of ${writer}`).toEqual(seqs.map((_, i) => i));
      }
      snapshots++;
    }
    const events = (await all).flat();
    expect(snapshots).toBeGreaterThan(1);

    const commits = events.filter((e) => e.event === 'commit');
    const versions = commits.map((e) => e.version as number);
    expect(new Set(versions).size, 'every commit has its own version').toBe(versions.length);
    expect(commits).toHaveLength(appenders.length * perWriter + 3);
    const log = checkLog(location);
    expect(log).toHaveLength(versions.length + 1);
    for (const e of commits) {
      const info = log[e.version as number]!.find((a) => a.commitInfo)!.commitInfo!;
      expect(info.operation).toBe('WRITE');
      expect(info.operationParameters?.mode).toBe(e.writer === 'compactor' ? 'Overwrite' : 'Append');
    }
    // Overwrites that lost a race were refused, never committed over rows they had not read.
    for (const e of events.filter((x) => x.event === 'conflict'))
      expect(e.message).toMatch(/concurrent commit/);

    // No file was written twice: every add has its own path, and each file still has the size it was added with.
    const adds = commitsOf(location).flatMap((c) => c.filter((a) => a.add).map((a) => a.add!));
    expect(new Set(adds.map((a) => a.path)).size).toBe(adds.length);
    for (const a of adds)
      expect(fs.statSync(path.join(location, decodeURIComponent(a.path))).size).toBe(a.size);

    await registerDeltaView(conn, 'final', location);
    const expected = [`{"writer":"seed","seq":0}`];
    for (const w of appenders)
      for (let s = 0; s < perWriter; s++) expected.push(`{"writer":"${w}","seq":${s}}`);
    expect(await rowsOf(conn, 'SELECT * FROM final')).toEqual(expected.sort());
    expect((await openDeltaTable(location).history()).length).toBe(versions.length + 1);
  });
});
