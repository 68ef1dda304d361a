// The load under bad input, on every engine here (PGlite, PostgreSQL, MariaDB): an early open quote, NUL bytes,
// invalid UTF-8 and CR-only files load their good rows and quarantine exactly the bytes that arrived; an object
// gone from the bucket has its rows withdrawn; tables from before the raw_bytes column and audit rows keyed on an
// absolute file:// path are migrated.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBucket } from '../../src/bucket/file.ts';
import type { DatasetConfig } from '../../src/config/schema.ts';
import { openSqlStore } from '../../src/sql/index.ts';
import type { SqlSession } from '../../src/sql/types.ts';
import { load, loadTables, type LoadOptions } from '../../src/stages/load.ts';
import { silentLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { groceriesDataset } from '../helpers/datasets.ts';
import { mariadbEngine, pgliteEngine, postgresEngine, type EngineUnderTest } from '../helpers/sql-engines.ts';

const HEADER = 'Member_number,Date,itemDescription\n';
const pglite = pgliteEngine();
afterAll(() => fsp.rm(pglite.dir, { recursive: true, force: true }));

for (const engine of [pglite, postgresEngine, mariadbEngine]) defineBadInputTests(engine, 'lh_bad_input');

function defineBadInputTests(engine: EngineUnderTest, namespace: string): void {
  const state: { available?: boolean } = {};
  let dir: string;
  let bucket: FileBucket;
  let session: SqlSession;

  beforeAll(async () => {
    state.available = await engine.available();
    if (!state.available) return;
    await engine.reset(namespace);
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), `bad-input-${namespace}-`));
    bucket = new FileBucket(path.join(dir, 'bucket'));
    session = await openSqlStore(engine.target(namespace), process.cwd(), engine.options);
  });
  afterAll(async () => {
    if (!state.available) return;
    await session?.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  const dataset = (name: string): DatasetConfig => ({
    ...groceriesDataset(),
    name,
    load: { mode: 'append', table: name },
  });
  const options = (over: Partial<LoadOptions> = {}): LoadOptions => ({
    session,
    bucket,
    datasets: [dataset('bad_input')],
    destination: '{dataset}/{file}',
    run: currentRun({}),
    log: silentLogger,
    ...over,
  });
  async function put(name: string, content: string | Buffer, into = bucket) {
    const file = path.join(dir, 'upload.tmp');
    await fsp.writeFile(file, content);
    return into.upload(file, name);
  }
  const t = (name: string) => session.dialect.table(name);
  const count = async (sql: string) => Number((await session.query<{ n: number }>(sql))[0]!.n);
  /** Rows of `table` that `column` says are of `object`. */
  const rowsOf = (table: string, object: string, column = 'object_name') =>
    count(`SELECT count(*) AS n FROM ${t(table)} WHERE ${column} = '${object}'`);
  const quarantined = async (object: string) =>
    (
      await session.query<{ line_number: unknown; reason: string; raw_text: string; raw_bytes: Uint8Array }>(
        `SELECT line_number, reason, raw_text, raw_bytes FROM ${t('lakehouse_quarantine')} WHERE object_name = '${object}' ORDER BY line_number`,
      )
    ).map((r) => ({ ...r, line_number: Number(r.line_number), raw_bytes: Buffer.from(r.raw_bytes) }));

  describe(`bad input into ${engine.name}`, () => {
    it('loads the 100,000 rows after an early open quote, quarantining only its line', async (ctx) => {
      if (!state.available) return ctx.skip();
      const good = Array.from({ length: 100_000 }, (_, i) => `${i},2015-01-01,milk\n`).join('');
      await put('bad_input/open-quote.csv', `${HEADER}1,2015-01-01,"never closed\n${good}`);
      const manifest = await load(options({ objects: ['bad_input/open-quote.csv'] }));
      expect(manifest.datasets[0]!.objects[0]).toMatchObject({
        status: 'loaded',
        rowsIn: 100_001,
        rowsLoaded: 100_000,
        rowsQuarantined: 1,
      });
      expect(await rowsOf('bad_input', 'bad_input/open-quote.csv', '_source_object')).toBe(100_000);
      expect(await quarantined('bad_input/open-quote.csv')).toEqual([
        {
          line_number: 2,
          reason: expect.stringMatching(/lines 2\.\.2/),
          raw_text: '1,2015-01-01,"never closed',
          raw_bytes: Buffer.from('1,2015-01-01,"never closed'),
        },
      ]);
    });

    it('quarantines a NUL byte and invalid UTF-8 with their bytes, and loads the object', async (ctx) => {
      if (!state.available) return ctx.skip();
      const nul = Buffer.from('2,2015-01-01,mi\0lk');
      const invalid = Buffer.concat([Buffer.from('3,2015-01-01,caf'), Buffer.from([0xe9, 0xff])]);
      const file = Buffer.concat([
        Buffer.from(`${HEADER}1,2015-01-01,tea\n`),
        nul,
        Buffer.from('\n'),
        invalid,
        Buffer.from('\n4,2015-01-01,soda\n'),
      ]);
      await put('bad_input/bytes.csv', file);
      const first = await load(options({ objects: ['bad_input/bytes.csv'] }));
      expect(first.datasets[0]!.objects[0]).toMatchObject({
        status: 'loaded',
        rowsIn: 4,
        rowsLoaded: 2,
        rowsQuarantined: 2,
      });
      expect(await quarantined('bad_input/bytes.csv')).toEqual([
        {
          line_number: 3,
          reason: 'contains a NUL character, which SQL text columns cannot hold',
          raw_text: '2,2015-01-01,mi\\x00lk',
          raw_bytes: nul,
        },
        {
          line_number: 4,
          reason: 'invalid UTF-8 at byte 17 of the line',
          raw_text: '3,2015-01-01,caf\\xe9\\xff',
          raw_bytes: invalid,
        },
      ]);
      expect((await load(options({ objects: ['bad_input/bytes.csv'] }))).totals.skipped).toBe(1);
    });

    it('splits a CR-only file into its records', async (ctx) => {
      if (!state.available) return ctx.skip();
      await put(
        'bad_input/cr.csv',
        'Member_number,Date,itemDescription\r5,2015-01-01,tea\r6,2015-01-02,"two\rlines"\r7,2015-01-03,soda\r',
      );
      const manifest = await load(options({ objects: ['bad_input/cr.csv'] }));
      expect(manifest.datasets[0]!.objects[0]).toMatchObject({ rowsLoaded: 3, rowsQuarantined: 0 });
      const items = await session.query<{ item: string }>(
        `SELECT item FROM ${t('bad_input')} WHERE _source_object = 'bad_input/cr.csv' ORDER BY _source_line`,
      );
      expect(items.map((r) => r.item)).toEqual(['tea', 'two\rlines', 'soda']);
    });

    it('withdraws the rows of an object gone from the bucket, once, in an audited transaction', async (ctx) => {
      if (!state.available) return ctx.skip();
      const gone = { datasets: [dataset('withdrawn')] };
      await put('withdrawn/stays.csv', `${HEADER}1,2015-01-01,tea\n`);
      await put('withdrawn/goes.csv', `${HEADER}2,2015-01-01,tea\n3,2015-01-01,x,y\n4,2015-01-01,soda\n`);
      expect((await load(options(gone))).totals).toMatchObject({ loaded: 2, rowsLoaded: 3 });
      await bucket.delete('withdrawn/goes.csv');

      const withdrawal = await load(options(gone));
      expect(withdrawal.datasets[0]!.objects).toEqual([
        expect.objectContaining({ name: 'withdrawn/stays.csv', status: 'skipped' }),
        expect.objectContaining({ name: 'withdrawn/goes.csv', status: 'withdrawn', rowsReplaced: 2 }),
      ]);
      expect(withdrawal.datasets[0]!.objects[1]!.reason).toMatch(
        /gone from the bucket: 2 rows and 1 quarantined record withdrawn/,
      );
      expect(await rowsOf('withdrawn', 'withdrawn/goes.csv', '_source_object')).toBe(0);
      expect(await rowsOf('lakehouse_quarantine', 'withdrawn/goes.csv')).toBe(0);
      const audit = await session.query<{ rows_loaded: unknown; rows_replaced: unknown }>(
        `SELECT rows_loaded, rows_replaced FROM ${t('lakehouse_load_audit')} WHERE object_name = 'withdrawn/goes.csv' ORDER BY id`,
      );
      expect(audit.map((a) => [Number(a.rows_loaded), Number(a.rows_replaced)])).toEqual([
        [2, 0],
        [0, 2],
      ]);
      // Withdrawn once: the next run has nothing to do; the object back in the bucket loads again.
      expect((await load(options(gone))).totals).toMatchObject({ loaded: 0, withdrawn: 0, skipped: 1 });
      await put('withdrawn/goes.csv', `${HEADER}2,2015-01-01,tea\n`);
      expect((await load(options(gone))).totals).toMatchObject({ loaded: 1, rowsLoaded: 1 });
    });

    it('adds raw_bytes to a quarantine table from before it, and fills it', async (ctx) => {
      if (!state.available) return ctx.skip();
      const legacy = `${namespace}_legacy`;
      await engine.reset(legacy);
      const old = await openSqlStore(engine.target(legacy), process.cwd(), engine.options);
      try {
        // The quarantine table as earlier versions created it: without raw_bytes.
        for (const ddl of old.dialect.ensureTables(loadTables(dataset('bad_input')))) await old.execute(ddl);
        await old.execute(
          `ALTER TABLE ${old.dialect.table('lakehouse_quarantine')} DROP COLUMN IF EXISTS raw_bytes`,
        );
        await put('bad_input/legacy.csv', `${HEADER}1,2015-01-01,tea\n2,2015-01-01,x,y\n`);
        const manifest = await load(options({ session: old, objects: ['bad_input/legacy.csv'] }));
        expect(manifest.totals).toMatchObject({ loaded: 1, rowsLoaded: 1, rowsQuarantined: 1 });
        const [row] = await old.query<{ raw_bytes: Uint8Array }>(
          `SELECT raw_bytes FROM ${old.dialect.table('lakehouse_quarantine')}`,
        );
        expect(Buffer.from(row!.raw_bytes)).toEqual(Buffer.from('2,2015-01-01,x,y'));
      } finally {
        await old.close();
      }
    });

    it('keys the audit on the bucket as configured, and moves rows keyed on its absolute path', async (ctx) => {
      if (!state.available) return ctx.skip();
      const root = path.join(dir, 'moved-bucket');
      const absolute = new FileBucket(root);
      const configured = new FileBucket(root, 'file://moved-bucket');
      expect(configured.uri).toBe('file://moved-bucket');
      await put('moving/a.csv', `${HEADER}1,2015-01-01,tea\n2,2015-01-01,x,y\n`, absolute);
      const moving = { datasets: [dataset('moving')] };
      expect((await load(options({ ...moving, bucket: absolute }))).totals.loaded).toBe(1);

      const again = await load(options({ ...moving, bucket: configured }));
      expect(again.totals).toMatchObject({ loaded: 0, skipped: 1, rowsLoaded: 0 });
      expect(
        await count(
          `SELECT count(*) AS n FROM ${t('lakehouse_load_audit')} WHERE bucket = 'file://moved-bucket'`,
        ),
      ).toBe(1);
      expect(
        await count(
          `SELECT count(*) AS n FROM ${t('lakehouse_quarantine')} WHERE bucket = 'file://moved-bucket' AND object_name = 'moving/a.csv'`,
        ),
      ).toBe(1);

      // The same folder somewhere else, configured the same way: nothing is reloaded.
      const elsewhere = path.join(dir, 'elsewhere');
      await fsp.cp(root, elsewhere, { recursive: true });
      const copied = new FileBucket(elsewhere, 'file://moved-bucket');
      expect((await load(options({ ...moving, bucket: copied }))).totals).toMatchObject({
        loaded: 0,
        skipped: 1,
      });
    });
  });
}
