// The export suite, the same for every engine: each engine's test file calls defineExportSuite with its engine
// and a namespace of its own. Tables go through SqlSession.exportTable and createStoreSource into DuckDB, as
// the notebook runner's extraction views read them.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, JS } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBucket } from '../../src/bucket/file.ts';
import { createStoreSource } from '../../src/notebooks/sql-source.ts';
import { PgliteSession } from '../../src/sql/postgres/pglite.ts';
import { openSqlStore } from '../../src/sql/index.ts';
import type { SqlSession } from '../../src/sql/types.ts';
import { load } from '../../src/stages/load.ts';
import { silentLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import type { EngineUnderTest } from '../helpers/sql-engines.ts';
import { HOSTILE_NAMES } from '../load/suite.ts';
import { openDuckDB } from '../notebooks/helpers.ts';
import { TYPE_FIXTURES } from './export-fixtures.ts';
import { allTypesDataset } from '../helpers/datasets.ts';

/** Every column type the load stage writes, with values at the edges of each. */
const loaded = allTypesDataset('exported', [], { mode: 'append', table: 'loaded' });

const LOADED_CSV = [
  'sku,day,price,units,ratio,active,seen_at,note',
  'A-1,2015-01-01,1.50,10,0.25,true,2015-01-01T08:00:00,first',
  'B-2,9999-12-31,-99999999.99,-9223372036854775808,1.7976931348623157e308,false,1999-12-31T23:59:59.123456,',
  'C-3,1000-01-01,99999999.99,9223372036854775807,-2.2250738585072014e-308,TRUE,2015-06-30T12:00:00-05:30,"ünï, ""x"" 🧀"',
  'D-4,2015-01-02,0.01,0,0.1,no,2015-01-02 09:30:15.5,"line one\nline two"',
  `E-5,2015-01-03,,,,,,"  spaced , 'quoted' "`,
  '',
].join('\n');

/** What DuckDB holds after extracting `loaded`, the same from every engine. */
const LOADED_TYPES = [
  'sku VARCHAR',
  'day DATE',
  'price DECIMAL(10,2)',
  'units BIGINT',
  'ratio DOUBLE',
  'active BOOLEAN',
  'seen_at TIMESTAMP',
  'note VARCHAR',
  '_source_object VARCHAR',
  '_source_line BIGINT',
];
const LOADED_ROWS = [
  ['A-1', '2015-01-01', '1.50', 10n, 0.25, true, '2015-01-01 08:00:00', 'first', 2n],
  [
    'B-2',
    '9999-12-31',
    '-99999999.99',
    -9223372036854775808n,
    1.7976931348623157e308,
    false,
    '1999-12-31 23:59:59.123456',
    null,
    3n,
  ],
  [
    'C-3',
    '1000-01-01',
    '99999999.99',
    9223372036854775807n,
    -2.2250738585072014e-308,
    true,
    '2015-06-30 17:30:00',
    'ünï, "x" 🧀',
    4n,
  ],
  ['D-4', '2015-01-02', '0.01', 0n, 0.1, false, '2015-01-02 09:30:15.5', 'line one\nline two', 5n],
  ['E-5', '2015-01-03', null, null, null, null, null, "  spaced , 'quoted' ", 7n],
].map(([sku, day, price, units, ratio, active, seen_at, note, line]) => ({
  sku,
  day,
  price,
  units,
  ratio,
  active,
  seen_at,
  note,
  _source_object: 'exported/data.csv',
  _source_line: line,
}));

/** Text that CSV, SQL quoting or a driver could each get wrong, passed to the engine as parameters. */
const TEXTS = [
  null,
  '',
  ' ',
  'a,b',
  '"q"',
  '""',
  "it's",
  'line\r',
  'two\nlines',
  '\r\n',
  'tab\there',
  'back\\slash',
  'NULL',
  '\\N',
  'crème "fraîche" 🧀 日本',
  'x'.repeat(100_000),
];

const MANY_ROWS = 20_000;

export function defineExportSuite(engine: EngineUnderTest, namespace: string): void {
  const state: { available?: boolean } = {};
  let session: SqlSession;
  let duck: Awaited<ReturnType<typeof openDuckDB>>;
  let conn: DuckDBConnection;
  let dir: string;

  beforeAll(async () => {
    state.available = await engine.available();
    if (!state.available) return;
    await engine.reset(namespace);
    session = await openSqlStore(engine.target(namespace));
    for (const sql of createNamespace(session, namespace)) await session.execute(sql);
    duck = await openDuckDB();
    conn = duck.conn;
    await conn.run(`SET TimeZone = 'UTC'`);
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), `export-${namespace}-`));
  });
  afterAll(async () => {
    if (!state.available) return;
    duck?.close();
    await session?.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  const skip = () => !state.available;
  const fixture = () => TYPE_FIXTURES[session.engine];
  const t = (name: string) => session.dialect.table(name);
  const q = (name: string) => session.dialect.quote(name);
  const extract = (dbtable: string, view: string) =>
    createStoreSource(session, { tempDir: dir }).extractTable({ dbtable }, conn, view);

  /** DuckDB's column types and rows, exact types (decimal, date, time) as DuckDB's text, ordered by column 1. */
  async function inDuckDB(view: string): Promise<{ types: string[]; rows: Record<string, JS>[] }> {
    const described = (await conn.runAndReadAll(`DESCRIBE ${view}`)).getRowObjectsJS() as {
      column_name: string;
      column_type: string;
    }[];
    const select = described.map(({ column_name: c, column_type: type }) =>
      /^(DECIMAL|DATE|TIME)/.test(type) ? `"${c}"::VARCHAR AS "${c}"` : `"${c}"`,
    );
    const rows = (
      await conn.runAndReadAll(`SELECT ${select.join(', ')} FROM ${view} ORDER BY 1`)
    ).getRowObjectsJS();
    return { types: described.map((d) => `${d.column_name} ${d.column_type}`), rows };
  }

  describe(`export from ${engine.name}`, () => {
    it('brings every mapped type into DuckDB with its exact value, NULL apart from the empty string', async (ctx) => {
      if (skip()) return ctx.skip();
      const f = fixture();
      await session.execute(
        `CREATE TABLE ${t('types_roundtrip')} (${f.columns.map(([c, type]) => `${q(c)} ${type}`).join(', ')})`,
      );
      for (const row of f.rows)
        await session.execute(
          `INSERT INTO ${t('types_roundtrip')} (${f.columns.map(([c]) => q(c)).join(', ')}) VALUES (${row.map((v) => v ?? 'NULL').join(', ')})`,
        );
      expect(await extract('dbo.types_roundtrip', 'types_view')).toEqual({ rows: f.rows.length });
      const { types, rows } = await inDuckDB('types_view');
      expect(types).toEqual(f.columns.map(([c, , type]) => `${c} ${type}`));
      expect(rows).toEqual(f.expected);
    });

    it('keeps every character of text: quotes, separators, line breaks, backslashes, unicode', async (ctx) => {
      if (skip()) return ctx.skip();
      const f = fixture();
      await session.execute(`CREATE TABLE ${t('texts')} (id INT NOT NULL, s ${f.text})`);
      for (const [i, s] of TEXTS.entries())
        await session.execute({
          sql: `INSERT INTO ${t('texts')} (id, s) VALUES (${f.param(1)}, ${f.param(2)})`,
          params: [i, s],
        });
      expect(await extract('texts', 'texts_view')).toEqual({ rows: TEXTS.length });
      const { rows } = await inDuckDB('texts_view');
      expect(rows.map((r) => r.s)).toEqual(TEXTS);
    });

    it('extracts a table the load stage wrote with the same types and rows as on every other engine', async (ctx) => {
      if (skip()) return ctx.skip();
      const bucket = new FileBucket(path.join(dir, 'bucket'));
      const file = path.join(dir, 'data.csv');
      await fsp.writeFile(file, LOADED_CSV);
      await bucket.upload(file, 'exported/data.csv');
      const manifest = await load({
        session,
        bucket,
        datasets: [loaded],
        destination: '{dataset}/{file}',
        run: currentRun({}),
        log: silentLogger,
      });
      expect(manifest.totals).toMatchObject({ rowsLoaded: 5, rowsQuarantined: 0 });
      expect(await extract('dbo.loaded', 'loaded_view')).toEqual({ rows: 5 });
      expect(await inDuckDB('loaded_view')).toEqual({ types: LOADED_TYPES, rows: LOADED_ROWS });
      // The load audit, which the notebooks reconcile with, extracts too.
      await extract('dbo.lakehouse_load_audit', 'audit_view');
      const audit = await conn.runAndReadAll(
        `SELECT dataset, object_name, rows_loaded, rows_quarantined, loaded_at IS NOT NULL AS stamped FROM audit_view`,
      );
      expect(audit.getRowObjectsJS()).toEqual([
        {
          dataset: 'exported',
          object_name: 'exported/data.csv',
          rows_loaded: 5n,
          rows_quarantined: 0n,
          stamped: true,
        },
      ]);
    });

    it('streams a large table in parts, every row exactly once, and survives a reader that stops early', async (ctx) => {
      if (skip()) return ctx.skip();
      const f = fixture();
      await session.execute(`CREATE TABLE ${t('many')} (id INT NOT NULL, s ${f.text})`);
      for (let start = 0; start < MANY_ROWS; start += 1000) {
        const values = Array.from(
          { length: 1000 },
          (_, i) => `(${start + i}, 'row ${start + i} ${'.'.repeat(40)}')`,
        );
        await session.execute(`INSERT INTO ${t('many')} (id, s) VALUES ${values.join(', ')}`);
      }
      // Gaps and moved rows (an UPDATE writes a new row version elsewhere in PostgreSQL's pages).
      await session.execute(`DELETE FROM ${t('many')} WHERE id % 7 = 0`);
      await session.execute(`UPDATE ${t('many')} SET s = 'updated' WHERE id % 11 = 0`);
      // PGlite copies a range of pages at a time: make the ranges small, so that there are many.
      if (session instanceof PgliteSession) session.exportBlocksPerCopy = 4;

      const exported = await session.exportTable({ name: 'many' });
      let chunks = 0;
      let bytes = 0;
      for await (const chunk of exported.csv) {
        chunks++;
        bytes += chunk.length;
      }
      expect(chunks).toBeGreaterThan(5);
      expect(bytes).toBeGreaterThan(MANY_ROWS * 40);

      expect(await extract('many', 'many_view')).toEqual({ rows: MANY_ROWS - Math.ceil(MANY_ROWS / 7) });
      const [check] = (
        await conn.runAndReadAll(
          `SELECT count(DISTINCT id) AS ids, sum(id) AS total, count(*) FILTER (WHERE s = 'updated') AS updated FROM many_view`,
        )
      ).getRowObjectsJS();
      const ids = Array.from({ length: MANY_ROWS }, (_, i) => i).filter((i) => i % 7 !== 0);
      expect(check).toEqual({
        ids: BigInt(ids.length),
        total: BigInt(ids.reduce((a, b) => a + b, 0)),
        updated: BigInt(ids.filter((i) => i % 11 === 0).length),
      });

      // A reader that stops after the first chunk leaves the session usable.
      const abandoned = await session.exportTable({ name: 'many' });
      for await (const chunk of abandoned.csv) {
        expect(chunk.length).toBeGreaterThan(0);
        break;
      }
      expect(await session.query(`SELECT count(*) AS n FROM ${t('many')}`)).toHaveLength(1);
      expect(await extract('many', 'many_again')).toEqual({ rows: MANY_ROWS - Math.ceil(MANY_ROWS / 7) });
    });

    it('reports a failure midway with the table and the store, and the session stays usable', async (ctx) => {
      if (skip()) return ctx.skip();
      const orReplace = session.engine === 'sqlserver' ? 'CREATE OR ALTER' : 'CREATE OR REPLACE';
      // Row 15000 comes after several chunks of output. MySQL's SELECT turns a division by zero into NULL, so
      // there a function raises the error at that row.
      let failingValue = '100 / (id - 15000)';
      if (session.engine === 'mysql') {
        await session.execute(
          `CREATE OR REPLACE FUNCTION ${t('fail_at')}(i BIGINT) RETURNS BIGINT DETERMINISTIC BEGIN ` +
            `IF i = 15000 THEN SIGNAL SQLSTATE '22012' SET MESSAGE_TEXT = 'Division by zero'; END IF; RETURN i; END`,
        );
        failingValue = `${t('fail_at')}(id)`;
      }
      await session.execute(
        `${orReplace} VIEW ${t('failing')} AS SELECT id, ${failingValue} AS x FROM ${t('many')}`,
      );
      await expect(extract('failing', 'failing')).rejects.toThrow(
        new RegExp(
          `^reading \\S+\\.failing from ${escape(session.description)} failed: .*(division by zero|Divide by zero)`,
          'i',
        ),
      );
      expect(await extract('many', 'many_after')).toEqual({ rows: MANY_ROWS - Math.ceil(MANY_ROWS / 7) });
    });

    it('reads views, finds names as written or in lower case, and takes an explicit schema', async (ctx) => {
      if (skip()) return ctx.skip();
      const orReplace = session.engine === 'sqlserver' ? 'CREATE OR ALTER' : 'CREATE OR REPLACE';
      await session.execute(`CREATE TABLE ${t('orders')} (id INT NOT NULL)`);
      await session.execute(`INSERT INTO ${t('orders')} (id) VALUES (1), (2), (3)`);
      await session.execute(
        `${orReplace} VIEW ${t('recent_orders')} AS SELECT id, id * 10 AS amount FROM ${t('orders')} WHERE id > 1`,
      );
      expect(await extract('dbo.recent_orders', 'recent')).toEqual({ rows: 2 });
      const recent = await conn.runAndReadAll(
        'SELECT id::INTEGER AS id, amount::INTEGER AS amount FROM recent ORDER BY id',
      );
      expect(recent.getRowObjectsJS()).toEqual([
        { id: 2, amount: 20 },
        { id: 3, amount: 30 },
      ]);
      expect(await extract('[dbo].[ORDERS]', 'upper')).toEqual({ rows: 3 });
      const schema = (await session.exportTable({ name: 'orders' })).table.schema;
      expect(await extract(`${schema}.orders`, 'qualified')).toEqual({ rows: 3 });
    });

    it('names an unknown table and a column type it cannot map, refuses to run inside a transaction, and rejects hostile names before any SQL', async (ctx) => {
      if (skip()) return ctx.skip();
      const f = fixture();
      await expect(extract('dbo.no_such_table', 'missing')).rejects.toThrow(
        new RegExp(`^table \\S+\\.no_such_table does not exist in ${escape(session.description)}`),
      );
      await expect(extract('no_such_schema.orders', 'missing')).rejects.toThrow(
        /^table no_such_schema\.orders does not exist in /,
      );
      await session.execute(`CREATE TABLE ${t('blobs')} (id INT, ${q('blob')} ${f.unmapped.type})`);
      await expect(extract('blobs', 'blobs')).rejects.toThrow(f.unmapped.named);
      // An export has a transaction (or a stream) of its own: inside a load's, it would end or block it.
      await session.begin();
      try {
        const inside = await session.exportTable({ name: 'orders' });
        await expect(inside.csv[Symbol.asyncIterator]().next()).rejects.toThrow(
          /: export cannot run inside a transaction \(a load is under way\)$/,
        );
      } finally {
        await session.rollback();
      }
      for (const name of HOSTILE_NAMES) {
        await expect(session.exportTable({ name })).rejects.toThrow(
          /^table .*: expected letters, digits and _/,
        );
        await expect(session.exportTable({ schema: name, name: 'orders' })).rejects.toThrow(
          /^schema .*: expected letters, digits and _/,
        );
      }
    });
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The engine's namespace (a PostgreSQL or SQL Server schema, a MySQL database), created if missing. */
function createNamespace(session: SqlSession, namespace: string): string[] {
  const q = (n: string) => session.dialect.quote(n);
  switch (session.engine) {
    case 'pglite':
      return [];
    case 'postgres':
      return [`CREATE SCHEMA IF NOT EXISTS ${q(namespace)}`];
    case 'mysql':
      return [`CREATE DATABASE IF NOT EXISTS ${q(namespace)} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`];
    case 'sqlserver':
      return [`IF SCHEMA_ID(N'${namespace}') IS NULL EXEC(N'CREATE SCHEMA ${q(namespace)}')`];
  }
}
