// The database server restarts in the middle of a load. The object being loaded fails with a clear message and
// leaves nothing behind; the next object waits for the server (connection retries with backoff); the next run
// loads the failed object exactly once.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBucket } from '../../src/bucket/file.ts';
import type { Bucket } from '../../src/bucket/types.ts';
import type { SqlTargetConfig } from '../../src/config/schema.ts';
import { openSqlStore } from '../../src/sql/index.ts';
import type { SqlSession } from '../../src/sql/types.ts';
import { load, type LoadOptions } from '../../src/stages/load.ts';
import { memoryLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { inCI } from '../helpers/services.ts';
import type { PrivateServer } from '../helpers/private-servers.ts';
import { transactions } from './suite.ts';

const BIG_ROWS = 80_000;
/** Bytes of the big object read before the server is stopped: the bulk load is well under way by then. */
const PAUSE_AFTER_BYTES = 600_000;

export function defineRestartTest(
  name: string,
  missing: () => string | undefined,
  startServer: () => Promise<PrivateServer>,
  target: (port: number) => SqlTargetConfig,
): void {
  const why = missing();
  if (why) {
    if (inCI) throw new Error(`a private ${name} server is required under CI=true: ${why}`);
    console.warn(`skipping the ${name} restart test: ${why}`);
  }

  describe.skipIf(why !== undefined)(`${name} restarts in the middle of a load`, () => {
    let server: PrivateServer;
    let dir: string;
    let bucket: FileBucket;
    let session: SqlSession;
    const retries: string[] = [];

    beforeAll(async () => {
      server = await startServer();
      dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'restart-'));
      bucket = new FileBucket(path.join(dir, 'bucket'));
      const header = 'Member_number,Date,itemDescription\n';
      const small = (from: number) =>
        header + Array.from({ length: 100 }, (_, i) => `${from + i},2015-01-01,small ${i}\n`).join('');
      const big =
        header +
        Array.from({ length: BIG_ROWS }, (_, i) => `${i % 5000},2015-02-01,big item ${i}\n`).join('');
      for (const [objectName, text] of [
        ['transactions/a.csv', small(1)],
        ['transactions/b.csv', big],
        ['transactions/c.csv', small(1000)],
      ] as const) {
        await fsp.writeFile(path.join(dir, 'upload.tmp'), text);
        await bucket.upload(path.join(dir, 'upload.tmp'), objectName);
      }
      session = await openSqlStore(target(server.port), dir, {
        retry: { maxAttempts: 12, initialDelayMs: 100, onRetry: (m) => retries.push(m) },
      });
    });
    afterAll(async () => {
      await session?.close();
      await server?.destroy();
      if (dir) await fsp.rm(dir, { recursive: true, force: true });
    });

    const options = (over: Partial<LoadOptions> = {}): LoadOptions => ({
      session,
      bucket,
      datasets: [transactions],
      destination: '{dataset}/{file}',
      run: currentRun({}),
      log: memoryLogger(),
      ...over,
    });
    const count = async (where: string) =>
      Number(
        (
          await session.query<{ n: number }>(
            `SELECT count(*) AS n FROM ${session.dialect.table('transactions')} WHERE ${where}`,
          )
        )[0]!.n,
      );

    it('fails the object it was loading, leaves nothing partial, and the next run loads each object once', async () => {
      let restarted: Promise<void> | undefined;
      const interrupted = pauseWhileReading(bucket, 'transactions/b.csv', PAUSE_AFTER_BYTES, async () => {
        await server.stop();
        // Back after a while: meanwhile the next object's connection attempts are refused and retried.
        restarted = sleep(1500).then(() => server.start());
      });
      const first = await load(options({ bucket: interrupted }));
      await restarted;
      const [a, b, c] = first.datasets[0]!.objects;
      expect(a).toMatchObject({ name: 'transactions/a.csv', status: 'loaded', rowsLoaded: 100 });
      expect(b).toMatchObject({ name: 'transactions/b.csv', status: 'failed' });
      expect(b!.reason).toMatch(
        /: the connection was lost during the transaction \(.+\); the server rolls it back \(rolled back: nothing from this object is visible\)$/,
      );
      expect(c).toMatchObject({ name: 'transactions/c.csv', status: 'loaded', rowsLoaded: 100 });
      expect(retries.some((m) => /retrying in \d+ ms \(attempt 2 of 12\)/.test(m))).toBe(true);

      expect(await count(`_source_object = 'transactions/b.csv'`)).toBe(0);
      const audit = session.dialect.table('lakehouse_load_audit');
      expect(await session.query(`SELECT object_name FROM ${audit} ORDER BY object_name`)).toEqual([
        { object_name: 'transactions/a.csv' },
        { object_name: 'transactions/c.csv' },
      ]);

      const second = await load(options());
      expect(second.datasets[0]!.objects.map((o) => [o.name, o.status])).toEqual([
        ['transactions/a.csv', 'skipped'],
        ['transactions/b.csv', 'loaded'],
        ['transactions/c.csv', 'skipped'],
      ]);
      expect(await count(`_source_object = 'transactions/b.csv'`)).toBe(BIG_ROWS);
      expect(await count('1 = 1')).toBe(BIG_ROWS + 200);
      expect((await load(options())).totals).toMatchObject({ skipped: 3, loaded: 0 });
      expect(await count('1 = 1')).toBe(BIG_ROWS + 200);
    });
  });
}

/** The bucket, except that reading `objectName` stops after `afterBytes` until `pause` has run (once). */
function pauseWhileReading(
  bucket: Bucket,
  objectName: string,
  afterBytes: number,
  pause: () => Promise<void>,
): Bucket {
  let paused = false;
  async function* interrupt(stream: Readable): AsyncGenerator<Buffer> {
    let read = 0;
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      if (!paused && read + buffer.length > afterBytes) {
        const cut = afterBytes - read;
        yield buffer.subarray(0, cut);
        paused = true;
        await pause();
        yield buffer.subarray(cut);
      } else yield buffer;
      read += buffer.length;
    }
  }
  return {
    uri: bucket.uri,
    list: (prefix) => bucket.list(prefix),
    stat: (name) => bucket.stat(name),
    upload: (localPath, name, o) => bucket.upload(localPath, name, o),
    delete: (name, o) => bucket.delete(name, o),
    read: async (name, o) => {
      const stream = await bucket.read(name, o);
      return name === objectName && !paused ? Readable.from(interrupt(stream)) : stream;
    },
  };
}
