// The notebooks on Apache Spark with Delta Lake, on the real grocery dataset (../shared/data/groceries) loaded into
// PostgreSQL by the load stage: Spark reproduces the original analysis (the 99 rules of Apriori_rules.csv, and with
// the FP parameters the 130 of FP_rules.csv), and writes the same twelve tables as DuckDB from the same store. The
// tables are read back through the project's own Delta module, as the app reads them.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBucket } from '../../src/bucket/file.ts';
import type { SqlTargetConfig } from '../../src/config/schema.ts';
import { registerDeltaView } from '../../src/delta/index.ts';
import { createStoreSource } from '../../src/notebooks/sql-source.ts';
import { openSqlStore } from '../../src/sql/index.ts';
import type { SqlSession } from '../../src/sql/types.ts';
import { load } from '../../src/stages/load.ts';
import { transform } from '../../src/stages/transform.ts';
import { transformOnSpark, type SparkTransformManifest } from '../../src/stages/transform-spark.ts';
import { silentLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { groceriesDataset } from '../helpers/datasets.ts';
import { needsPostgres, needsShared, needsSpark } from '../helpers/services.ts';
import { postgresEngine } from '../helpers/sql-engines.ts';
import { expectedRules, expectSameMetrics, ourRules } from '../notebooks/groceries-suite.ts';
import { allNotebooks, APRIORI_PARAMS, DATASET, groceriesDir, OBJECT_NAME } from '../notebooks/helpers.ts';
import { compareDeltaFolders, RUN_TABLES, TWELVE_TABLES } from './compare.ts';

const ok = (await needsShared()) && (await needsPostgres()) && (await needsSpark());
const SCHEMA = 'lh_spark_groceries';
const FP_PARAMS = {
  dataset: DATASET,
  min_support: '0.001',
  max_len: '0',
  metric: 'confidence',
  min_threshold: '0.1',
  confidence_above: '0',
};

describe.skipIf(!ok)('the notebooks on Spark, on the grocery dataset extracted from PostgreSQL', () => {
  const target: SqlTargetConfig = postgresEngine.target(SCHEMA);
  let dir: string;
  let session: SqlSession;
  let conn: DuckDBConnection;
  let close: () => void;
  const runs: SparkTransformManifest[] = [];
  const seconds: number[] = [];
  const sparkRoot = () => path.join(dir, 'delta-spark');

  const onSpark = async (notebooks: string[], params: Record<string, string | number | boolean>) => {
    const started = performance.now();
    runs.push(
      await transformOnSpark({
        notebooks,
        deltaRoot: sparkRoot(),
        sql: target,
        params,
        run: currentRun({}),
        master: 'local[2]',
        conf: { 'spark.driver.memory': '1g' },
        log: silentLogger,
      }),
    );
    seconds.push((performance.now() - started) / 1000);
  };

  beforeAll(async () => {
    await postgresEngine.reset(SCHEMA);
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'groceries-spark-'));
    session = await openSqlStore(target);
    const bucket = new FileBucket(path.join(dir, 'bucket'));
    await bucket.upload(path.join(groceriesDir, 'transactions.csv'), OBJECT_NAME);
    const loaded = await load({
      session,
      bucket,
      datasets: [{ ...groceriesDataset(), name: DATASET }],
      destination: '{dataset}/{file}',
      run: currentRun({}),
      log: silentLogger,
    });
    expect(loaded.totals).toMatchObject({ loaded: 1, rowsLoaded: 38_765, rowsQuarantined: 0 });
    await transform({
      notebooks: allNotebooks,
      deltaRoot: path.join(dir, 'delta-duck'),
      source: createStoreSource(session, { tempDir: dir }),
      params: APRIORI_PARAMS,
      run: currentRun({}),
      log: silentLogger,
    });
    await onSpark(allNotebooks, APRIORI_PARAMS);
    // The FP analysis: only the rules notebook again, on the tables the first job left (registered at start).
    await onSpark(allNotebooks.slice(-1), FP_PARAMS);
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    conn = await instance.connect();
    close = () => {
      conn.closeSync();
      instance.closeSync();
    };
  }, 1_200_000);

  afterAll(async () => {
    console.log(
      `groceries on Spark: all four notebooks ${seconds[0]?.toFixed(1)} s, the rules notebook ${seconds[1]?.toFixed(1)} s`,
    );
    close?.();
    await session?.close();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  const rulesAt = async (version: number) => {
    await registerDeltaView(
      conn,
      'gold.association_rules',
      path.join(sparkRoot(), 'gold/association_rules'),
      { version },
    );
    return ourRules(conn);
  };

  it('writes every table, the rules at version 0, then version 1 of the two the rules notebook writes', () => {
    expect(runs[0]!.tables.map((t) => t.table)).toEqual(RUN_TABLES);
    // The tables kept by MERGE are created empty (version 0) and merged into (version 1); the rules are rewritten.
    expect(runs[0]!.tables.map((t) => `${t.table} v${t.version}`)).toEqual(
      expect.arrayContaining([
        'silver.transactions v1',
        'gold.frequent_itemsets v0',
        'gold.association_rules v0',
      ]),
    );
    expect(runs[0]!.tables.find((t) => t.table === 'silver.baskets')!.rows).toBe(14_963);
    expect(runs[1]!.tables.map((t) => `${t.table} v${t.version}: ${t.rows}`)).toEqual([
      'gold.frequent_itemsets v1: 750',
      'gold.association_rules v1: 130',
    ]);
  });

  it('writes the same twelve tables as DuckDB from the same store, table by table', async () => {
    // Compared at the versions the Apriori run wrote: the FP run changed two of Spark's tables since.
    const duck = path.join(dir, 'delta-duck');
    const differences = await compareDeltaFolders(duck, sparkRoot(), TWELVE_TABLES.slice(0, 10));
    expect(differences).toEqual([]);
    const rules = ['gold.frequent_itemsets', 'gold.association_rules'];
    expect(await compareDeltaFolders(duck, sparkRoot(), rules, { right: 0 })).toEqual([]);
  });

  it('reproduces Apriori_rules.csv at version 0: the same 99 rules, every metric within 1e-9', async () => {
    const ours = await rulesAt(0);
    const theirs = expectedRules(path.join(groceriesDir, 'Apriori_rules.csv'));
    expect(theirs.size).toBe(99);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [key, rule] of theirs) expectSameMetrics(key, ours.get(key)!, rule);
    const top = runs[0]!.queries.at(-1)!;
    expect(top.title).toBe('Top rules by lift');
    expect(top.rows[0]).toMatchObject({ antecedents: 'whole milk, yogurt', consequents: 'sausage' });
  });

  it('reproduces FP_rules.csv at version 1: the same 130 rules, every metric within 1e-9', async () => {
    const ours = await rulesAt(1);
    const theirs = expectedRules(path.join(groceriesDir, 'FP_rules.csv'));
    expect(theirs.size).toBe(130);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [key, rule] of theirs) expectSameMetrics(key, ours.get(key)!, rule);
  });
});
