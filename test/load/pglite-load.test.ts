// The load suite against the embedded PGlite store, and what only PGlite does: an append into an empty target
// builds the object-name index after the COPY.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBucket } from '../../src/bucket/file.ts';
import { openSqlStore } from '../../src/sql/index.ts';
import { load } from '../../src/stages/load.ts';
import { silentLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { pgliteEngine } from '../helpers/sql-engines.ts';
import { defineLoadSuite, transactions } from './suite.ts';

const engine = pgliteEngine();
afterAll(() => fsp.rm(engine.dir, { recursive: true, force: true }));
defineLoadSuite(engine, 'load_suite');

describe('PGlite: the object-name index of an empty target', () => {
  it('is there after a load that failed and rolled back, and after one that built it', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'load-pglite-index-'));
    const bucket = new FileBucket(path.join(dir, 'bucket'));
    const session = await openSqlStore(engine.target('index'), process.cwd());
    const put = async (name: string, content: string) => {
      await fsp.writeFile(path.join(dir, 'upload.tmp'), content);
      await bucket.upload(path.join(dir, 'upload.tmp'), name);
    };
    const run = (hooks = {}) =>
      load({
        hooks,
        session,
        bucket,
        datasets: [transactions],
        destination: '{dataset}/{file}',
        run: currentRun({}),
        log: silentLogger,
      });
    const indexes = async () =>
      (
        await session.query<{ indexname: string }>(
          `SELECT indexname FROM pg_indexes WHERE tablename = 'transactions' ORDER BY indexname`,
        )
      ).map((r) => r.indexname);
    try {
      await put(
        'transactions/a.csv',
        'Member_number,Date,itemDescription\n1,2015-01-01,milk\n2,2015-01-02,eggs\n',
      );
      // The object fails after its COPY into the empty target, the index dropped: the rollback brings it back.
      const crash = async () => {
        throw new Error('simulated crash');
      };
      expect((await run({ afterStaging: crash })).totals.failed).toBe(1);
      expect(await indexes()).toEqual(['transactions_source_object']);
      expect((await run()).totals.rowsLoaded).toBe(2);
      expect(await indexes()).toEqual(['transactions_source_object']);
      const [{ n } = { n: 0 }] = await session.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM transactions WHERE _source_object = 'transactions/a.csv'`,
      );
      expect(n).toBe(2);
    } finally {
      await session.close();
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('PGlite: a brief session (status)', () => {
  it('starts PostgreSQL with small shared buffers, and a later session on the same folder with its own again', async () => {
    const target = engine.target('brief');
    const sharedBuffers = async (brief: boolean) => {
      const session = await openSqlStore(target, process.cwd(), { brief });
      try {
        const [row] = await session.query<{ shared_buffers: string }>('SHOW shared_buffers');
        return row?.shared_buffers;
      } finally {
        await session.close();
      }
    };
    expect(await sharedBuffers(true)).toBe('16MB');
    expect(await sharedBuffers(false)).toBe('128MB');
  });
});
