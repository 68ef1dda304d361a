// The runner on real DuckDB and PGlite: every statement form, parameters, assertions, and every error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, JS } from '@duckdb/node-api';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NotebookError } from '../../src/notebooks/parser.ts';
import {
  NotebookAssertionError,
  runNotebooks,
  type RunNotebooksOptions,
  type TableWritten,
} from '../../src/notebooks/runner.ts';
import { SECRET_MESSAGE } from '../../src/notebooks/spark-compat.ts';
import { createDuckDBTableStore } from '../../src/notebooks/table-store.ts';
import { allNotebooks, createLoadedStore, DATASET, loadCsv, openDuckDB, pgliteSource } from './helpers.ts';

let dir: string;
let db: PGlite;
let duck: Awaited<ReturnType<typeof openDuckDB>>;
let conn: DuckDBConnection;
let counter = 0;

/** Writes a notebook whose cells are the given texts; returns its path. */
function notebook(...cells: string[]): string {
  const file = path.join(dir, `nb${++counter}.sql`);
  fs.writeFileSync(file, `-- Databricks notebook source\n${cells.join('\n\n-- COMMAND ----------\n\n')}\n`);
  return file;
}

const run = (notebooks: string[], extra: Partial<RunNotebooksOptions> = {}) =>
  runNotebooks({
    notebooks,
    conn,
    tables: createDuckDBTableStore(conn),
    source: pgliteSource(db),
    ...extra,
  });

async function failure(promise: Promise<unknown>): Promise<NotebookError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof NotebookError) return e;
    throw e;
  }
  throw new Error('expected the run to fail');
}

const rows = async (sql: string): Promise<Record<string, JS>[]> =>
  (await conn.runAndReadAll(sql)).getRowObjectsJS();
const relative = (file: string) => path.relative(process.cwd(), file);

const EXTRACT = `CREATE OR REPLACE TEMPORARY VIEW raw USING sqlserver OPTIONS (
  host secret('lakehouse', 'host'), dbtable 'dbo.transactions',
  user secret('lakehouse', 'user'), password secret('lakehouse', 'password'))`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-test-'));
  db = await createLoadedStore();
  duck = await openDuckDB();
  conn = duck.conn;
});

afterAll(async () => {
  duck?.close();
  await db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await db.exec('TRUNCATE transactions; TRUNCATE lakehouse_load_audit;');
  await loadCsv(
    db,
    'Member_number,Date,itemDescription\n1,2015-01-02,milk\n1,2015-01-02,bread\n2,2015-01-03,milk\n',
  );
});

describe('runNotebooks: the statement forms', () => {
  it('extracts, creates, inserts, merges, makes views and answers queries', async () => {
    const written: TableWritten[] = [];
    const file = notebook(
      'CREATE SCHEMA IF NOT EXISTS s1',
      `-- DBTITLE 1,Extract\n${EXTRACT}`,
      'CREATE OR REPLACE TABLE s1.items USING DELTA PARTITIONED BY (member_number) AS SELECT member_number, item FROM raw',
      "INSERT INTO s1.items SELECT 3, 'eggs'",
      `MERGE INTO s1.items AS t USING (SELECT 3 AS member_number, 'tea' AS item UNION ALL SELECT 4, 'jam') AS u
         ON t.member_number = u.member_number
         WHEN MATCHED THEN UPDATE SET item = u.item
         WHEN NOT MATCHED THEN INSERT (member_number, item) VALUES (u.member_number, u.item)`,
      'CREATE OR REPLACE TEMPORARY VIEW by_member AS SELECT member_number, count(*) AS n FROM s1.items GROUP BY member_number',
      'SELECT * FROM by_member ORDER BY member_number',
    );
    const result = await run([file], { onTable: (w) => written.push(w) });
    const nb = relative(file);
    expect(result.tables).toEqual([
      { table: 's1.items', operation: 'create or replace', rows: 3, notebook: nb, cell: 3 },
      { table: 's1.items', operation: 'insert', rows: 4, notebook: nb, cell: 4 },
      { table: 's1.items', operation: 'merge', rows: 5, notebook: nb, cell: 5 },
    ]);
    expect(written).toEqual(result.tables);
    const cells = result.notebooks[0]!.cells;
    expect(cells.map((c) => [c.index, c.title, c.statements.map((s) => s.kind)])).toEqual([
      [1, undefined, ['create-schema']],
      [2, 'Extract', ['extract']],
      [3, undefined, ['table']],
      [4, undefined, ['table']],
      [5, undefined, ['table']],
      [6, undefined, ['temp-view']],
      [7, undefined, ['query']],
    ]);
    expect(cells[1]!.statements[0]).toEqual({
      kind: 'extract',
      view: 'raw',
      dbtable: 'dbo.transactions',
      rows: 3,
    });
    expect(cells[6]!.statements[0]).toEqual({
      kind: 'query',
      columns: ['member_number', 'n'],
      rows: [
        { member_number: 1n, n: 2n },
        { member_number: 2n, n: 1n },
        { member_number: 3n, n: 1n },
        { member_number: 4n, n: 1n },
      ],
      truncated: false,
    });
    expect(await rows('SELECT item FROM s1.items WHERE member_number = 3')).toEqual([{ item: 'tea' }]);
  });

  it('keeps the first maxResultRows rows of a query and says it truncated', async () => {
    const result = await run([notebook('SELECT range AS n FROM range(5000)')], { maxResultRows: 3 });
    const query = result.notebooks[0]!.cells[0]!.statements[0]!;
    expect(query).toEqual({
      kind: 'query',
      columns: ['n'],
      rows: [{ n: 0n }, { n: 1n }, { n: 2n }],
      truncated: true,
    });
  });

  it('runs notebooks in order, so that a later one reads the tables of an earlier one', async () => {
    const first = notebook('CREATE OR REPLACE TABLE s2.a AS SELECT 41 AS x');
    const second = notebook('CREATE OR REPLACE TABLE s2.b AS SELECT x + 1 AS y FROM s2.a');
    const result = await run([first, second]);
    expect(result.notebooks.map((n) => n.path)).toEqual([relative(first), relative(second)]);
    expect(await rows('SELECT y FROM s2.b')).toEqual([{ y: 42 }]);
  });

  it('binds parameters as typed values, in tables and queries', async () => {
    const file = notebook(
      `CREATE OR REPLACE TABLE s3.p AS
         SELECT CAST(:threshold AS DOUBLE) * 2 AS doubled, :label AS label, :count + 1 AS next, :flag AS flag,
                typeof(:threshold) AS threshold_type, typeof(:count) AS count_type`,
      "SELECT label FROM s3.p WHERE label = :label AND :label <> 'x''y'",
    );
    const result = await run([file], { params: { threshold: 0.25, label: "it's", count: 41, flag: false } });
    expect(await rows('SELECT * FROM s3.p')).toEqual([
      { doubled: 0.5, label: "it's", next: 42n, flag: false, threshold_type: 'DOUBLE', count_type: 'BIGINT' },
    ]);
    expect(result.notebooks[0]!.cells[1]!.statements[0]).toMatchObject({ rows: [{ label: "it's" }] });
  });

  it('passes assertions that hold and stops at the first that fails, naming notebook, cell and message', async () => {
    const file = notebook(
      "SELECT assert_true(count(*) = 3, 'three rows') FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) t",
      "-- DBTITLE 1,Quality\nSELECT assert_true(n > 5, concat('only ', CAST(n AS STRING), ' rows'))\nFROM (SELECT count(*) AS n FROM range(2)) c",
      'CREATE OR REPLACE TABLE s4.after_failure AS SELECT 1 AS x',
    );
    const e = await failure(run([file]));
    expect(e).toBeInstanceOf(NotebookAssertionError);
    expect(e.message).toBe(`${relative(file)}, cell 2 "Quality" (line 7): assertion failed: only 2 rows`);
    expect(await rows("SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 's4'")).toEqual([
      { n: 0n },
    ]);
  });

  it('fails an assertion whose condition is NULL, as Spark does', async () => {
    const e = await failure(run([notebook("SELECT assert_true(CAST(NULL AS BOOLEAN), 'unknown')")]));
    expect(e).toBeInstanceOf(NotebookAssertionError);
    expect(e.detail).toBe('assertion failed: unknown');
    const one = await failure(run([notebook('SELECT assert_true(1 = 2)')]));
    expect(one.detail).toBe('assertion failed: assert_true(...) is not true');
  });
});

describe('runNotebooks: errors name the notebook and the cell', () => {
  it('rejects a statement outside the documented forms', async () => {
    const file = notebook('SELECT 1', '-- DBTITLE 1,Cleanup\nDROP TABLE gold.x');
    const e = await failure(run([file]));
    expect(e.message).toMatch(
      new RegExp(
        `^${relative(file)}, cell 2 "Cleanup" \\(line 7\\): 'DROP TABLE gold\\.x' is not one of the statement forms`,
      ),
    );
  });

  it('reports a DuckDB error with its location', async () => {
    const file = notebook('SELECT no_such_column FROM range(1)');
    const e = await failure(run([file]));
    expect(e.message).toMatch(
      new RegExp(
        `^${relative(file)}, cell 1 \\(line 2\\): Binder Error: Referenced column "no_such_column" not found`,
      ),
    );
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('reports a parameter without a value, and parameters in a view definition', async () => {
    const missing = notebook('SELECT 1', 'SELECT *\nFROM range(3)\nWHERE range < :limit');
    expect((await failure(run([missing], { params: { other: 1 } }))).message).toBe(
      `${relative(missing)}, cell 2 (line 8): parameter :limit has no value (parameters given: other)`,
    );
    const view = notebook('CREATE OR REPLACE TEMP VIEW v AS SELECT * FROM range(3) WHERE range < :limit');
    expect((await failure(run([view], { params: { limit: 2 } }))).message).toBe(
      `${relative(view)}, cell 1 (line 2): temporary view v uses parameter markers (:limit), which Databricks does not allow in a view definition: use them in the query that reads the view`,
    );
  });

  it('rejects double-quoted strings', async () => {
    const file = notebook('SELECT "milk" AS item');
    expect((await failure(run([file]))).message).toMatch(
      /cell 1 \(line 2\): "milk" is a string in Spark SQL but a name in DuckDB/,
    );
  });

  it('refuses to resolve secret() locally', async () => {
    const file = notebook("SELECT secret('lakehouse', 'password') AS p");
    expect((await failure(run([file]))).message).toBe(
      `${relative(file)}, cell 1 (line 2): Invalid Input Error: secret(lakehouse, password) ${SECRET_MESSAGE}`,
    );
  });

  it('reports a PARTITIONED BY column the query does not return', async () => {
    const file = notebook('CREATE OR REPLACE TABLE s5.t PARTITIONED BY (year) AS SELECT 1 AS month');
    expect((await failure(run([file]))).message).toBe(
      `${relative(file)}, cell 1 (line 2): PARTITIONED BY names year, which the query for s5.t does not return (columns: month)`,
    );
  });

  it('reports an extraction without dbtable, or of a table the store lacks', async () => {
    const noTable = notebook("CREATE OR REPLACE TEMP VIEW r USING jdbc OPTIONS (url 'jdbc:sqlserver://x')");
    expect((await failure(run([noTable]))).message).toBe(
      `${relative(noTable)}, cell 1 (line 2): OPTIONS must name the table to extract with dbtable 'schema.table' (options given: url)`,
    );
    const absent = notebook("CREATE OR REPLACE TEMP VIEW r USING sqlserver OPTIONS (dbtable 'dbo.nothing')");
    expect((await failure(run([absent]))).message).toBe(
      `${relative(absent)}, cell 1 (line 2): table public.nothing does not exist in PGlite at (in memory) (no table or view of that name)`,
    );
  });

  it('reports a notebook that does not parse, before running anything', async () => {
    const first = notebook('CREATE OR REPLACE TABLE s6.t AS SELECT 1 AS x');
    const file = notebook('CREATE OR REPLACE TABLE s6.u AS SELECT 1 AS x', "SELECT 'unterminated");
    expect((await failure(run([first, file]))).message).toBe(
      `${relative(file)}, cell 2 (line 6): unterminated string literal`,
    );
    expect(await rows("SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 's6'")).toEqual([
      { n: 0n },
    ]);
  });
});

describe('Spark-compatibility macros', () => {
  it('give Spark meanings to regexp_replace, dayofweek and weekofyear', async () => {
    const result = await run([
      notebook(
        `SELECT regexp_replace('a-b-c', '-', '+') AS replaced,
                dayofweek(DATE '2024-06-02') AS sunday, dayofweek(DATE '2024-06-08') AS saturday,
                weekofyear(DATE '2008-02-20') AS week_8, weekofyear(DATE '2021-01-01') AS week_53`,
      ),
    ]);
    expect(result.notebooks[0]!.cells[0]!.statements[0]).toMatchObject({
      rows: [{ replaced: 'a+b+c', sunday: 1, saturday: 7, week_8: 8n, week_53: 53n }],
    });
  });

  it('raise_error stops the run with its message', async () => {
    const e = await failure(run([notebook("SELECT raise_error('stop here')")]));
    expect(e.detail).toBe('Invalid Input Error: stop here');
  });
});

describe('notebooks/01_extract_clean.sql on awkward data', () => {
  const extract = allNotebooks.find((f) => f.endsWith('01_extract_clean.sql'))!;
  // Each test starts with no silver tables, as a first run does: an increment reads only what changed.
  beforeEach(async () => {
    await conn.run('DROP SCHEMA IF EXISTS silver CASCADE');
  });

  it('trims names, strips carriage returns, keeps repeated lines as quantity and builds baskets', async () => {
    await db.exec('TRUNCATE transactions; TRUNCATE lakehouse_load_audit;');
    await loadCsv(
      db,
      'Member_number,Date,itemDescription\n' +
        '7,2015-03-01,"whole milk\r"\n7,2015-03-01,whole milk\n7,2015-03-01,  yogurt \n' +
        '7,2015-03-02,"cream cheese "\n8,2015-03-01,yogurt\n',
    );
    await run([extract], { params: { dataset: DATASET, full_refresh: false } });
    // basket_id = member_number * 100000 + days since 1970-01-01 (2015-03-01 is day 16495): stable across runs.
    expect(
      await rows(
        'SELECT basket_id, member_number, txn_date, item, quantity, basket_size FROM silver.transactions ORDER BY basket_id, item',
      ),
    ).toEqual([
      {
        basket_id: 716495n,
        member_number: 7n,
        txn_date: new Date('2015-03-01'),
        item: 'whole milk',
        quantity: 2,
        basket_size: 2,
      },
      {
        basket_id: 716495n,
        member_number: 7n,
        txn_date: new Date('2015-03-01'),
        item: 'yogurt',
        quantity: 1,
        basket_size: 2,
      },
      {
        basket_id: 716496n,
        member_number: 7n,
        txn_date: new Date('2015-03-02'),
        item: 'cream cheese',
        quantity: 1,
        basket_size: 1,
      },
      {
        basket_id: 816495n,
        member_number: 8n,
        txn_date: new Date('2015-03-01'),
        item: 'yogurt',
        quantity: 1,
        basket_size: 1,
      },
    ]);
    expect(
      await rows('SELECT basket_id, basket_size, quantity FROM silver.baskets ORDER BY basket_id'),
    ).toEqual([
      { basket_id: 716495n, basket_size: 2, quantity: 3 },
      { basket_id: 716496n, basket_size: 1, quantity: 1 },
      { basket_id: 816495n, basket_size: 1, quantity: 1 },
    ]);
  });

  it('stops when the extracted rows do not reconcile with the load audit', async () => {
    await db.exec(`UPDATE lakehouse_load_audit SET rows_loaded = 4`);
    const e = await failure(run([extract], { params: { dataset: DATASET, full_refresh: false } }));
    expect(e).toBeInstanceOf(NotebookAssertionError);
    expect(e.message).toContain('cell 5 "Check: extracted rows reconcile with the load audit"');
    expect(e.detail).toBe(
      `assertion failed: transactions_raw does not reconcile with lakehouse_load_audit for dataset ${DATASET}: 1 object(s) differ, first: groceries/transactions.csv: 3 rows extracted, 4 loaded`,
    );
  });

  it('stops when an object has rows but no audit record, or the dataset name is wrong', async () => {
    const e = await failure(run([extract], { params: { dataset: 'other', full_refresh: false } }));
    expect(e.detail).toBe(
      'assertion failed: transactions_raw does not reconcile with lakehouse_load_audit for dataset other: 1 object(s) differ, first: groceries/transactions.csv: 3 rows extracted, no audit record loaded',
    );
  });

  it('reconciles with the newest audit record of a reloaded object', async () => {
    await db.exec(
      `INSERT INTO lakehouse_load_audit VALUES ('${DATASET}', 'b', 'groceries/transactions.csv', 0, 'old', 99, 0, now() - interval '1 day')`,
    );
    await expect(
      run([extract], { params: { dataset: DATASET, full_refresh: false } }),
    ).resolves.toBeDefined();
  });

  it('stops on null keys, for stores that do not enforce them', async () => {
    await db.exec(
      'ALTER TABLE transactions ALTER COLUMN item DROP NOT NULL; UPDATE transactions SET item = NULL WHERE _source_line = 2',
    );
    try {
      const e = await failure(run([extract], { params: { dataset: DATASET, full_refresh: false } }));
      expect(e.message).toContain('cell 4 "Check: extracted keys are present"');
      expect(e.detail).toBe(
        'assertion failed: transactions_raw: 1 rows have a null member_number, txn_date or item',
      );
    } finally {
      await db.exec(
        'DELETE FROM transactions WHERE item IS NULL; ALTER TABLE transactions ALTER COLUMN item SET NOT NULL',
      );
    }
  });

  it('stops on dates out of range', async () => {
    await db.exec(`UPDATE transactions SET txn_date = DATE '1989-12-31' WHERE _source_line = 2`);
    const e = await failure(run([extract], { params: { dataset: DATASET, full_refresh: false } }));
    expect(e.detail).toBe(
      'assertion failed: silver.transactions: 1 rows have a date outside 1990-01-01 .. today (found 1989-12-31 .. 2015-01-03)',
    );
  });
});

describe('notebooks/04_basket_rules.sql parameters', () => {
  it('rejects a metric mlxtend does not know', async () => {
    const rules = allNotebooks.find((f) => f.endsWith('04_basket_rules.sql'))!;
    const e = await failure(
      run([rules], {
        params: { metric: 'luft', min_support: 0.1, max_len: 0, min_threshold: 1, confidence_above: 0 },
      }),
    );
    expect(e.detail).toMatch(
      /^assertion failed: unknown rule metric luft: expected support, confidence, lift/,
    );
  });
});
