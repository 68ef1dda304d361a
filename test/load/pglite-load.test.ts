import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBucket } from '../../src/bucket/file.ts';
import type { DatasetConfig } from '../../src/config/schema.ts';
import { openPglite, type PgliteSession } from '../../src/sql/pglite.ts';
import { load, type LoadOptions } from '../../src/stages/load.ts';
import { silentLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { needsShared, sharedDir } from '../helpers/services.ts';

const transactions: DatasetConfig = {
  name: 'transactions',
  source: { path: 'unused', glob: '*.csv' },
  format: 'csv',
  csv: { header: true, delimiter: ',' },
  columns: [
    { name: 'member_number', source: 'Member_number', type: 'integer', nullable: false },
    { name: 'txn_date', source: 'Date', type: 'date', format: 'YYYY-MM-DD', nullable: false },
    { name: 'item', source: 'itemDescription', type: 'string', nullable: false },
  ],
  keys: [],
  load: { mode: 'append', table: 'transactions' },
};

let dir: string;
let bucket: FileBucket;
let session: PgliteSession;

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'load-'));
  bucket = new FileBucket(path.join(dir, 'bucket'));
  session = await openPglite(path.join(dir, 'pglite'));
});
afterAll(async () => {
  await session.close();
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

const count = async (sql: string) => Number((await session.query<{ n: number }>(sql))[0]!.n);

describe('load into PGlite', () => {
  it('loads a dirty file with exact counts and a reason for every quarantined row', async () => {
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
    ]);
    await put('transactions/dirty.csv', dirty);
    const manifest = await load(options({ objects: ['transactions/dirty.csv'] }));
    const result = manifest.datasets[0]!.objects[0]!;
    expect(result).toMatchObject({
      status: 'loaded',
      rowsIn: 8,
      rowsLoaded: 3,
      rowsQuarantined: 5,
      blankLines: 1,
    });
    expect(result.problems).toEqual({ 'bad value in Date': 2, 'wrong field count': 2, 'invalid UTF-8': 1 });
    expect(
      await session.query('SELECT member_number, item, _source_line FROM transactions ORDER BY _source_line'),
    ).toEqual([
      { member_number: 1, item: 'whole milk', _source_line: 2 },
      { member_number: 1, item: 'whole milk', _source_line: 3 },
      { member_number: 7, item: 'pasta, dry', _source_line: 10 },
    ]);
    expect(
      await session.query(
        'SELECT line_number, reason, raw_text FROM lakehouse_quarantine ORDER BY line_number',
      ),
    ).toEqual([
      {
        line_number: 5,
        reason: 'Date: "2015-02-30" is not a calendar date (YYYY-MM-DD)',
        raw_text: '2,2015-02-30,yogurt',
      },
      { line_number: 6, reason: 'expected 3 fields, found 2', raw_text: '3,2015-03-01' },
      { line_number: 7, reason: 'expected 3 fields, found 4', raw_text: '4,2015-03-01,soda,extra' },
      { line_number: 8, reason: 'invalid UTF-8 at byte 17 of the line', raw_text: '5,2015-03-01,caf\ufffd' },
      {
        line_number: 9,
        reason: 'Date: expected a date as YYYY-MM-DD, found "01/03/2015"',
        raw_text: '6,01/03/2015,butter',
      },
    ]);
    const again = await load(options({ objects: ['transactions/dirty.csv'] }));
    expect(again.totals).toMatchObject({ loaded: 0, skipped: 1, rowsIn: 0 });
    expect(await count('SELECT count(*) AS n FROM lakehouse_quarantine')).toBe(5);
  });

  it('changes nothing when the load fails inside the transaction, and loads the object once next time', async () => {
    await put(
      'transactions/fail.csv',
      'Member_number,Date,itemDescription\n10,2015-05-05,soda\n11,2015-05-05,x,y\n',
    );
    const before = {
      target: await count('SELECT count(*) AS n FROM transactions'),
      audit: await count('SELECT count(*) AS n FROM lakehouse_load_audit'),
      quarantine: await count('SELECT count(*) AS n FROM lakehouse_quarantine'),
    };
    const failed = await load(
      options({
        objects: ['transactions/fail.csv'],
        hooks: {
          afterStaging: async () => {
            throw new Error('simulated crash after staging');
          },
        },
      }),
    );
    expect(failed.datasets[0]!.objects[0]).toMatchObject({
      status: 'failed',
      reason: 'simulated crash after staging (rolled back: nothing from this object is visible)',
    });
    expect({
      target: await count('SELECT count(*) AS n FROM transactions'),
      audit: await count('SELECT count(*) AS n FROM lakehouse_load_audit'),
      quarantine: await count('SELECT count(*) AS n FROM lakehouse_quarantine'),
    }).toEqual(before);

    const retried = await load(options({ objects: ['transactions/fail.csv'] }));
    expect(retried.totals).toMatchObject({ loaded: 1, rowsLoaded: 1, rowsQuarantined: 1 });
    expect(
      await count(`SELECT count(*) AS n FROM transactions WHERE _source_object = 'transactions/fail.csv'`),
    ).toBe(1);
    expect((await load(options({ objects: ['transactions/fail.csv'] }))).totals.skipped).toBe(1);
  });

  it('replaces the rows of an earlier generation when an object changes', async () => {
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
      await count(`SELECT count(*) AS n FROM transactions WHERE _source_object = 'transactions/change.csv'`),
    ).toBe(1);
  });
});

const haveShared = await needsShared();
describe.skipIf(!haveShared)('the real groceries dataset', () => {
  it('loads 38,765 rows in, all accounted for, exactly once', async () => {
    const source = path.join(sharedDir, 'data/groceries/transactions.csv');
    await bucket.upload(source, 'real/transactions.csv');
    const manifest = await load(
      options({
        destination: 'real/{file}',
        datasets: [{ ...transactions, load: { mode: 'append', table: 'real_transactions' } }],
      }),
    );
    const totals = manifest.totals;
    expect(totals.rowsIn).toBe(38_765);
    expect(totals.rowsLoaded + totals.rowsQuarantined).toBe(totals.rowsIn);
    expect(totals).toMatchObject({ rowsLoaded: 38_765, rowsQuarantined: 0, blankLines: 0 });
    expect(await count('SELECT count(DISTINCT item) AS n FROM real_transactions')).toBe(167);
    expect(await count(`SELECT count(*) AS n FROM real_transactions WHERE item = 'whole milk'`)).toBe(2502);
    expect(
      await count(
        'SELECT count(*) AS n FROM (SELECT DISTINCT member_number, txn_date FROM real_transactions) b',
      ),
    ).toBe(14_963);
    const again = await load(
      options({
        destination: 'real/{file}',
        datasets: [{ ...transactions, load: { mode: 'append', table: 'real_transactions' } }],
      }),
    );
    expect(again.totals).toMatchObject({ skipped: 1, rowsLoaded: 0 });
    expect(await count('SELECT count(*) AS n FROM real_transactions')).toBe(38_765);
  });
});
