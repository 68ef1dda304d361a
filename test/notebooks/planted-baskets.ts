// Baskets with planted 4- and 5-item patterns, and the independent count notebook 04's itemsets and rules are checked
// against on each engine (test/notebooks/rules-any-length.test.ts on DuckDB, test/spark/rules-any-length-spark.test.ts
// on Spark): every subset of every basket counted, every split of every frequent itemset measured, as mlxtend's
// apriori + association_rules define them.
import { expect } from 'vitest';

/** A seeded generator, so that the baskets are the same on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const ITEMS = Array.from({ length: 14 }, (_, i) => `item ${String.fromCharCode(97 + i)}`);
export const PATTERN_5 = ['item a', 'item b', 'item c', 'item d', 'item e'];
export const PATTERN_4 = ['item f', 'item g', 'item h', 'item i'];

/** 300 baskets: noise of 1–4 items, plus one of the two patterns (whole or with an item missing) in some. */
export function plantedBaskets(): string[][] {
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
export function bruteForceItemsets(
  baskets: string[][],
  minSupport: number,
  maxLen: number,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const basket of baskets)
    for (const set of subsets(basket))
      if (maxLen <= 0 || set.length <= maxLen)
        counts.set(set.join('|'), (counts.get(set.join('|')) ?? 0) + 1);
  const frequent = new Map<string, number>();
  for (const [key, n] of counts) if (n / baskets.length >= minSupport) frequent.set(key, n / baskets.length);
  return frequent;
}

export interface Rule {
  support: number;
  confidence: number;
  lift: number;
}

/** mlxtend's association_rules(metric='confidence', min_threshold), by splitting every frequent itemset. */
export function bruteForceRules(itemsets: Map<string, number>, minConfidence: number): Map<string, Rule> {
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

export function expectSameRules(ours: Map<string, Rule>, theirs: Map<string, Rule>) {
  expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
  for (const [key, rule] of theirs) {
    const our = ours.get(key)!;
    for (const metric of ['support', 'confidence', 'lift'] as const)
      expect(our[metric], `${key} ${metric}`).toBeCloseTo(rule[metric], 12);
  }
}
