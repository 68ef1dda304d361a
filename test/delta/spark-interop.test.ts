// Delta interop with the reference implementation, both ways, in one Spark JVM (Apache Spark 4.0 + Delta Lake
// 4.0, the spark/ module):
//   - every operation of our writer, then Spark reads the table at every version (VERSION AS OF and TIMESTAMP
//     AS OF), with a filter that uses our statistics, and lists our commits in DESCRIBE HISTORY;
//   - Spark does the same operations (and the table features it offers), then our reader reads every version;
//   - our writer and Spark commit to one table at the same time: no commit is lost or overwritten.
// Rows are compared as JSON (Spark's to_json, DuckDB's to_json), brought to one form per Delta type.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';
import { deleteWhere, mergeDelta, openDeltaTable, writeDelta } from '../../src/delta/index.ts';
import { needsSpark } from '../helpers/services.ts';
import { resultOf, runSparkJob } from '../helpers/spark.ts';
import type { SparkResult, SparkStatement } from '../helpers/spark.ts';
import { newConnection, tempDir } from './helpers.ts';
import {
  canonicalRows,
  deltaPath,
  ourJsonRows,
  rowsByKey,
  sparkJsonRows,
  sparkTypeName,
} from './spark-rows.ts';
import { concurrentAppends, concurrentStatements } from './spark-concurrency.ts';
import type { ConcurrentRun } from './spark-concurrency.ts';
import { SPARK_TABLES, sparkWrites } from './spark-writes.ts';

const ok = await needsSpark();
const pause = () => new Promise((resolve) => setTimeout(resolve, 60));

// Every type our writer stores, a few nulls, microsecond timestamps.
const RICH = `SELECT i::INT AS id, i::BIGINT * 1000000007 AS big, 'name ' || i AS name, i / 3::DOUBLE AS ratio,
  (i * 1.25)::DECIMAL(10,2) AS price, DATE '2024-01-01' + i::INT AS day,
  TIMESTAMPTZ '2024-01-01 10:00:00.123456+00' + to_seconds(i * 3601) AS at, i % 2 = 0 AS even,
  i::SMALLINT AS small, (i % 100)::TINYINT AS tiny, (i / 7)::FLOAT AS f, ('\\x01' || i)::BLOB AS bytes,
  CASE WHEN i % 5 = 4 THEN NULL ELSE 'n' || i END AS maybe, [i, i + 1] AS arr, {'a': i, 'b': 'x' || i} AS st,
  MAP {'k': i} AS m
FROM range(FROM_, TO_) r(i)`;
const rich = (from: number, to: number) => RICH.replace('FROM_', String(from)).replace('TO_', String(to));
const simple = (from: number, to: number, prefix = 'a') =>
  `SELECT i::BIGINT AS id, '${prefix}-' || i AS name FROM range(${from}, ${to}) r(i)`;

interface OurTable {
  name: string;
  /** Runs our writer's operations, one version each. */
  write(conn: DuckDBConnection, location: string): Promise<void>;
  /** A filter in SQL that Spark and DuckDB both accept, so that Spark skips files by our statistics. */
  filter: string;
  /** Versions whose files are gone (vacuumed) and so cannot be read. */
  unreadable?: number[];
  /** The operation names DESCRIBE HISTORY must list, version 0 first. */
  operations: string[];
}

const OUR_TABLES: OurTable[] = [
  {
    name: 'create',
    write: async (conn, at) => void (await writeDelta(conn, at, rich(0, 20))),
    filter: "id = 3 OR name = 'name 17'",
    operations: ['WRITE'],
  },
  {
    name: 'append',
    write: async (conn, at) => {
      await writeDelta(conn, at, rich(0, 10));
      await pause();
      await writeDelta(conn, at, rich(10, 20), { mode: 'append' });
      await pause();
      await writeDelta(conn, at, rich(20, 25), { mode: 'append', txn: { appId: 'interop', version: 1 } });
    },
    filter: 'id >= 12 AND id < 21',
    operations: ['WRITE', 'WRITE', 'WRITE'],
  },
  {
    name: 'overwrite',
    write: async (conn, at) => {
      await writeDelta(conn, at, simple(0, 10));
      await pause();
      await writeDelta(conn, at, simple(5, 12, 'b'), { mode: 'overwrite' });
    },
    filter: "name = 'b-7'",
    operations: ['WRITE', 'WRITE'],
  },
  {
    name: 'replace',
    write: async (conn, at) => {
      await writeDelta(conn, at, simple(0, 10));
      await pause();
      // CREATE OR REPLACE: a new schema and partitioning, same table.
      await writeDelta(conn, at, `SELECT i::INT AS k, i % 3 AS part, 'r' || i AS v FROM range(9) r(i)`, {
        mode: 'create',
        partitionBy: ['part'],
      });
    },
    filter: 'part = 1',
    operations: ['WRITE', 'CREATE OR REPLACE TABLE AS SELECT'],
  },
  {
    name: 'delete',
    write: async (conn, at) => {
      await writeDelta(conn, at, rich(0, 10));
      await pause();
      await writeDelta(conn, at, rich(10, 20), { mode: 'append' });
      await pause();
      await deleteWhere(conn, at, 'id % 3 = 0');
      await pause();
      await deleteWhere(conn, at, 'id >= 10');
    },
    filter: 'id BETWEEN 4 AND 8',
    operations: ['WRITE', 'WRITE', 'DELETE', 'DELETE'],
  },
  {
    name: 'merge',
    write: async (conn, at) => {
      await writeDelta(conn, at, simple(0, 10));
      await pause();
      await conn.run(
        `CREATE OR REPLACE TABLE merge_source AS SELECT i::BIGINT AS id, 'm-' || i AS name, i % 4 = 0 AS gone FROM range(5, 15) r(i)`,
      );
      await mergeDelta(conn, at, {
        targetAlias: 't',
        statementTail: `USING merge_source s ON t.id = s.id
          WHEN MATCHED AND s.gone THEN DELETE
          WHEN MATCHED THEN UPDATE SET name = s.name
          WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name)`,
      });
      await pause();
      await conn.run(
        `CREATE OR REPLACE TABLE merge_source AS SELECT i::BIGINT AS id, 'n-' || i AS name FROM range(14, 18) r(i)`,
      );
      await mergeDelta(conn, at, {
        targetAlias: 't',
        statementTail: 'USING merge_source s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *',
      });
    },
    filter: "name LIKE 'm-%'",
    operations: ['WRITE', 'MERGE', 'MERGE'],
  },
  {
    name: 'partitioned',
    write: async (conn, at) => {
      // Nulls, empty strings (null to Spark too) and characters that partition folders must escape.
      const rows = `SELECT i::INT AS id,
          CASE i % 6 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'a b/c=d%e' WHEN 3 THEN 'ü:ß#?' ELSE 'plain' END AS cat,
          DATE '2024-02-28' + (i % 3)::INT AS day, (i % 4)::INT AS bucket, 'v' || i AS v`;
      await writeDelta(conn, at, `${rows} FROM range(0, 24) r(i)`, { partitionBy: ['cat', 'day', 'bucket'] });
      await pause();
      await writeDelta(conn, at, `${rows} FROM range(24, 36) r(i)`, { mode: 'append' });
      await pause();
      await deleteWhere(conn, at, "cat = 'plain' AND bucket = 1");
    },
    filter: "cat = 'a b/c=d%e' AND bucket >= 2",
    operations: ['WRITE', 'WRITE', 'DELETE'],
  },
  {
    name: 'partitioned-typed',
    write: async (conn, at) => {
      const rows = `SELECT i::INT AS id, TIMESTAMPTZ '2024-03-01 12:30:45.5+00' + to_seconds((i % 3) * 86400) AS ts,
          (i % 2 = 0) AS flag, ((i % 3) * 1.5)::DECIMAL(6,2) AS amount, (i % 3)::BIGINT AS big, 'w' || i AS v`;
      await writeDelta(conn, at, `${rows} FROM range(0, 12) r(i)`, {
        partitionBy: ['ts', 'flag', 'amount', 'big'],
      });
      await pause();
      await writeDelta(conn, at, `${rows} FROM range(12, 18) r(i)`, { mode: 'append' });
    },
    filter: "ts > TIMESTAMP '2024-03-02 00:00:00' AND flag",
    operations: ['WRITE', 'WRITE'],
  },
  {
    name: 'evolution',
    write: async (conn, at) => {
      await writeDelta(conn, at, simple(0, 5));
      await pause();
      await writeDelta(
        conn,
        at,
        `SELECT i::BIGINT AS id, 'e-' || i AS name, i * 0.5 AS score, DATE '2024-01-01' AS added FROM range(5, 10) r(i)`,
        { mode: 'append', schemaEvolution: 'addColumns' },
      );
      await pause();
      await writeDelta(conn, at, simple(10, 12, 'late'), { mode: 'append' });
    },
    filter: 'score IS NULL AND id > 3',
    operations: ['WRITE', 'WRITE', 'WRITE'],
  },
  {
    name: 'checkpoint',
    write: async (conn, at) => {
      await writeDelta(conn, at, rich(0, 5), { checkpointInterval: 2 });
      for (let v = 1; v <= 4; v++) {
        await pause();
        await writeDelta(conn, at, rich(v * 5, v * 5 + 5), { mode: 'append', checkpointInterval: 2 });
      }
      await pause();
      await deleteWhere(conn, at, 'id % 4 = 1', { checkpointInterval: 2 });
    },
    filter: 'id > 17',
    operations: ['WRITE', 'WRITE', 'WRITE', 'WRITE', 'WRITE', 'DELETE'],
  },
  {
    name: 'vacuum',
    write: async (conn, at) => {
      await writeDelta(conn, at, simple(0, 10));
      await pause();
      await writeDelta(conn, at, simple(0, 4, 'kept'), { mode: 'overwrite' });
      await pause();
      // Old enough to be vacuumed with no retention at all.
      const result = await openDeltaTable(at).vacuum({ retentionHours: 0, force: true });
      if (result.files.length !== 1)
        throw new Error(`vacuum deleted ${result.files.length} files, expected 1`);
    },
    filter: "name = 'kept-2'",
    unreadable: [0],
    operations: ['WRITE', 'WRITE', 'VACUUM END'],
  },
];

interface Prepared {
  table: OurTable;
  location: string;
  latest: number;
  /** An instant (ms) at which each version was the latest one. */
  instants: number[];
}

let root: string;
let conn: DuckDBConnection;
const prepared: Prepared[] = [];
let results: Map<string, SparkResult>;
let concurrent: ConcurrentRun;

/**
 * An instant at which each version was the latest. Spark goes by the commit files' modification times (the
 * protocol's commit timestamps), our reader by commitInfo.timestamp; they differ by a few ms (the file system's
 * coarse clock), so an instant between two commits is taken, and for the latest version its file's time (Spark
 * refuses instants after the latest commit).
 */
async function instantsOf(location: string, latest: number): Promise<number[]> {
  const infos = await openDeltaTable(location).commitTimestamps();
  const bounds = infos.map(({ version, timestamp }) => {
    const file = path.join(location, '_delta_log', `${String(version).padStart(20, '0')}.json`);
    const mtime = Math.floor(fs.statSync(file).mtimeMs);
    return { first: Math.min(mtime, timestamp), last: Math.max(mtime, timestamp), mtime };
  });
  return bounds.map((b, v) => (v < latest ? Math.floor((b.last + bounds[v + 1]!.first) / 2) : b.mtime));
}

function sqlInstant(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The statements that read one of our tables: every version and instant in one union, each schema, history. */
function readStatements(p: Prepared): SparkStatement[] {
  const from = deltaPath(p.location);
  const readable = (v: number) => !(p.table.unreadable ?? []).includes(v);
  const versions = Array.from({ length: p.latest + 1 }, (_, v) => v).filter(readable);
  const parts = [
    ...versions.map((v) => sparkJsonRows(`v${v}`, `${from} VERSION AS OF ${v}`)),
    ...versions.map((v) => sparkJsonRows(`t${v}`, `${from} TIMESTAMP AS OF '${sqlInstant(p.instants[v]!)}'`)),
    sparkJsonRows('filter', `${from} WHERE ${p.table.filter}`),
  ];
  return [
    { id: `ours/${p.table.name}/rows`, sql: parts.join('\nUNION ALL\n') },
    ...versions.map((v) => ({
      id: `ours/${p.table.name}/schema/${v}`,
      sql: `SELECT * FROM ${from} VERSION AS OF ${v} LIMIT 0`,
    })),
    { id: `ours/${p.table.name}/history`, sql: `DESCRIBE HISTORY ${from}` },
  ];
}

beforeAll(async () => {
  if (!ok) return;
  root = tempDir('spark-interop');
  conn = await newConnection();
  for (const table of OUR_TABLES) {
    const location = path.join(root, 'ours', table.name);
    await table.write(conn, location);
    const latest = await openDeltaTable(location).latestVersion();
    prepared.push({ table, location, latest, instants: [] });
  }
  await pause();
  for (const p of prepared) p.instants = await instantsOf(p.location, p.latest);

  const shared = path.join(root, 'concurrent');
  await writeDelta(conn, shared, 'SELECT 0::BIGINT AS id, 0 AS writer, 0 AS n');
  const job = runSparkJob({
    statements: [
      ...concurrentStatements(shared),
      ...prepared.flatMap(readStatements),
      ...sparkWrites(path.join(root, 'spark')),
    ],
  });
  // Our writer appends to the shared table for as long as the Spark job runs (its first statements append too).
  const [sparkResults, appends] = await Promise.all([job, concurrentAppends(conn, shared, job)]);
  results = sparkResults;
  concurrent = { location: shared, ours: appends };
}, 1_900_000);

afterAll(() => conn?.closeSync());

describe.runIf(ok)('Spark reads what our writer wrote', () => {
  test.each(OUR_TABLES.map((t) => t.name))('%s: every version, by version and by timestamp', async (name) => {
    const p = prepared.find((x) => x.table.name === name)!;
    const byKey = rowsByKey(resultOf(results, `ours/${name}/rows`));
    for (let v = 0; v <= p.latest; v++) {
      if ((p.table.unreadable ?? []).includes(v)) continue;
      const ours = await ourJsonRows(conn, p.location, { version: v });
      const expected = canonicalRows(ours.schema, ours.rows);
      expect({ version: v, rows: canonicalRows(ours.schema, byKey.get(`v${v}`) ?? []) }).toEqual({
        version: v,
        rows: expected,
      });
      expect({ instant: v, rows: canonicalRows(ours.schema, byKey.get(`t${v}`) ?? []) }).toEqual({
        instant: v,
        rows: expected,
      });
      // Our reader agrees on which version each instant between two commits is.
      if (v < p.latest) {
        const atInstant = await openDeltaTable(p.location).snapshot({ timestamp: p.instants[v]! });
        expect(atInstant.version).toBe(v);
      }

      const columns = resultOf(results, `ours/${name}/schema/${v}`).columns!;
      expect(columns).toEqual(ours.schema.fields.map((f) => ({ name: f.name, type: sparkTypeName(f.type) })));
    }
    const latest = await ourJsonRows(conn, p.location, { where: p.table.filter });
    const filtered = canonicalRows(latest.schema, byKey.get('filter') ?? []);
    expect(filtered).toEqual(canonicalRows(latest.schema, latest.rows));
    expect(filtered.length).toBeGreaterThan(0);
  });

  test.each(OUR_TABLES.map((t) => t.name))('%s: DESCRIBE HISTORY lists our commits', async (name) => {
    const p = prepared.find((x) => x.table.name === name)!;
    const history = resultOf(results, `ours/${name}/history`);
    const column = (row: unknown[], c: string) => row[history.columns!.findIndex((x) => x.name === c)];
    const rows = [...history.rows!].reverse();
    const ours = (await openDeltaTable(p.location).history()).reverse();
    expect(rows.map((r) => Number(column(r, 'version')))).toEqual(ours.map((h) => h.version));
    expect(rows.map((r) => column(r, 'operation'))).toEqual(p.table.operations);
    for (const [i, row] of rows.entries()) {
      // Spark takes a commit's time from its file; our writer gives the file the commitInfo's timestamp.
      const at = Date.parse(`${String(column(row, 'timestamp')).replace(' ', 'T')}Z`);
      expect({ version: i, at }).toEqual({ version: i, at: ours[i]!.timestamp });
      expect(column(row, 'engineInfo')).toBe(ours[i]!.engineInfo);
      expect(column(row, 'operationMetrics')).toEqual(ours[i]!.operationMetrics);
    }
  });
});

describe.runIf(ok)('our reader reads what Spark wrote', () => {
  test.each(SPARK_TABLES.map((t) => t.name))('%s: every version', async (name) => {
    const table = SPARK_TABLES.find((t) => t.name === name)!;
    const location = path.join(root, 'spark', name);
    const byKey = rowsByKey(resultOf(results, `spark/${name}/rows`));
    expect(await openDeltaTable(location).latestVersion()).toBe(table.latest);
    for (let v = 0; v <= table.latest; v++) {
      if ([...(table.unreadable ?? []), ...(table.refused ?? [])].includes(v)) continue;
      const ours = await ourJsonRows(conn, location, { version: v });
      expect({ version: v, rows: canonicalRows(ours.schema, ours.rows) }).toEqual({
        version: v,
        rows: canonicalRows(ours.schema, byKey.get(`v${v}`) ?? []),
      });
      const columns = resultOf(results, `spark/${name}/schema/${v}`).columns!;
      expect(ours.schema.fields.map((f) => ({ name: f.name, type: sparkTypeName(f.type) }))).toEqual(columns);
    }
    await table.check?.(location);
  });
});

describe.runIf(ok)('our writer and Spark commit to one table at the same time', () => {
  test('no commit is lost or overwritten', async () => {
    const sparkInserts = concurrentStatements(concurrent.location).filter((s) =>
      s.id.startsWith('concurrent/insert'),
    );
    for (const s of sparkInserts) resultOf(results, s.id);
    const table = openDeltaTable(concurrent.location);
    const history = await table.history();
    const versions = history.map((h) => h.version).sort((a, b) => a - b);
    // Every version from 0 to the latest is there, once.
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i));
    const ours = history.filter((h) => h.engineInfo?.startsWith('actions-lakehouse'));
    const spark = history.filter((h) => h.engineInfo?.includes('Delta-Lake'));
    // Our create, our appends, and one commit per Spark INSERT, each still holding its own commitInfo.
    expect(ours.length).toBe(concurrent.ours.length + 1);
    expect(spark.filter((h) => h.operation === 'WRITE').length).toBe(sparkInserts.length);
    for (const v of concurrent.ours) {
      expect(history.find((h) => h.version === v)?.engineInfo).toMatch(/^actions-lakehouse/);
    }
    // Both wrote while the other did: their versions interleave.
    const first = Math.min(...spark.map((h) => h.version));
    expect(concurrent.ours.some((v) => v > first)).toBe(true);
    const rows = await ourJsonRows(conn, concurrent.location);
    expect(rows.rows.length).toBe(1 + concurrent.ours.length + sparkInserts.length);
  });
});
