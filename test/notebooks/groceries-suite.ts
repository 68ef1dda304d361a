// The notebooks on the real grocery dataset, checked against the original analysis
// (../shared/data/groceries: Apriori_rules.csv and FP_rules.csv, computed with mlxtend). The load stage
// loads the dataset into an engine, and the notebooks extract it from there: groceries.test.ts runs this
// on PGlite, groceries-postgres.test.ts and groceries-mariadb.test.ts on the servers.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, JS } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBucket } from '../../src/bucket/file.ts';
import type { DatasetConfig } from '../../src/config/schema.ts';
import { runNotebooks, type RunResult } from '../../src/notebooks/runner.ts';
import { createStoreSource } from '../../src/notebooks/sql-source.ts';
import { createDuckDBTableStore } from '../../src/notebooks/table-store.ts';
import { openSqlStore } from '../../src/sql/index.ts';
import type { SqlSession } from '../../src/sql/types.ts';
import { load } from '../../src/stages/load.ts';
import { silentLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { needsShared } from '../helpers/services.ts';
import type { EngineUnderTest } from '../helpers/sql-engines.ts';
import {
  allNotebooks,
  APRIORI_PARAMS,
  DATASET,
  frozenset,
  groceriesDir,
  OBJECT_NAME,
  openDuckDB,
  readRulesCsv,
} from './helpers.ts';
import { groceriesDataset } from '../helpers/datasets.ts';
import { RUN_TABLES } from '../spark/compare.ts';

export const METRICS = [
  ['antecedent support', 'antecedent_support'],
  ['consequent support', 'consequent_support'],
  ['support', 'support'],
  ['confidence', 'confidence'],
  ['lift', 'lift'],
  ['representativity', 'representativity'],
  ['leverage', 'leverage'],
  ['conviction', 'conviction'],
  ['zhangs_metric', 'zhangs_metric'],
  ['jaccard', 'jaccard'],
  ['certainty', 'certainty'],
  ['kulczynski', 'kulczynski'],
] as const;

/** The groceries dataset as lakehouse.yml describes it: the table the notebooks extract as dbo.transactions. */
const groceries: DatasetConfig = { ...groceriesDataset(), name: DATASET };

type Row = Record<string, JS>;
export const ruleKey = (antecedents: string[], consequents: string[]) =>
  `${[...antecedents].sort().join(' & ')} => ${[...consequents].sort().join(' & ')}`;

async function rows(conn: DuckDBConnection, sql: string): Promise<Row[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS();
}

export async function ourRules(conn: DuckDBConnection): Promise<Map<string, Row>> {
  const rules = await rows(conn, 'SELECT * FROM gold.association_rules');
  return new Map(rules.map((r) => [ruleKey(r.antecedents as string[], r.consequents as string[]), r]));
}

export function expectedRules(file: string): Map<string, Record<string, string>> {
  // FP_rules.csv keeps the untrimmed names ('cream cheese '): compare trimmed names.
  const trimmed = (text: string) => frozenset(text).map((s) => s.trim());
  return new Map(
    readRulesCsv(file).map((r) => [ruleKey(trimmed(r.antecedents!), trimmed(r.consequents!)), r]),
  );
}

export function expectSameMetrics(key: string, ours: Row, theirs: Record<string, string>) {
  for (const [csvColumn, column] of METRICS) {
    const expected = Number(theirs[csvColumn]);
    const actual = ours[column] as number;
    if (!(Math.abs(actual - expected) <= 1e-9)) {
      expect.fail(`${key}: ${column} is ${actual}, mlxtend says ${expected}`);
    }
  }
}

/** Whether the suite can run on `engine`: ../shared and the engine (each skips with a printed reason). */
export async function groceriesAvailable(engine: EngineUnderTest): Promise<boolean> {
  return (await needsShared()) && (await engine.available());
}

export function defineGroceriesSuite(engine: EngineUnderTest, namespace: string, ok: boolean): void {
  describe.skipIf(!ok)(`the notebooks on the grocery dataset, extracted from ${engine.name}`, () => {
    let dir: string;
    let session: SqlSession;
    let duck: Awaited<ReturnType<typeof openDuckDB>>;
    let conn: DuckDBConnection;
    let run: RunResult;

    const runWith = (params: Record<string, string | number | boolean>) =>
      runNotebooks({
        notebooks: allNotebooks,
        conn,
        tables: createDuckDBTableStore(conn),
        source: createStoreSource(session, { tempDir: dir }),
        params,
      });

    beforeAll(async () => {
      await engine.reset(namespace);
      dir = await fsp.mkdtemp(path.join(os.tmpdir(), `groceries-${namespace}-`));
      session = await openSqlStore(engine.target(namespace));
      const bucket = new FileBucket(path.join(dir, 'bucket'));
      await bucket.upload(path.join(groceriesDir, 'transactions.csv'), OBJECT_NAME);
      const loaded = await load({
        session,
        bucket,
        datasets: [groceries],
        destination: '{dataset}/{file}',
        run: currentRun({}),
        log: silentLogger,
      });
      expect(loaded.totals).toMatchObject({ loaded: 1, rowsLoaded: 38_765, rowsQuarantined: 0 });
      duck = await openDuckDB();
      conn = duck.conn;
      run = await runWith(APRIORI_PARAMS);
    });

    afterAll(async () => {
      duck?.close();
      await session?.close();
      if (dir) await fsp.rm(dir, { recursive: true, force: true });
    });

    it('writes every silver and gold table, in notebook order', () => {
      expect(run.tables.map((t) => t.table)).toEqual(RUN_TABLES);
      expect(run.tables.find((t) => t.table === 'silver.baskets')?.rows).toBe(14_963);
    });

    it('finds 167 distinct items, 2,502 sales of whole milk and 14,963 baskets', async () => {
      const [silver] = await rows(
        conn,
        `SELECT count(DISTINCT item) AS items, count(DISTINCT basket_id) AS baskets,
              sum(quantity) FILTER (WHERE item = 'whole milk') AS whole_milk, sum(quantity) AS lines
       FROM silver.transactions`,
      );
      expect(silver).toEqual({ items: 167n, baskets: 14_963n, whole_milk: 2502n, lines: 38_765n });
      const top = await rows(
        conn,
        'SELECT item, items_sold FROM gold.item_popularity ORDER BY popularity_rank LIMIT 3',
      );
      expect(top).toEqual([
        { item: 'whole milk', items_sold: 2502n },
        { item: 'other vegetables', items_sold: 1898n },
        { item: 'rolls/buns', items_sold: 1716n },
      ]);
    });

    it('trims item names: the two names with a trailing space merge with nothing', async () => {
      const names = await rows(
        conn,
        `SELECT item FROM gold.item_popularity WHERE item LIKE 'cream cheese%' OR item LIKE 'roll products%' ORDER BY item`,
      );
      expect(names).toEqual([{ item: 'cream cheese' }, { item: 'roll products' }]);
    });

    it('computes sales per day, month and year, and the correlation of the two years', async () => {
      const yearly = await rows(
        conn,
        'SELECT year, items_sold, baskets FROM gold.sales_yearly ORDER BY year',
      );
      expect(yearly.map((y) => y.year)).toEqual([2014, 2015]);
      expect(yearly.reduce((s, y) => s + (y.items_sold as bigint), 0n)).toBe(38_765n);
      expect(yearly.reduce((s, y) => s + (y.baskets as bigint), 0n)).toBe(14_963n);
      const [months] = await rows(
        conn,
        'SELECT count(*) AS months, sum(items_sold) AS sold FROM gold.sales_monthly',
      );
      expect(months).toEqual({ months: 24n, sold: 38_765n });
      const [correlation] = await rows(
        conn,
        `SELECT c.correlation AS stored, corr(CAST(a.items_sold AS DOUBLE), CAST(b.items_sold AS DOUBLE)) AS recomputed
       FROM gold.sales_year_correlation c, gold.sales_monthly a JOIN gold.sales_monthly b ON a.month = b.month
       WHERE a.year = 2014 AND b.year = 2015 GROUP BY c.correlation`,
      );
      expect(correlation!.stored).toBeCloseTo(correlation!.recomputed as number, 12);
      expect(Math.abs(correlation!.stored as number)).toBeLessThanOrEqual(1);
    });

    it('finds 750 frequent itemsets at support >= 0.001, none longer than three items', async () => {
      const lengths = await rows(
        conn,
        'SELECT length, count(*) AS n FROM gold.frequent_itemsets GROUP BY length ORDER BY length',
      );
      expect(lengths.reduce((s, l) => s + (l.n as bigint), 0n)).toBe(750n);
      expect(lengths.map((l) => l.length)).toEqual([1, 2, 3]);
      const [minimum] = await rows(conn, 'SELECT min(basket_count) AS n FROM gold.frequent_itemsets');
      expect(minimum!.n).toBe(15n); // 0.001 × 14,963 baskets, rounded up
    });

    it('reproduces Apriori_rules.csv: the same 99 rules, every metric within 1e-9', async () => {
      const ours = await ourRules(conn);
      const theirs = expectedRules(path.join(groceriesDir, 'Apriori_rules.csv'));
      expect(theirs.size).toBe(99);
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
      for (const [key, rule] of theirs) expectSameMetrics(key, ours.get(key)!, rule);
      const [top] = await rows(
        conn,
        'SELECT antecedents, consequents FROM gold.association_rules ORDER BY lift DESC LIMIT 1',
      );
      expect(top).toEqual({ antecedents: ['whole milk', 'yogurt'], consequents: ['sausage'] });
    });

    it('prints the top rules by lift from the last cell', () => {
      const last = run.notebooks.at(-1)!.cells.at(-1)!;
      expect(last.title).toBe('Top rules by lift');
      const query = last.statements[0]!;
      expect(query.kind).toBe('query');
      if (query.kind === 'query') {
        expect(query.rows).toHaveLength(10);
        expect(query.rows[0]).toMatchObject({ antecedents: 'whole milk, yogurt', consequents: 'sausage' });
      }
    });

    it('with confidence >= 0.1 and no lift threshold, the same notebook reproduces FP_rules.csv', async () => {
      // As strings, the way Databricks widgets and job parameters pass them.
      await runWith({
        dataset: APRIORI_PARAMS.dataset,
        full_refresh: 'false',
        min_support: '0.001',
        max_len: '0',
        metric: 'confidence',
        min_threshold: '0.1',
        confidence_above: '0',
      });
      const ours = await ourRules(conn);
      const theirs = expectedRules(path.join(groceriesDir, 'FP_rules.csv'));
      expect(theirs.size).toBe(130);
      // A rule exactly on the threshold may fall either way of it in another implementation.
      const onBoundary = (r: { confidence?: JS | string }) => Math.abs(Number(r.confidence) - 0.1) < 1e-9;
      const missing = [...theirs].filter(([k, r]) => !ours.has(k) && !onBoundary(r)).map(([k]) => k);
      const extra = [...ours].filter(([k, r]) => !theirs.has(k) && !onBoundary(r)).map(([k]) => k);
      expect({ missing, extra }).toEqual({ missing: [], extra: [] });
      for (const [key, rule] of theirs) if (ours.has(key)) expectSameMetrics(key, ours.get(key)!, rule);
      expect(ours.size).toBe(130);
    });
  });
}
