// notebooks/04_basket_rules.sql on Apache Spark with Delta Lake, on the baskets with planted 4- and 5-item patterns
// of test/notebooks/rules-any-length.test.ts (DuckDB): the same itemsets and rules as the independent count, of
// every length and stopped at max_len. The silver tables are Delta tables written by the project's own Delta module,
// so Spark reads what our writer wrote; the gold tables Spark writes are read back through our reader.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, JS } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDeltaView } from '../../src/delta/index.ts';
import { createDeltaTableStore } from '../../src/notebooks/delta-table-store.ts';
import { transformOnSpark } from '../../src/stages/transform-spark.ts';
import { silentLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { needsPostgres, needsSpark } from '../helpers/services.ts';
import { postgresEngine } from '../helpers/sql-engines.ts';
import { allNotebooks, openDuckDB } from '../notebooks/helpers.ts';
import {
  bruteForceItemsets,
  bruteForceRules,
  expectSameRules,
  plantedBaskets,
} from '../notebooks/planted-baskets.ts';

const ok = (await needsPostgres()) && (await needsSpark());
const RULES_NOTEBOOK = allNotebooks.find((f) => f.endsWith('04_basket_rules.sql'))!;
const MIN_SUPPORT = 0.05;
const MIN_CONFIDENCE = 0.5;

describe.skipIf(!ok)('notebook 04 on Spark, on baskets with planted 4- and 5-item patterns', () => {
  const baskets = plantedBaskets();
  let dir: string;
  let duck: Awaited<ReturnType<typeof openDuckDB>>;
  let conn: DuckDBConnection;

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lh-spark-rules-'));
    duck = await openDuckDB();
    conn = duck.conn;
    const tables = createDeltaTableStore(conn, path.join(dir, 'delta'));
    const values = baskets.flatMap((items, b) => items.map((item) => `(${b}, '${item}')`)).join(', ');
    await tables.createOrReplace(
      { schema: 'silver', name: 'transactions' },
      `SELECT CAST(basket_id AS BIGINT) AS basket_id, item FROM (VALUES ${values}) AS t(basket_id, item)`,
      { partitionBy: [] },
    );
    await tables.createOrReplace(
      { schema: 'silver', name: 'baskets' },
      `SELECT DISTINCT CAST(basket_id AS BIGINT) AS basket_id FROM (VALUES ${values}) AS t(basket_id, item)`,
      { partitionBy: [] },
    );
  });

  afterAll(async () => {
    duck?.close();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  /** Runs notebook 04 on Spark with max_len, and reads the gold tables it wrote. */
  async function mineOnSpark(maxLen: number) {
    await transformOnSpark({
      notebooks: [RULES_NOTEBOOK],
      deltaRoot: path.join(dir, 'delta'),
      // Notebook 04 extracts nothing; the store is there because every Spark run names one.
      sql: postgresEngine.target('lh_spark_rules'),
      params: {
        min_support: MIN_SUPPORT,
        max_len: maxLen,
        metric: 'confidence',
        min_threshold: MIN_CONFIDENCE,
        confidence_above: 0,
      },
      run: currentRun({}),
      master: 'local[2]',
      conf: { 'spark.driver.memory': '1g' },
      log: silentLogger,
    });
    const read = async (table: string, sql: string): Promise<Record<string, JS>[]> => {
      await registerDeltaView(conn, table, path.join(dir, 'delta/gold', table));
      return (await conn.runAndReadAll(sql)).getRowObjectsJS();
    };
    const itemsets = new Map(
      (await read('frequent_itemsets', 'SELECT itemsets, support FROM frequent_itemsets')).map((r) => [
        (r.itemsets as string[]).join('|'),
        r.support as number,
      ]),
    );
    const rules = new Map(
      (
        await read(
          'association_rules',
          'SELECT antecedents, consequents, support, confidence, lift FROM association_rules',
        )
      ).map((r) => [
        `${(r.antecedents as string[]).join('|')} => ${(r.consequents as string[]).join('|')}`,
        { support: r.support as number, confidence: r.confidence as number, lift: r.lift as number },
      ]),
    );
    return { itemsets, rules };
  }

  it.each([0, 3])(
    'with max_len %i finds every itemset and rule the independent count finds',
    async (maxLen) => {
      const { itemsets, rules } = await mineOnSpark(maxLen);
      const theirs = bruteForceItemsets(baskets, MIN_SUPPORT, maxLen);
      expect(Math.max(...[...theirs.keys()].map((k) => k.split('|').length))).toBe(maxLen || 5);
      expect([...itemsets.keys()].sort()).toEqual([...theirs.keys()].sort());
      for (const [key, support] of theirs) expect(itemsets.get(key), key).toBeCloseTo(support, 12);
      expectSameRules(rules, bruteForceRules(theirs, MIN_CONFIDENCE));
    },
    600_000,
  );
});
