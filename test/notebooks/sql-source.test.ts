// Extraction from PGlite into DuckDB through the store session: values arrive exactly, with types from the
// PostgreSQL catalog. (test/sql/export-*.test.ts run the same export on every engine.)
import type { DuckDBConnection } from '@duckdb/node-api';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromOptions } from '../../src/notebooks/sql-source.ts';
import { openDuckDB, pgliteSource } from './helpers.ts';

let db: PGlite;
let duck: Awaited<ReturnType<typeof openDuckDB>>;
let conn: DuckDBConnection;

beforeAll(async () => {
  db = new PGlite();
  await db.exec(`
    CREATE TABLE awkward (
      id BIGINT, small SMALLINT, n INTEGER, price NUMERIC(12,4), ratio DOUBLE PRECISION, r REAL, ok BOOLEAN,
      label TEXT, code VARCHAR(12), letter CHAR(2), day DATE, stamp TIMESTAMP, at_tz TIMESTAMPTZ, doc JSONB, uid UUID);
    INSERT INTO awkward VALUES
      (9007199254740993, -3, 7, 12345678.1234, 0.1, 1.5, true, 'cream cheese ', 'a,b', 'x', '2014-01-01',
       '2015-12-30 23:59:58.123456', '2015-06-01 12:00:00+02', '{"a": [1, "x"]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
      (2, NULL, NULL, NULL, NULL, NULL, false, '', '"q"', NULL, NULL, NULL, NULL, NULL, NULL),
      (3, 0, 0, 0, 1e-300, 0, NULL, E'line\\r', E'two\\nlines', NULL, '1999-02-28', NULL, NULL, NULL, NULL),
      (4, 0, 0, 0, 0, 0, NULL, NULL, 'it''s', NULL, NULL, NULL, NULL, NULL, NULL);
    CREATE SCHEMA sales;
    CREATE TABLE sales.orders (id INT);
    INSERT INTO sales.orders VALUES (1), (2);
    CREATE TABLE "MixedCase" (id INT);
    CREATE VIEW recent_orders AS SELECT id, id * 10 AS amount FROM sales.orders WHERE id > 1;
    CREATE TABLE blobs (b BYTEA);`);
  duck = await openDuckDB();
  conn = duck.conn;
});

afterAll(async () => {
  duck?.close();
  await db?.close();
});

describe('createStoreSource on PGlite', () => {
  it('moves every value exactly: nulls, empty strings, spaces, quotes, commas, line breaks, numbers, times', async () => {
    const source = pgliteSource(db);
    expect(await source.extractTable({ dbtable: 'dbo.awkward' }, conn, 'awkward_view')).toEqual({ rows: 4 });
    const types = (await conn.runAndReadAll('DESCRIBE awkward_view'))
      .getRowObjectsJS()
      .map((r) => `${r.column_name} ${r.column_type}`);
    expect(types).toEqual([
      'id BIGINT',
      'small SMALLINT',
      'n INTEGER',
      'price DECIMAL(12,4)',
      'ratio DOUBLE',
      'r FLOAT',
      'ok BOOLEAN',
      'label VARCHAR',
      'code VARCHAR',
      'letter VARCHAR',
      'day DATE',
      'stamp TIMESTAMP',
      'at_tz TIMESTAMP WITH TIME ZONE',
      'doc VARCHAR',
      'uid VARCHAR',
    ]);
    const rows = (
      await conn.runAndReadAll(
        `SELECT id, small, price::VARCHAR AS price, ratio, ok, label, code, letter, day::VARCHAR AS day, stamp::VARCHAR AS stamp,
                epoch(at_tz) AS at_tz, doc, uid FROM awkward_view ORDER BY id`,
      )
    ).getRowObjectsJS();
    expect(rows).toEqual([
      {
        id: 2n,
        small: null,
        price: null,
        ratio: null,
        ok: false,
        label: '',
        code: '"q"',
        letter: null,
        day: null,
        stamp: null,
        at_tz: null,
        doc: null,
        uid: null,
      },
      {
        id: 3n,
        small: 0,
        price: '0.0000',
        ratio: 1e-300,
        ok: null,
        label: 'line\r',
        code: 'two\nlines',
        letter: null,
        day: '1999-02-28',
        stamp: null,
        at_tz: null,
        doc: null,
        uid: null,
      },
      {
        id: 4n,
        small: 0,
        price: '0.0000',
        ratio: 0,
        ok: null,
        label: null,
        code: "it's",
        letter: null,
        day: null,
        stamp: null,
        at_tz: null,
        doc: null,
        uid: null,
      },
      {
        id: 9007199254740993n,
        small: -3,
        price: '12345678.1234',
        ratio: 0.1,
        ok: true,
        label: 'cream cheese ',
        code: 'a,b',
        letter: 'x ',
        day: '2014-01-01',
        stamp: '2015-12-30 23:59:58.123456',
        at_tz: Date.UTC(2015, 5, 1, 10) / 1000,
        doc: '{"a": [1, "x"]}',
        uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      },
    ]);
  });

  it('reads schema-qualified tables, and SQL Server-style [quoted] or differently cased names', async () => {
    const source = pgliteSource(db);
    expect(await source.extractTable({ dbtable: 'sales.orders' }, conn, 'orders')).toEqual({ rows: 2 });
    expect(await source.extractTable({ dbtable: '[dbo].[AWKWARD]' }, conn, 'upper')).toEqual({ rows: 4 });
    expect(await source.extractTable({ dbtable: 'MixedCase' }, conn, 'mixed')).toEqual({ rows: 0 });
  });

  it('reads a view as well as a table', async () => {
    const source = pgliteSource(db);
    expect(await source.extractTable({ dbtable: 'dbo.recent_orders' }, conn, 'recent')).toEqual({ rows: 1 });
    expect((await conn.runAndReadAll('SELECT * FROM recent')).getRowObjectsJS()).toEqual([
      { id: 2, amount: 20 },
    ]);
  });

  it('replaces an earlier extraction, and a temporary view may later take its name', async () => {
    const source = pgliteSource(db);
    await source.extractTable({ dbtable: 'sales.orders' }, conn, 'again');
    expect(await source.extractTable({ dbtable: 'awkward' }, conn, 'again')).toEqual({ rows: 4 });
    await conn.run('CREATE OR REPLACE TEMP VIEW again AS SELECT 1 AS x');
    expect((await conn.runAndReadAll('SELECT * FROM again')).getRowObjectsJS()).toEqual([{ x: 1 }]);
  });

  it('names a missing table and a column type it cannot map', async () => {
    const source = pgliteSource(db);
    await expect(source.extractTable({ dbtable: 'dbo.missing' }, conn, 'm')).rejects.toThrow(
      'table public.missing does not exist in PGlite at (in memory) (no table or view of that name)',
    );
    await expect(source.extractTable({ dbtable: 'sales.missing' }, conn, 'm')).rejects.toThrow(
      'table sales.missing does not exist in PGlite at (in memory)',
    );
    await expect(
      source.extractTable({ dbtable: "dbo.x'; DROP TABLE awkward; --" }, conn, 'm'),
    ).rejects.toThrow(/^table "x'; DROP TABLE awkward; --": expected letters, digits and _/);
    await expect(source.extractTable({ dbtable: 'blobs' }, conn, 'b')).rejects.toThrow(
      /^column b has PostgreSQL type bytea, which the extraction does not map to DuckDB/,
    );
  });
});

describe('tableFromOptions', () => {
  it('maps dbo to the default schema and keeps other schemas', () => {
    expect(tableFromOptions({ dbtable: 'dbo.transactions' })).toEqual({
      schema: undefined,
      name: 'transactions',
    });
    expect(tableFromOptions({ dbtable: 'transactions' })).toEqual({
      schema: undefined,
      name: 'transactions',
    });
    expect(tableFromOptions({ dbtable: 'sales.orders' })).toEqual({ schema: 'sales', name: 'orders' });
  });

  it('rejects what it cannot read', () => {
    expect(() => tableFromOptions({ url: 'x', user: "secret('a', 'b')" })).toThrow(
      "OPTIONS must name the table to extract with dbtable 'schema.table' (options given: url, user)",
    );
    expect(() => tableFromOptions({ query: 'SELECT 1' })).toThrow(
      'OPTIONS (query ...) is not supported locally: name a table with dbtable',
    );
    expect(() => tableFromOptions({ dbtable: 'db.dbo.t' })).toThrow(
      "dbtable 'db.dbo.t': expected 'table' or 'schema.table'",
    );
  });
});
