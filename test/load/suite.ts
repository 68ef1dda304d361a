// The load suite, the same for every engine: each engine's test file calls defineLoadSuite with its engine and
// a namespace of its own.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { FileBucket } from '../../src/bucket/file.ts';
import type { Bucket } from '../../src/bucket/types.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { DatasetConfig } from '../../src/config/schema.ts';
import { openSqlStore } from '../../src/sql/index.ts';
import type { SqlSession } from '../../src/sql/types.ts';
import { load, loadTables, type LoadOptions } from '../../src/stages/load.ts';
import { silentLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { normalize, type EngineUnderTest } from '../helpers/sql-engines.ts';
import { needsShared, sharedDir } from '../helpers/services.ts';
import { allTypesDataset, groceriesDataset } from '../helpers/datasets.ts';

// Drivers turn DATE and TIMESTAMP into Dates in local time; UTC makes them comparable across engines.
process.env.TZ = 'UTC';

export const transactions: DatasetConfig = groceriesDataset();

/** Merge mode over every column type, keyed on a text and a date column. */
const prices = allTypesDataset('prices', ['sku', 'day'], { mode: 'merge', table: 'prices' });

/** Names that must be rejected, never spliced: quotes of every engine, a statement separator, a comment. */
export const HOSTILE_NAMES = [
  'x"; DROP TABLE sentinel; --',
  "x'; DROP TABLE sentinel; --",
  'x`; DROP TABLE sentinel; --',
  'x]; DROP TABLE sentinel; --',
  'x;y',
  'x--y',
  'x"y',
  "x'y",
];

export function defineLoadSuite(engine: EngineUnderTest, namespace: string): void {
  const state: { available?: boolean } = {};
  let dir: string;
  let bucket: FileBucket;
  let session: SqlSession;

  beforeAll(async () => {
    state.available = await engine.available();
    if (!state.available) return;
    await engine.reset(namespace);
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), `load-${namespace}-`));
    bucket = new FileBucket(path.join(dir, 'bucket'));
    session = await openSqlStore(engine.target(namespace), process.cwd(), engine.options);
  });
  afterAll(async () => {
    if (!state.available) return;
    await session?.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  async function put(name: string, content: string | Buffer) {
    const file = path.join(dir, 'upload.tmp');
    await fsp.writeFile(file, content);
    return bucket.upload(file, name);
  }

  const options = (over: Partial<LoadOptions> = {}): LoadOptions => ({
    session,
    bucket,
    datasets: [transactions],
    destination: '{dataset}/{file}',
    run: currentRun({}),
    log: silentLogger,
    ...over,
  });
  const t = (name: string) => session.dialect.table(name);
  const count = async (sql: string) => Number((await session.query<{ n: number }>(sql))[0]!.n);
  const select = async (sql: string) => normalize(await session.query(sql));
  const skip = () => !state.available;

  describe(`load into ${engine.name}`, () => {
    it('loads a dirty file with exact counts and a reason for every quarantined row', async (ctx) => {
      if (skip()) return ctx.skip();
      const dirty = Buffer.concat([
        Buffer.from('\ufeffMember_number,Date,itemDescription\r\n'),
        Buffer.from('1,2015-01-01,whole milk\r\n'),
        Buffer.from('1,2015-01-01,whole milk\r\n'), // an exact duplicate is kept: the notebooks drop it
        Buffer.from('\r\n'),
        Buffer.from('2,2015-02-30,yogurt\r\n'),
        Buffer.from('3,2015-03-01\r\n'),
        Buffer.from('4,2015-03-01,soda,extra\r\n'),
        Buffer.from('5,2015-03-01,caf'),
        Buffer.from([0xff]),
        Buffer.from('\r\n'),
        Buffer.from('6,01/03/2015,butter\r\n'),
        Buffer.from('7,2015-03-02,"pasta, dry"\r\n'),
        Buffer.from('8,2015-03-02,"crème ""fraîche"" 🧀"\r\n'),
      ]);
      await put('transactions/dirty.csv', dirty);
      const manifest = await load(options({ objects: ['transactions/dirty.csv'] }));
      const result = manifest.datasets[0]!.objects[0]!;
      expect(result).toMatchObject({
        status: 'loaded',
        rowsIn: 9,
        rowsLoaded: 4,
        rowsQuarantined: 5,
        blankLines: 1,
      });
      expect(result.problems).toEqual({
        'bad value in Date': 2,
        'wrong field count': 2,
        'invalid UTF-8': 1,
      });
      expect(
        await select(
          `SELECT member_number, txn_date, item, _source_line FROM ${t('transactions')} ORDER BY _source_line`,
        ),
      ).toEqual([
        { member_number: 1, txn_date: '2015-01-01T00:00:00.000Z', item: 'whole milk', _source_line: 2 },
        { member_number: 1, txn_date: '2015-01-01T00:00:00.000Z', item: 'whole milk', _source_line: 3 },
        { member_number: 7, txn_date: '2015-03-02T00:00:00.000Z', item: 'pasta, dry', _source_line: 10 },
        {
          member_number: 8,
          txn_date: '2015-03-02T00:00:00.000Z',
          item: 'crème "fraîche" 🧀',
          _source_line: 11,
        },
      ]);
      expect(
        await select(
          `SELECT line_number, reason, raw_text FROM ${t('lakehouse_quarantine')} ORDER BY line_number`,
        ),
      ).toEqual([
        {
          line_number: 5,
          reason: 'Date: "2015-02-30" is not a calendar date (YYYY-MM-DD)',
          raw_text: '2,2015-02-30,yogurt',
        },
        { line_number: 6, reason: 'expected 3 fields, found 2', raw_text: '3,2015-03-01' },
        { line_number: 7, reason: 'expected 3 fields, found 4', raw_text: '4,2015-03-01,soda,extra' },
        {
          line_number: 8,
          reason: 'invalid UTF-8 at byte 17 of the line',
          raw_text: '5,2015-03-01,caf\\xff',
        },
        {
          line_number: 9,
          reason: 'Date: expected a date as YYYY-MM-DD, found "01/03/2015"',
          raw_text: '6,01/03/2015,butter',
        },
      ]);
      const again = await load(options({ objects: ['transactions/dirty.csv'] }));
      expect(again.totals).toMatchObject({ loaded: 0, skipped: 1, rowsIn: 0 });
      expect(await count(`SELECT count(*) AS n FROM ${t('lakehouse_quarantine')}`)).toBe(5);
      expect(await count(`SELECT count(*) AS n FROM ${t('lakehouse_load_audit')}`)).toBe(1);
    });

    it('changes nothing when the load fails inside the transaction, and loads the object once next time', async (ctx) => {
      if (skip()) return ctx.skip();
      await put(
        'transactions/fail.csv',
        'Member_number,Date,itemDescription\n10,2015-05-05,soda\n11,2015-05-05,x,y\n',
      );
      const snapshot = async () => ({
        target: await count(`SELECT count(*) AS n FROM ${t('transactions')}`),
        audit: await count(`SELECT count(*) AS n FROM ${t('lakehouse_load_audit')}`),
        quarantine: await count(`SELECT count(*) AS n FROM ${t('lakehouse_quarantine')}`),
      });
      const before = await snapshot();
      for (const hook of ['afterStaging', 'beforeCommit'] as const) {
        const failed = await load(
          options({
            objects: ['transactions/fail.csv'],
            hooks: {
              [hook]: async () => {
                throw new Error(`simulated crash (${hook})`);
              },
            },
          }),
        );
        expect(failed.datasets[0]!.objects[0]).toMatchObject({
          status: 'failed',
          reason: `simulated crash (${hook}) (rolled back: nothing from this object is visible)`,
        });
        expect(await snapshot()).toEqual(before);
      }

      const retried = await load(options({ objects: ['transactions/fail.csv'] }));
      expect(retried.totals).toMatchObject({ loaded: 1, rowsLoaded: 1, rowsQuarantined: 1 });
      expect(
        await count(
          `SELECT count(*) AS n FROM ${t('transactions')} WHERE _source_object = 'transactions/fail.csv'`,
        ),
      ).toBe(1);
      expect((await load(options({ objects: ['transactions/fail.csv'] }))).totals.skipped).toBe(1);
    });

    it('replaces the rows of an earlier generation when an object changes', async (ctx) => {
      if (skip()) return ctx.skip();
      await put(
        'transactions/change.csv',
        'Member_number,Date,itemDescription\n20,2015-06-01,a\n21,2015-06-01,b\n',
      );
      await load(options({ objects: ['transactions/change.csv'] }));
      await put('transactions/change.csv', 'Member_number,Date,itemDescription\n20,2015-06-01,a\n');
      const second = await load(options({ objects: ['transactions/change.csv'] }));
      expect(second.datasets[0]!.objects[0]).toMatchObject({
        status: 'loaded',
        rowsLoaded: 1,
        rowsReplaced: 2,
      });
      expect(
        await count(
          `SELECT count(*) AS n FROM ${t('transactions')} WHERE _source_object = 'transactions/change.csv'`,
        ),
      ).toBe(1);
    });

    it("fails an object the parser rejects midway, with the parser's reason, through the bulk path", async (ctx) => {
      if (skip()) return ctx.skip();
      // The bad record comes after enough good ones to be mid-stream in every bulk path.
      const good = Array.from({ length: 30_000 }, (_, i) => `${i},2015-08-01,tea\n`).join('');
      await put('transactions/broken.csv', `Member_number,Date,itemDescription\n${good}`);
      await put('transactions/no-header.csv', 'Member_number,Date\n1,2015-08-01\n');
      const before = await count(`SELECT count(*) AS n FROM ${t('transactions')}`);
      const result = await load(options({ objects: ['transactions/no-header.csv'] }));
      expect(result.datasets[0]!.objects[0]).toMatchObject({
        status: 'failed',
        reason:
          'header has no column "itemDescription" (expected Member_number, Date, itemDescription; found Member_number, Date) (rolled back: nothing from this object is visible)',
      });
      const broken = await load(
        options({
          objects: ['transactions/broken.csv'],
          bucket: failingAfter(bucket, 'transactions/broken.csv', 200_000),
        }),
      );
      expect(broken.datasets[0]!.objects[0]).toMatchObject({ status: 'failed' });
      expect(broken.datasets[0]!.objects[0]!.reason).toMatch(/^disk read error after 200000 bytes/);
      expect(await count(`SELECT count(*) AS n FROM ${t('transactions')}`)).toBe(before);
      // The session is usable afterwards (a driver left mid-COPY or mid-LOAD DATA would not be).
      expect((await load(options({ objects: ['transactions/broken.csv'] }))).totals).toMatchObject({
        loaded: 1,
        rowsLoaded: 30_000,
      });
    });

    it('lets one of two concurrent loads of an object claim it; the other writes nothing and skips it', async (ctx) => {
      // PGlite is one process's embedded database: there is no second session to race with.
      if (skip() || session.engine === 'pglite') return ctx.skip();
      await put(
        'transactions/race.csv',
        'Member_number,Date,itemDescription\n40,2015-09-01,a\n41,2015-09-01,b\n',
      );
      const other = await openSqlStore(engine.target(namespace), process.cwd(), engine.options);
      try {
        let release = () => {};
        const gate = new Promise<void>((resolve) => (release = resolve));
        let claimed = () => {};
        const firstClaimed = new Promise<void>((resolve) => (claimed = resolve));
        const first = load(
          options({
            objects: ['transactions/race.csv'],
            hooks: {
              afterStaging: async () => {
                claimed();
                await gate;
              },
            },
          }),
        );
        await firstClaimed;
        // The second load finds nothing loaded yet and waits on the first one's audit row.
        const second = load(options({ session: other, objects: ['transactions/race.csv'] }));
        await sleep(2000);
        release();
        const [a, b] = await Promise.all([first, second]);
        expect(a.datasets[0]!.objects[0]).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
        expect(b.datasets[0]!.objects[0]).toMatchObject({
          status: 'skipped',
          reason: `already being loaded by run ${a.runId}, which claimed generation ${a.datasets[0]!.objects[0]!.generation} first; this run wrote nothing for it`,
        });
      } finally {
        await other.close();
      }
      expect(
        await count(
          `SELECT count(*) AS n FROM ${t('transactions')} WHERE _source_object = 'transactions/race.csv'`,
        ),
      ).toBe(2);
      expect(
        await count(
          `SELECT count(*) AS n FROM ${t('lakehouse_load_audit')} WHERE object_name = 'transactions/race.csv'`,
        ),
      ).toBe(1);
    });

    it('plans without writing on a dry run', async (ctx) => {
      if (skip()) return ctx.skip();
      await put('transactions/dry.csv', 'Member_number,Date,itemDescription\n30,2015-07-01,tea\n');
      const before = await count(`SELECT count(*) AS n FROM ${t('transactions')}`);
      const dry = await load(options({ objects: ['transactions/dry.csv'], dryRun: true }));
      expect(dry.datasets[0]!.objects[0]).toMatchObject({ status: 'planned', reason: 'would load' });
      expect(await count(`SELECT count(*) AS n FROM ${t('transactions')}`)).toBe(before);
    });

    it('merges on keys: every type, superseded duplicates quarantined, matched rows updated', async (ctx) => {
      if (skip()) return ctx.skip();
      const header = 'sku,day,price,units,ratio,active,seen_at,note\n';
      await put(
        'prices/a.csv',
        header +
          'A-1,2015-01-01,1.50,10,0.25,true,2015-01-01T08:00:00,first\n' +
          'A-1,2015-01-01,1.75,11,0.5,yes,2015-01-01 09:30:15.5,second\n' + // supersedes line 2
          'B-2,2015-01-01,99999999.99,-9223372036854775807,1e-7,false,2015-01-01T10:00:00+02:00,\n' +
          ',2015-01-02,1,1,1,true,2015-01-02T00:00:00,empty key\n' +
          `${'L'.repeat(300)},2015-01-01,1,1,1,true,2015-01-02T00:00:00,long key\n`,
      );
      const first = await load(options({ datasets: [prices], objects: ['prices/a.csv'] }));
      const a = first.datasets[0]!.objects[0]!;
      // A 300-character key fits PostgreSQL's TEXT key, not MySQL's or SQL Server's indexed VARCHAR.
      const longKeyFits = session.dialect.engine === 'postgres' || session.dialect.engine === 'pglite';
      expect(a).toMatchObject({
        status: 'loaded',
        rowsIn: 5,
        rowsLoaded: longKeyFits ? 3 : 2,
        rowsQuarantined: longKeyFits ? 2 : 3,
      });
      expect(a.problems).toEqual({
        'duplicate key': 1,
        'bad value in sku': longKeyFits ? 1 : 2,
      });
      const quarantined = await select(
        `SELECT line_number, reason FROM ${t('lakehouse_quarantine')} WHERE object_name = 'prices/a.csv' ORDER BY line_number`,
      );
      expect(quarantined.slice(0, 2)).toEqual([
        { line_number: 2, reason: 'duplicate key (sku, day): superseded by line 3' },
        { line_number: 5, reason: 'sku: empty, but the column is not nullable' },
      ]);
      if (!longKeyFits)
        expect(quarantined[2]!.reason).toMatch(
          /^sku: longer than \d+ characters, the most a key column holds in /,
        );

      await put(
        'prices/b.csv',
        header +
          'B-2,2015-01-01,2.00,3,2.5,true,2015-03-01T00:00:00.123456,updated\n' +
          'C-3,2015-01-01,0.01,0,0,no,,new\n',
      );
      const second = await load(options({ datasets: [prices], objects: ['prices/b.csv'] }));
      expect(second.totals).toMatchObject({ loaded: 1, rowsLoaded: 2, rowsQuarantined: 0 });
      const rows = await select(
        `SELECT sku, day, price, units, ratio, active, seen_at, note, _source_object, _source_line FROM ${t('prices')} WHERE sku IN ('A-1', 'B-2', 'C-3') ORDER BY sku`,
      );
      expect(rows).toEqual([
        {
          sku: 'A-1',
          day: '2015-01-01T00:00:00.000Z',
          price: 1.75,
          units: 11,
          ratio: 0.5,
          active: 1,
          seen_at: '2015-01-01T09:30:15.500Z',
          note: 'second',
          _source_object: 'prices/a.csv',
          _source_line: 3,
        },
        {
          sku: 'B-2',
          day: '2015-01-01T00:00:00.000Z',
          price: 2,
          units: 3,
          ratio: 2.5,
          active: 1,
          seen_at: '2015-03-01T00:00:00.123Z',
          note: 'updated',
          _source_object: 'prices/b.csv',
          _source_line: 2,
        },
        {
          sku: 'C-3',
          day: '2015-01-01T00:00:00.000Z',
          price: 0.01,
          units: 0,
          ratio: 0,
          active: 0,
          seen_at: null,
          note: 'new',
          _source_object: 'prices/b.csv',
          _source_line: 3,
        },
      ]);
      expect(
        (await load(options({ datasets: [prices], objects: ['prices/a.csv', 'prices/b.csv'] }))).totals,
      ).toMatchObject({
        skipped: 2,
        loaded: 0,
      });
    });

    it('keeps the extremes of each type exactly', async (ctx) => {
      if (skip()) return ctx.skip();
      const header = 'sku,day,price,units,ratio,active,seen_at,note\n';
      await put(
        'prices/extremes.csv',
        header +
          'X-1,9999-12-31,-99999999.99,-9223372036854775808,1.7976931348623157e308,false,1999-12-31T23:59:59.123456Z,\n' +
          'X-2,1000-01-01,99999999.99,9223372036854775807,-2.2250738585072014e-308,TRUE,2015-06-30T12:00:00-05:30,"ünï, ""x"""\n',
      );
      const result = await load(options({ datasets: [prices], objects: ['prices/extremes.csv'] }));
      expect(result.totals).toMatchObject({ rowsLoaded: 2, rowsQuarantined: 0 });
      const rows = await session.query<Record<string, unknown>>(
        `SELECT sku, price, units, ratio, seen_at, note FROM ${t('prices')} WHERE sku IN ('X-1', 'X-2') ORDER BY sku`,
      );
      expect(rows.map((r) => [String(r.price), String(r.units), Number(r.ratio), r.note])).toEqual([
        ['-99999999.99', '-9223372036854775808', 1.7976931348623157e308, null],
        ['99999999.99', '9223372036854775807', -2.2250738585072014e-308, 'ünï, "x"'],
      ]);
      expect(normalize(rows).map((r) => r.seen_at)).toEqual([
        '1999-12-31T23:59:59.123Z',
        '2015-06-30T17:30:00.000Z',
      ]);
    });

    it('rejects hostile table and column names before any SQL runs, and quotes reserved words', async (ctx) => {
      if (skip()) return ctx.skip();
      const sentinel: DatasetConfig = {
        ...transactions,
        name: 'sentinel',
        load: { mode: 'append', table: 'sentinel' },
      };
      for (const ddl of session.dialect.ensureTables(loadTables(sentinel))) await session.execute(ddl);
      await put('transactions/hostile.csv', 'Member_number,Date,itemDescription\n1,2015-01-01,milk\n');
      for (const name of HOSTILE_NAMES) {
        expect(() => session.dialect.quote(name)).toThrow(/expected letters, digits and _/);
        const asTable: DatasetConfig = { ...transactions, load: { mode: 'append', table: name } };
        await expect(
          load(options({ datasets: [asTable], objects: ['transactions/hostile.csv'] })),
        ).rejects.toThrow(/expected letters, digits and _/);
        const asColumn: DatasetConfig = {
          ...transactions,
          columns: [
            ...transactions.columns.slice(0, 2),
            { name, source: 'itemDescription', type: 'string', nullable: false },
          ],
          load: { mode: 'append', table: 'hostile_column' },
        };
        await expect(
          load(options({ datasets: [asColumn], objects: ['transactions/hostile.csv'] })),
        ).rejects.toThrow(/expected letters, digits and _/);
        expect(() => parseConfig(configWithNames(name, 'item'), 'lakehouse.yml')).toThrow(
          /load\.table: expected a SQL identifier/,
        );
        expect(() => parseConfig(configWithNames('t', name), 'lakehouse.yml')).toThrow(
          /columns\[0\]\.name: expected a SQL identifier/,
        );
      }
      expect(await count(`SELECT count(*) AS n FROM ${t('sentinel')}`)).toBe(0);

      // Reserved words and mixed case are legal identifiers: quoting makes them work on every engine.
      const reserved: DatasetConfig = {
        ...transactions,
        name: 'reserved',
        columns: [
          { name: 'select', source: 'Member_number', type: 'integer', nullable: false },
          { name: 'Order', source: 'Date', type: 'date', format: 'YYYY-MM-DD', nullable: false },
          { name: 'from', source: 'itemDescription', type: 'string', nullable: false },
        ],
        keys: ['select', 'from'],
        load: { mode: 'merge', table: 'table' },
      };
      await put(
        'reserved/r.csv',
        'Member_number,Date,itemDescription\n1,2015-01-01,milk\n1,2015-01-02,milk\n',
      );
      const merged = await load(options({ datasets: [reserved], objects: ['reserved/r.csv'] }));
      expect(merged.totals).toMatchObject({ rowsLoaded: 1, rowsQuarantined: 1 });
      const q = (n: string) => session.dialect.quote(n);
      expect(await select(`SELECT ${q('select')}, ${q('Order')}, ${q('from')} FROM ${t('table')}`)).toEqual([
        { select: 1, Order: '2015-01-02T00:00:00.000Z', from: 'milk' },
      ]);
    });
  });

  describe(`the real groceries dataset into ${engine.name}`, () => {
    let haveShared = false;
    beforeAll(async () => {
      haveShared = !skip() && (await needsShared());
    });

    it('loads 38,765 rows in, all accounted for, exactly once', async (ctx) => {
      if (!haveShared) return ctx.skip();
      const source = path.join(sharedDir, 'data/groceries/transactions.csv');
      await bucket.upload(source, 'real/transactions.csv');
      const real = { ...transactions, load: { mode: 'append' as const, table: 'real_transactions' } };
      const manifest = await load(options({ destination: 'real/{file}', datasets: [real] }));
      const totals = manifest.totals;
      expect(totals).toMatchObject({ rowsIn: 38_765, rowsLoaded: 38_765, rowsQuarantined: 0, blankLines: 0 });
      expect(await count(`SELECT count(DISTINCT item) AS n FROM ${t('real_transactions')}`)).toBe(167);
      expect(
        await count(`SELECT count(*) AS n FROM ${t('real_transactions')} WHERE item = 'whole milk'`),
      ).toBe(2502);
      expect(
        await count(
          `SELECT count(*) AS n FROM (SELECT DISTINCT member_number, txn_date FROM ${t('real_transactions')}) b`,
        ),
      ).toBe(14_963);
      const again = await load(options({ destination: 'real/{file}', datasets: [real] }));
      expect(again.totals).toMatchObject({ skipped: 1, loaded: 0, rowsLoaded: 0 });
      expect(await count(`SELECT count(*) AS n FROM ${t('real_transactions')}`)).toBe(38_765);
    });
  });
}

/** A minimal lakehouse.yml with the given table and column name, as a user would write them. */
function configWithNames(table: string, column: string): string {
  return [
    'project: p',
    'datasets:',
    '  - name: d',
    '    source: { path: data }',
    '    format: csv',
    `    columns: [{ name: ${JSON.stringify(column)}, type: string }]`,
    `    load: { mode: append, table: ${JSON.stringify(table)} }`,
    'profiles:',
    '  local: { bucket: "file://b", sql: { engine: pglite, path: p } }',
  ].join('\n');
}

/** The bucket, except that reading `objectName` fails after `afterBytes` (a disk or network error mid-read). */
function failingAfter(bucket: Bucket, objectName: string, afterBytes: number): Bucket {
  async function* fail(stream: Readable): AsyncGenerator<Buffer> {
    let read = 0;
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      if (read + buffer.length > afterBytes) {
        yield buffer.subarray(0, afterBytes - read);
        stream.destroy();
        throw new Error(`disk read error after ${afterBytes} bytes`);
      }
      read += buffer.length;
      yield buffer;
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
      return name === objectName ? Readable.from(fail(stream)) : stream;
    },
  };
}
