// The evidence behind notebooks/README.md, "Writing SQL that both engines run": each rule's construct on Spark 4.0
// (one JVM, every statement run even when one fails) and on DuckDB with the runner's Spark macros, showing where they
// disagree, and the form the notebooks use instead giving one answer on both.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenize } from '../../src/notebooks/lexer.ts';
import { createDeltaTableStore } from '../../src/notebooks/delta-table-store.ts';
import { renderForDuckDB } from '../../src/notebooks/params.ts';
import { installSparkCompat } from '../../src/notebooks/spark-compat.ts';
import { runSparkJob, type SparkResult } from '../../src/spark/engine.ts';
import { needsSpark } from '../helpers/services.ts';
import { openDuckDB } from '../notebooks/helpers.ts';

const ok = await needsSpark();

/** What a statement gave: its first value as text (null stays null), or the error. */
type Outcome = string | null | { error: RegExp };

interface Case {
  rule: string;
  sql: string;
  spark: Outcome;
  duckdb: Outcome;
}

const CASES: Case[] = [
  { rule: 'year() type', sql: "SELECT typeof(year(DATE '2024-01-02'))", spark: 'int', duckdb: 'BIGINT' },
  {
    rule: 'year() cast',
    sql: "SELECT CAST(year(DATE '2024-01-02') AS INT) + 0.5",
    spark: '2024.5',
    duckdb: '2024.5',
  },
  {
    rule: 'sum() type',
    sql: 'SELECT typeof(sum(x)) FROM (VALUES (CAST(1 AS BIGINT))) AS v(x)',
    spark: 'bigint',
    duckdb: 'HUGEINT',
  },
  {
    rule: 'count_if() type',
    sql: 'SELECT typeof(count_if(x > 0)) FROM (VALUES (1)) AS v(x)',
    spark: 'bigint',
    duckdb: 'HUGEINT',
  },
  {
    rule: 'decimal division',
    sql: 'SELECT CAST(1 / 3.0 AS STRING)',
    spark: '0.333333',
    duckdb: '0.3333333333333333',
  },
  {
    rule: 'double division',
    sql: 'SELECT CAST(1 AS DOUBLE) / 3',
    spark: '0.3333333333333333',
    duckdb: '0.3333333333333333',
  },
  {
    rule: 'division by zero',
    sql: 'SELECT CAST(1 AS DOUBLE) / 0',
    spark: { error: /DIVIDE_BY_ZERO/ },
    duckdb: 'Infinity',
  },
  {
    rule: 'integer division by zero',
    sql: 'SELECT 1 / 0',
    spark: { error: /DIVIDE_BY_ZERO/ },
    duckdb: 'Infinity',
  },
  {
    rule: 'guarded division',
    sql: 'SELECT CASE WHEN d = 0 THEN NULL ELSE n / d END FROM (VALUES (CAST(1 AS DOUBLE), CAST(0 AS DOUBLE))) AS v(n, d)',
    spark: null,
    duckdb: null,
  },
  { rule: 'concat with NULL', sql: "SELECT concat('a', CAST(NULL AS STRING))", spark: null, duckdb: 'a' },
  {
    rule: 'concat_ws with NULL',
    sql: "SELECT concat_ws(', ', 'a', CAST(NULL AS STRING), 'b')",
    spark: 'a, b',
    duckdb: 'a, b',
  },
  { rule: 'Infinity', sql: "SELECT CAST('Infinity' AS DOUBLE) > 1e308", spark: 'true', duckdb: 'true' },
  { rule: 'cast to INT', sql: 'SELECT CAST(1.7 AS INT)', spark: '1', duckdb: '2' },
  { rule: 'floor, then cast', sql: 'SELECT CAST(floor(1.7) AS INT)', spark: '1', duckdb: '1' },
  {
    rule: 'string to INT',
    sql: "SELECT CAST('1.7' AS INT)",
    spark: { error: /CAST_INVALID_INPUT/ },
    duckdb: '2',
  },
  { rule: 'substr from 0', sql: "SELECT substr('hello', 0, 2)", spark: 'he', duckdb: 'h' },
  { rule: 'substr from 1', sql: "SELECT substr('hello', 1, 2)", spark: 'he', duckdb: 'he' },
  { rule: 'dayofweek', sql: "SELECT dayofweek(DATE '2024-01-07')", spark: '1', duckdb: '1' },
  { rule: 'regexp_replace', sql: "SELECT regexp_replace('a1b2', '[0-9]', '')", spark: 'ab', duckdb: 'ab' },
];

/** MERGE rules, on a Delta table each engine writes itself. */
const MERGE_SETUP = "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(id, v)";
const MERGE_CASES = [
  {
    rule: 'two source rows for one target row',
    tail: "USING (SELECT 1 AS id, 'x' AS v UNION ALL SELECT 1, 'y') s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v",
    spark: { error: /DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE/ },
    // Our Delta module refuses it as Delta does (src/delta/merge.ts), rather than keep one source row at random.
    duckdb: { error: /DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE/ },
  },
  {
    rule: 'target alias in SET',
    tail: "USING (SELECT 1 AS id, 'x' AS v) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.v = s.v",
    spark: 'x',
    duckdb: { error: /Qualified column names in UPDATE .. SET not supported/ },
  },
  {
    rule: 'unqualified SET, one row per key',
    tail: "USING (SELECT 1 AS id, 'x' AS v) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v",
    spark: 'x',
    duckdb: 'x',
  },
] as const;

const first = (r: SparkResult): Outcome => {
  if (!r.ok) return r.error;
  const v = r.rows?.[0]?.[0];
  return v === null || v === undefined ? null : String(v);
};

function expectOutcome(actual: Outcome | string, expected: Outcome, what: string) {
  if (expected !== null && typeof expected === 'object') expect(String(actual), what).toMatch(expected.error);
  else expect(actual, what).toBe(expected);
}

describe.skipIf(!ok)('the dialect rules, on Spark and on DuckDB', () => {
  let dir: string;
  const spark = new Map<string, SparkResult>();

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'dialect-'));
    const merges = MERGE_CASES.flatMap((c, i) => [
      { id: `m${i}-create`, sql: `CREATE OR REPLACE TABLE m.t${i} USING DELTA AS ${MERGE_SETUP}` },
      { id: `m${i}`, sql: `MERGE INTO m.t${i} AS t ${c.tail}` },
      { id: `m${i}-read`, sql: `SELECT v FROM m.t${i} WHERE id = 1` },
    ]);
    const outcome = await runSparkJob({
      master: 'local[1]',
      conf: {
        'spark.driver.memory': '1g',
        'spark.sql.warehouse.dir': path.join(dir, 'warehouse'),
        'spark.driver.bindAddress': '127.0.0.1',
        'spark.driver.host': '127.0.0.1',
      },
      delta: { root: path.join(dir, 'spark'), schemas: ['m'] },
      continueOnError: true,
      statements: [...CASES.map((c, i) => ({ id: `c${i}`, sql: c.sql })), ...merges],
    });
    for (const r of outcome.results) spark.set(r.id, r);
  }, 600_000);

  afterAll(async () => {
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it.each(CASES.map((c, i) => [c.rule, i] as const))('%s', async (_rule, i) => {
    const c = CASES[i]!;
    expectOutcome(first(spark.get(`c${i}`)!), c.spark, `Spark: ${c.sql}`);
    const duck = await openDuckDB();
    try {
      await installSparkCompat(duck.conn);
      const sql = renderForDuckDB(tokenize(c.sql), {});
      const actual = await duck.conn.runAndReadAll(sql).then(
        (r) => {
          const v = r.getRows()[0]?.[0];
          return v === null || v === undefined ? null : String(v);
        },
        (e: Error) => e.message,
      );
      expectOutcome(actual, c.duckdb, `DuckDB: ${c.sql}`);
    } finally {
      duck.close();
    }
  });

  it.each(MERGE_CASES.map((c, i) => [c.rule, i] as const))('MERGE, %s', async (_rule, i) => {
    const c = MERGE_CASES[i]!;
    const merged = spark.get(`m${i}`)!;
    expectOutcome(merged.ok ? first(spark.get(`m${i}-read`)!) : merged.error, c.spark, `Spark: ${c.tail}`);
    const duck = await openDuckDB();
    try {
      const store = createDeltaTableStore(duck.conn, path.join(dir, `duck${i}`));
      const table = { schema: 'm', name: 't' };
      await store.createOrReplace(table, MERGE_SETUP, {
        partitionBy: [],
      });
      const actual = await store.merge(table, 't', c.tail).then(
        async () =>
          String((await duck.conn.runAndReadAll('SELECT v FROM m.t WHERE id = 1')).getRows()[0]![0]),
        (e: Error) => e.message,
      );
      expectOutcome(actual, c.duckdb, `DuckDB: ${c.tail}`);
    } finally {
      duck.close();
    }
  });
});
