// notebooks/04_basket_rules.sql mines itemsets and rules of any length, as mlxtend's apriori + association_rules
// do: baskets with planted 4- and 5-item patterns, checked against an independent count in this file (every
// subset of every basket counted, every split of every frequent itemset measured). Also max_len, and thresholds
// that leave no rules (the checks must hold over empty tables).
import type { DuckDBConnection, JS } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNotebooks } from '../../src/notebooks/runner.ts';
import type { SqlSource } from '../../src/notebooks/sql-source.ts';
import { createDuckDBTableStore } from '../../src/notebooks/table-store.ts';
import { allNotebooks, openDuckDB } from './helpers.ts';

const RULES_NOTEBOOK = allNotebooks.find((f) => f.endsWith('04_basket_rules.sql'))!;

/** Notebook 04 reads silver tables only: a source that is never asked for anything. */
const NO_SOURCE: SqlSource = {
  extractTable: () => Promise.reject(new Error('notebook 04 extracts nothing')),
} as unknown as SqlSource;

/** A seeded generator, so that the baskets are the same on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const ITEMS = Array.from({ length: 14 }, (_, i) => `item ${String.fromCharCode(97 + i)}`);
const PATTERN_5 = ['item a', 'item b', 'item c', 'item d', 'item e'];
const PATTERN_4 = ['item f', 'item g', 'item h', 'item i'];

/** 300 baskets: noise of 1–4 items, plus one of the two patterns (whole or with an item missing) in some. */
function plantedBaskets(): string[][] {
  const next = random(42);
  return Array.from({ length: 300 }, (_, b) => {
    const basket = new Set<string>();
    const noise = 1 + Math.floor(next() * 4);
    for (let i = 0; i < noise; i++) basket.add(ITEMS[Math.floor(next() * ITEMS.length)]!);
    const pattern = b % 5 === 0 ? PATTERN_5 : b % 7 === 0 ? PATTERN_4 : undefined;
    if (pattern) for (const item of pattern) if (next() > 0.1) basket.add(item);
    return [...basket].sort();
  });
}

/** Every non-empty subset of a sorted list (small baskets only). */
function subsets(items: string[]): string[][] {
  const out: string[][] = [];
  for (let mask = 1; mask < 2 ** items.length; mask++) out.push(items.filter((_, i) => (mask >> i) & 1));
  return out;
}

/** The independent count: support of every itemset held by at least min_support of the baskets. */
function bruteForceItemsets(baskets: string[][], minSupport: number, maxLen: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const basket of baskets)
    for (const set of subsets(basket))
      if (maxLen <= 0 || set.length <= maxLen)
        counts.set(set.join('|'), (counts.get(set.join('|')) ?? 0) + 1);
  const frequent = new Map<string, number>();
  for (const [key, n] of counts) if (n / baskets.length >= minSupport) frequent.set(key, n / baskets.length);
  return frequent;
}

interface Rule {
  support: number;
  confidence: number;
  lift: number;
}

/** mlxtend's association_rules(metric='confidence', min_threshold), by splitting every frequent itemset. */
function bruteForceRules(itemsets: Map<string, number>, minConfidence: number): Map<string, Rule> {
  const rules = new Map<string, Rule>();
  for (const [key, support] of itemsets) {
    const items = key.split('|');
    if (items.length < 2) continue;
    for (const antecedent of subsets(items)) {
      if (antecedent.length === items.length) continue;
      const consequent = items.filter((i) => !antecedent.includes(i));
      const a = itemsets.get(antecedent.join('|'))!;
      const c = itemsets.get(consequent.join('|'))!;
      const confidence = support / a;
      if (confidence >= minConfidence)
        rules.set(`${antecedent.join('|')} => ${consequent.join('|')}`, {
          support,
          confidence,
          lift: confidence / c,
        });
    }
  }
  return rules;
}

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

function expectSameRules(ours: Map<string, Rule>, theirs: Map<string, Rule>) {
  expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
  for (const [key, rule] of theirs) {
    const our = ours.get(key)!;
    for (const metric of ['support', 'confidence', 'lift'] as const)
      expect(our[metric], `${key} ${metric}`).toBeCloseTo(rule[metric], 12);
  }
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

  it('writes empty tables, and its checks pass, when the thresholds leave nothing', async () => {
    const { itemsets, rules } = await mine(0.9, 0, 0.5);
    expect(itemsets.size).toBe(0);
    expect(rules.size).toBe(0);
    const some = await mine(0.05, 0, 1.01);
    expect(some.itemsets.size).toBeGreaterThan(0);
    expect(some.rules.size).toBe(0);
  });
});
