// notebooks/04_basket_rules.sql mines itemsets and rules of any length, as mlxtend's apriori + association_rules
// do: baskets with planted 4- and 5-item patterns, checked against an independent count (./planted-baskets.ts: every
// subset of every basket counted, every split of every frequent itemset measured). Also max_len, and thresholds
// that leave no rules (the checks must hold over empty tables).
import type { DuckDBConnection, JS } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNotebooks } from '../../src/notebooks/runner.ts';
import type { SqlSource } from '../../src/notebooks/sql-source.ts';
import { createDuckDBTableStore } from '../../src/notebooks/table-store.ts';
import { allNotebooks, openDuckDB } from './helpers.ts';
import {
  bruteForceItemsets,
  bruteForceRules,
  expectSameRules,
  PATTERN_4,
  PATTERN_5,
  plantedBaskets,
} from './planted-baskets.ts';

const RULES_NOTEBOOK = allNotebooks.find((f) => f.endsWith('04_basket_rules.sql'))!;

/** Notebook 04 reads silver tables only: a source that is never asked for anything. */
const NO_SOURCE: SqlSource = {
  extractTable: () => Promise.reject(new Error('notebook 04 extracts nothing')),
} as unknown as SqlSource;

let duck: Awaited<ReturnType<typeof openDuckDB>>;
let conn: DuckDBConnection;
const baskets = plantedBaskets();

const rows = async (sql: string): Promise<Record<string, JS>[]> =>
  (await conn.runAndReadAll(sql)).getRowObjectsJS();

async function mine(minSupport: number, maxLen: number, minConfidence: number) {
  await runNotebooks({
    notebooks: [RULES_NOTEBOOK],
    conn,
    tables: createDuckDBTableStore(conn),
    source: NO_SOURCE,
    params: {
      min_support: minSupport,
      max_len: maxLen,
      metric: 'confidence',
      min_threshold: minConfidence,
      confidence_above: 0,
    },
  });
  const itemsets = new Map(
    (await rows('SELECT itemsets, support FROM gold.frequent_itemsets')).map((r) => [
      (r.itemsets as string[]).join('|'),
      r.support as number,
    ]),
  );
  const rules = new Map(
    (
      await rows('SELECT antecedents, consequents, support, confidence, lift FROM gold.association_rules')
    ).map((r) => [
      `${(r.antecedents as string[]).join('|')} => ${(r.consequents as string[]).join('|')}`,
      { support: r.support as number, confidence: r.confidence as number, lift: r.lift as number },
    ]),
  );
  return { itemsets, rules };
}

beforeAll(async () => {
  duck = await openDuckDB();
  conn = duck.conn;
  await conn.run('CREATE SCHEMA silver; CREATE SCHEMA gold');
  const values = baskets.flatMap((items, b) => items.map((item) => `(${b}, '${item}')`)).join(', ');
  await conn.run(
    `CREATE TABLE silver.transactions AS SELECT * FROM (VALUES ${values}) AS t(basket_id, item)`,
  );
  await conn.run('CREATE TABLE silver.baskets AS SELECT DISTINCT basket_id FROM silver.transactions');
});

afterAll(() => duck?.close());

describe('notebooks/04_basket_rules.sql on baskets with planted 4- and 5-item patterns', () => {
  it('finds every frequent itemset, of every length, with its support', async () => {
    const { itemsets } = await mine(0.05, 0, 0.5);
    const theirs = bruteForceItemsets(baskets, 0.05, 0);
    expect(Math.max(...[...theirs.keys()].map((k) => k.split('|').length))).toBe(5);
    expect([...itemsets.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [key, support] of theirs) expect(itemsets.get(key), key).toBeCloseTo(support, 12);
    expect(itemsets.get(PATTERN_5.join('|'))).toBeGreaterThan(0.05);
    expect(itemsets.get(PATTERN_4.join('|'))).toBeGreaterThan(0.05);
  });

  it('gets every rule mlxtend would, antecedents and consequents of up to four items', async () => {
    const { itemsets, rules } = await mine(0.05, 0, 0.5);
    const theirs = bruteForceRules(bruteForceItemsets(baskets, 0.05, 0), 0.5);
    expect(itemsets.size).toBeGreaterThan(0);
    expect([...theirs.keys()].some((k) => k.split(' => ')[0]!.split('|').length === 4)).toBe(true);
    expectSameRules(rules, theirs);
  });

  it('stops at max_len, as mlxtend does', async () => {
    const { itemsets, rules } = await mine(0.05, 3, 0.5);
    const theirs = bruteForceItemsets(baskets, 0.05, 3);
    expect(Math.max(...[...itemsets.keys()].map((k) => k.split('|').length))).toBe(3);
    expect([...itemsets.keys()].sort()).toEqual([...theirs.keys()].sort());
    expectSameRules(rules, bruteForceRules(theirs, 0.5));
  });

  it.each([1, 2, 4])('stops at max_len %i too', async (maxLen) => {
    const { itemsets, rules } = await mine(0.05, maxLen, 0.5);
    const theirs = bruteForceItemsets(baskets, 0.05, maxLen);
    expect(Math.max(...[...itemsets.keys()].map((k) => k.split('|').length))).toBe(maxLen);
    expect([...itemsets.keys()].sort()).toEqual([...theirs.keys()].sort());
    expectSameRules(rules, bruteForceRules(theirs, 0.5));
  });

  it('writes empty tables, and its checks pass, when the thresholds leave nothing', async () => {
    const { itemsets, rules } = await mine(0.9, 0, 0.5);
    expect(itemsets.size).toBe(0);
    expect(rules.size).toBe(0);
    const some = await mine(0.05, 0, 1.01);
    expect(some.itemsets.size).toBeGreaterThan(0);
    expect(some.rules.size).toBe(0);
  });
});
