// Reading tables that Spark wrote (../shared/fixtures/delta): every table, at its latest version and at each
// earlier version of the time-travel tables. Expected rows come from the generators (GoldenTables.scala, dat)
// as the fixtures README records them, not from this reader.
import { describe, expect, it, beforeAll } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';
import { needsShared, sharedDir } from '../helpers/services.ts';
import {
  deleteWhere,
  mergeDelta,
  openDeltaTable,
  registerDeltaView,
  writeDelta,
} from '../../src/delta/index.ts';
import { copyTable, newConnection, rowsOf } from './helpers.ts';

const ok = await needsShared();
const root = path.join(sharedDir, 'fixtures/delta');
const golden = (t: string) => path.join(root, 'golden', t);

/** Expected rows as a DuckDB query producing the same column names and types. */
interface Case {
  table: string;
  version?: number;
  expected: string;
}

const data = (prefix: string, n: number) =>
  `SELECT x::INT AS col1, '${prefix}-' || x AS col2 FROM range(${n}) r(x)`;
const ids = (from: number, to: number) => `SELECT range AS id FROM range(${from}, ${to + 1})`;
const union = (...parts: string[]) => parts.map((p) => `(${p})`).join(' UNION ALL ');

// basic-with-inserts-deletes-checkpoint: appends of 0..9 … 40..49, deletes of 5..9 … 45..49, appends of
// 50..59 … 70..79, then DELETE WHERE id >= 66.
function insertsDeletesIds(version: number): number[] {
  const out: number[] = [];
  const appended = Math.min(version, 4) + 1 + Math.max(0, version - 9);
  for (let block = 0; block < appended; block++) {
    for (let i = 0; i < 10; i++) out.push(block * 10 + i);
  }
  return out.filter((id) => {
    const block = Math.floor(id / 10);
    if (block < 5 && id % 10 >= 5 && version >= 5 + block) return false;
    if (version >= 13 && id >= 66) return false;
    return true;
  });
}

const cases: Case[] = [
  { table: 'snapshot-data0', expected: data('data-0', 10) },
  { table: 'snapshot-data1', version: 0, expected: data('data-0', 10) },
  { table: 'snapshot-data1', expected: union(data('data-0', 10), data('data-1', 10)) },
  { table: 'snapshot-data2', version: 0, expected: data('data-0', 10) },
  { table: 'snapshot-data2', version: 1, expected: union(data('data-0', 10), data('data-1', 10)) },
  { table: 'snapshot-data2', expected: data('data-2', 10) },
  ...[0, 1, 2].map((version) => ({
    table: 'snapshot-data3',
    version,
    expected: [data('data-0', 10), union(data('data-0', 10), data('data-1', 10)), data('data-2', 10)][
      version
    ]!,
  })),
  { table: 'snapshot-data3', expected: union(data('data-2', 10), data('data-3', 20)) },
  { table: 'snapshot-data2-deleted', version: 3, expected: union(data('data-2', 10), data('data-3', 20)) },
  { table: 'snapshot-data2-deleted', expected: data('data-3', 20) },
  { table: 'snapshot-repartitioned', version: 4, expected: data('data-3', 20) },
  { table: 'snapshot-repartitioned', expected: data('data-3', 20) },
  { table: 'snapshot-vacuumed', expected: data('data-3', 20) },
  ...Array.from({ length: 14 }, (_, version) => ({
    table: 'basic-with-inserts-deletes-checkpoint',
    version: version === 13 ? undefined : version,
    expected: `SELECT unnest([${insertsDeletesIds(version).join(', ')}]::BIGINT[]) AS id`,
  })),
  {
    table: 'basic-with-inserts-updates',
    version: 0,
    expected: `SELECT x::INT AS id, 'val=' || x AS str FROM range(100) r(x)`,
  },
  {
    table: 'basic-with-inserts-updates',
    expected: `SELECT x::INT AS id, CASE WHEN x < 50 THEN 'N/A' ELSE 'val=' || x END AS str FROM range(100) r(x)`,
  },
  {
    table: 'basic-with-inserts-merge',
    version: 0,
    expected: `SELECT x::INT AS id, 'val=' || x AS str FROM range(100) r(x)`,
  },
  {
    table: 'basic-with-inserts-merge',
    expected: `SELECT x::INT AS id, CASE WHEN x < 50 THEN 'val=' || x WHEN x < 100 THEN 'N/A' ELSE 'EXT' END AS str FROM range(10, 150) r(x)`,
  },
  { table: 'basic-with-inserts-overwrite-restore', version: 0, expected: ids(0, 99) },
  { table: 'basic-with-inserts-overwrite-restore', version: 1, expected: ids(0, 199) },
  { table: 'basic-with-inserts-overwrite-restore', version: 2, expected: ids(500, 999) },
  { table: 'basic-with-inserts-overwrite-restore', expected: ids(0, 199) },
  { table: 'time-travel-start', expected: ids(0, 9) },
  { table: 'time-travel-start-start20', version: 0, expected: ids(0, 9) },
  { table: 'time-travel-start-start20', expected: ids(0, 19) },
  { table: 'time-travel-start-start20-start40', version: 0, expected: ids(0, 9) },
  { table: 'time-travel-start-start20-start40', version: 1, expected: ids(0, 19) },
  { table: 'time-travel-start-start20-start40', expected: ids(0, 29) },
  { table: 'time-travel-schema-changes-a', expected: ids(0, 9) },
  { table: 'time-travel-schema-changes-b', version: 0, expected: ids(0, 9) },
  {
    table: 'time-travel-schema-changes-b',
    expected: `SELECT range AS id, CASE WHEN range >= 10 THEN range END AS part FROM range(20)`,
  },
  {
    table: 'time-travel-partition-changes-a',
    expected: `SELECT range AS id, range % 5 AS part5 FROM range(10)`,
  },
  {
    table: 'time-travel-partition-changes-b',
    version: 0,
    expected: `SELECT range AS id, range % 5 AS part5 FROM range(10)`,
  },
  {
    table: 'time-travel-partition-changes-b',
    expected: `SELECT range AS id, range % 2 AS part2 FROM range(10, 20)`,
  },
  {
    table: 'hive/deltatbl-partitioned',
    expected: `SELECT x::INT AS c1, 'foo' || (x % 2) AS c2 FROM range(10) r(x)`,
  },
  {
    table: 'hive/deltatbl-non-partitioned',
    expected: `SELECT x::INT AS c1, 'foo' || (x % 2) AS c2 FROM range(10) r(x)`,
  },
  {
    table: 'hive/deltatbl-partition-prune',
    expected:
      `SELECT * FROM (VALUES ('hz', '20180520', 'Jim', 3), ('hz', '20180718', 'Jone', 7), ('bj', '20180520', 'Trump', 1), ` +
      `('sh', '20180512', 'Jay', 4), ('sz', '20181212', 'Linda', 8)) v(city, date, name, cnt)`,
  },
  {
    table: 'data-reader-primitives',
    expected:
      `SELECT i::INT AS as_int, i::BIGINT AS as_long, i::TINYINT AS as_byte, i::SMALLINT AS as_short, ` +
      `(i % 2 = 0) AS as_boolean, i::FLOAT AS as_float, i::DOUBLE AS as_double, i::VARCHAR AS as_string, ` +
      `CASE WHEN i IS NOT NULL THEN from_hex(printf('%02x%02x', i, i)) END AS as_binary, i::DECIMAL(1,0) AS as_big_decimal ` +
      `FROM (SELECT unnest([NULL, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) AS i)`,
  },
  {
    table: 'data-reader-partition-values',
    // Spark wrote the timestamp partition value "2021-09-08 11:11:11" without a zone; it is read as UTC.
    expected:
      `SELECT p::INT AS as_int, p::BIGINT AS as_long, p::TINYINT AS as_byte, p::SMALLINT AS as_short, ` +
      `(p % 2 = 0) AS as_boolean, p::FLOAT AS as_float, p::DOUBLE AS as_double, p::VARCHAR AS as_string, ` +
      `CASE WHEN p IS NOT NULL THEN 'null' END AS as_string_lit_null, CASE WHEN p IS NOT NULL THEN DATE '2021-09-08' END AS as_date, ` +
      `CASE WHEN p IS NOT NULL THEN TIMESTAMPTZ '2021-09-08 11:11:11+00' END AS as_timestamp, p::DECIMAL(1,0) AS as_big_decimal, ` +
      `[{'val': i::INT}, {'val': i::INT}, {'val': i::INT}] AS as_list_of_records, ` +
      `{'aa': i::VARCHAR, 'ab': i::VARCHAR, 'ac': {'aca': i::INT, 'acb': i::BIGINT}} AS as_nested_struct, i::VARCHAR AS value ` +
      `FROM (VALUES (0, 0), (1, 1), (NULL, 2)) v(p, i)`,
  },
  { table: 'multi-part-checkpoint', version: 0, expected: ids(0, 0) },
  { table: 'multi-part-checkpoint', expected: union(ids(0, 0), ids(0, 29)) },
  { table: 'only-checkpoint-files', version: 0, expected: ids(0, 9) },
  { table: 'only-checkpoint-files', version: 1, expected: ids(5, 9) },
  { table: 'only-checkpoint-files', expected: union(ids(5, 9), ids(0, 19)) },
  { table: '125-iterator-bug', expected: `SELECT x::INT AS col1 FROM range(1, 6) r(x)` },
  {
    table: 'basic-decimal-table',
    expected:
      `SELECT part::DECIMAL(12,5) AS part, col1::DECIMAL(5,2) AS col1, col2::DECIMAL(10,5) AS col2, col3::DECIMAL(20,10) AS col3 FROM (VALUES ` +
      `('234', '1', '2', '3'), ('2342222.23454', '111.11', '22222.22222', '3333333333.3333333333'), ` +
      `('0.00004', '0.001', '0.000002', '0.00000000003'), ('-2342342.23423', '-999.99', '-99999.99999', '-9999999999.9999999999')) v(part, col1, col2, col3)`,
  },
  {
    // One row; its values are the min = max statistics Spark recorded for the file.
    table: 'data-skipping-basic-stats-all-types',
    expected:
      `SELECT 0::INT AS as_int, 0::BIGINT AS as_long, 0::TINYINT AS as_byte, 0::SMALLINT AS as_short, 0::FLOAT AS as_float, ` +
      `0::DOUBLE AS as_double, '0' AS as_string, DATE '2000-01-01' AS as_date, TIMESTAMPTZ '2000-01-01 00:00:00-08:00' AS as_timestamp, ` +
      `0::DECIMAL(1,0) AS as_big_decimal`,
  },
  ...[
    [1, 0],
    [1, 1],
    [0, 1],
    [0, 0],
  ].map((_, version, all) => ({
    table: 'data-skipping-partition-and-data-column',
    version,
    expected: `SELECT * FROM (VALUES ${all
      .slice(0, version + 1)
      .map(([p, i]) => `(${p}, ${i})`)
      .join(', ')}) v(part, id)`,
  })),
];

describe.skipIf(!ok)('reading Spark-written Delta tables', () => {
  let conn: DuckDBConnection;
  beforeAll(async () => {
    conn = await newConnection();
  });

  it.each(cases.map((c) => [`${c.table} @ ${c.version ?? 'latest'}`, c] as const))('%s', async (_, c) => {
    const snapshot = await registerDeltaView(conn, 'fixture', golden(c.table), { version: c.version });
    if (c.version !== undefined) expect(snapshot.version).toBe(c.version);
    const actual = await rowsOf(conn, 'SELECT * FROM fixture');
    const expected = await rowsOf(conn, c.expected);
    expect(actual).toEqual(expected);
  });

  it('kernel/basic-with-checkpoint at every version (checkpoint at 10)', async () => {
    const location = path.join(root, 'kernel/basic-with-checkpoint');
    for (let version = 0; version <= 14; version++) {
      await registerDeltaView(conn, 'fixture', location, { version });
      expect(await rowsOf(conn, 'SELECT * FROM fixture'), `version ${version}`).toEqual(
        await rowsOf(conn, ids(0, version * 10 + 9)),
      );
    }
  });

  it('covers every table in the fixtures folder', () => {
    const covered = new Set(cases.map((c) => c.table));
    const logOnly = new Set([
      'checkpoint',
      'corrupted-last-checkpoint',
      'delete-re-add-same-file-different-transactions',
    ]);
    const tables = fs
      .readdirSync(path.join(root, 'golden'))
      .flatMap((t) =>
        t === 'hive' ? fs.readdirSync(path.join(root, 'golden/hive')).map((h) => `hive/${h}`) : [t],
      );
    for (const t of tables) expect(covered.has(t) || logOnly.has(t), `golden/${t} is tested`).toBe(true);
  });

  const datTables = ok ? fs.readdirSync(path.join(root, 'dat')) : [];
  it.each(datTables)('dat/%s matches its expected content at every version listed', async (name) => {
    const dir = path.join(root, 'dat', name);
    const versions = fs.readdirSync(path.join(dir, 'expected'));
    expect(versions).toContain('latest');
    for (const v of versions) {
      const version = v === 'latest' ? undefined : Number(v.slice(1));
      const meta = JSON.parse(
        fs.readFileSync(path.join(dir, 'expected', v, 'table_version_metadata.json'), 'utf8'),
      ) as {
        version: number;
      };
      const snapshot = await registerDeltaView(conn, 'fixture', path.join(dir, 'delta'), { version });
      expect(snapshot.version, `${name} ${v}`).toBe(meta.version);
      const expectedFile = path.join(dir, 'expected', v, 'table_content.parquet').replace(/'/g, "''");
      const columns = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM '${expectedFile}'`))
        .getRows()
        .map(([n]) => `"${String(n)}"`)
        .join(', ');
      expect(await rowsOf(conn, `SELECT ${columns} FROM fixture`), `${name} ${v}`).toEqual(
        await rowsOf(conn, `SELECT * FROM '${expectedFile}'`),
      );
    }
  });

  it('replays log-only tables: golden/checkpoint (adds i, removes i-1) from its checkpoint and from JSON', async () => {
    const table = openDeltaTable(golden('checkpoint'), { conn });
    expect(await table.latestVersion()).toBe(14);
    expect((await table.snapshot()).files.map((f) => f.path)).toEqual(['15']);
    expect((await table.snapshot({ version: 10 })).files.map((f) => f.path)).toEqual(['11']);
    expect((await table.snapshot({ version: 5 })).files.map((f) => f.path)).toEqual(['6']);
    const tombstones = (await table.snapshot()).tombstones
      .map((t) => t.path)
      .sort((a, b) => Number(a) - Number(b));
    expect(tombstones).toEqual(Array.from({ length: 14 }, (_, i) => String(i + 1)));
  });

  it('ignores a corrupted _last_checkpoint', async () => {
    const snapshot = await openDeltaTable(golden('corrupted-last-checkpoint'), { conn }).snapshot();
    expect(snapshot.version).toBe(10);
    expect(snapshot.files.map((f) => f.path).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 11 }, (_, i) => String(i)),
    );
  });

  it('keeps a file removed and re-added in later transactions', async () => {
    const table = openDeltaTable(golden('delete-re-add-same-file-different-transactions'), { conn });
    expect((await table.snapshot({ version: 1 })).files).toEqual([]);
    const latest = await table.snapshot();
    expect(latest.files.map((f) => [f.path, f.modificationTime]).sort()).toEqual(
      [
        ['bar', expect.any(Number)],
        ['foo', 1700000000000],
      ].sort(),
    );
  });

  it('reads Spark commitInfo as history and time-travels by commit timestamp', async () => {
    const table = openDeltaTable(golden('time-travel-start-start20-start40'), { conn });
    const history = await table.history();
    expect(history.map((h) => [h.version, h.operation])).toEqual([
      [2, 'WRITE'],
      [1, 'WRITE'],
      [0, 'WRITE'],
    ]);
    const at1 = history.find((h) => h.version === 1)!.timestamp;
    expect((await table.snapshot({ timestamp: at1 })).version).toBe(1);
    expect((await table.snapshot({ timestamp: at1 - 1 })).version).toBe(0);
    expect((await table.snapshot({ timestamp: new Date(at1 + 1).toISOString() })).version).toBe(1);
    await expect(table.snapshot({ timestamp: history.at(-1)!.timestamp - 1 })).rejects.toThrow(
      /no version at or before/,
    );
    await expect(table.snapshot({ version: 3 })).rejects.toThrow(
      /version 3 does not exist; the latest version is 2/,
    );
  });

  it('appends to, deletes from and merges into a copy of a Spark-written partitioned table', async () => {
    const location = copyTable(path.join(root, 'dat/basic_partitioned/delta'));
    await writeDelta(conn, location, `SELECT 'f' AS letter, 7 AS number, 7.7 AS a_float`, { mode: 'append' });
    await deleteWhere(conn, location, `letter = 'a' AND number = 4`);
    await mergeDelta(conn, location, {
      targetAlias: 't',
      statementTail: `USING (SELECT 'b' AS letter, 2 AS number, 0.5 AS a_float) s ON t.number = s.number WHEN MATCHED THEN UPDATE SET a_float = s.a_float`,
    });
    await registerDeltaView(conn, 'copy', location);
    const expected = path.join(root, 'dat/basic_partitioned/expected/latest/table_content.parquet');
    expect(await rowsOf(conn, 'SELECT * FROM copy')).toEqual(
      await rowsOf(
        conn,
        `SELECT letter, number, CASE WHEN number = 2 THEN 0.5 ELSE a_float END AS a_float FROM '${expected}' WHERE number <> 4 ` +
          `UNION ALL SELECT 'f', 7, 7.7`,
      ),
    );
    expect((await openDeltaTable(location).history()).map((h) => h.operation)).toEqual([
      'MERGE',
      'DELETE',
      'WRITE',
      'WRITE',
      'WRITE',
    ]);
  });

  it('says a folder without a log is not a Delta table', async () => {
    await expect(openDeltaTable(path.join(root, 'dat')).snapshot()).rejects.toThrow(/is not a Delta table/);
  });
});
