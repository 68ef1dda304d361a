// The transform stage end to end on the real groceries dataset: loaded into PGlite by the load stage, then the
// four notebooks on DuckDB writing Delta tables, twice.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBucket } from '../../src/bucket/file.ts';
import { loadConfig } from '../../src/config/load.ts';
import { openDeltaTable, registerDeltaView } from '../../src/delta/index.ts';
import { createStoreSource } from '../../src/notebooks/sql-source.ts';
import { openPglite, type PgliteSession } from '../../src/sql/postgres/pglite.ts';
import { load } from '../../src/stages/load.ts';
import { transform, type TransformManifest } from '../../src/stages/transform.ts';
import { silentLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { needsShared, repoRoot, sharedDir } from '../helpers/services.ts';

const haveShared = await needsShared();
const config = loadConfig(path.join(repoRoot, 'lakehouse.yml')).config;
const notebooks = config.transform.notebooks.map((n) => path.join(repoRoot, n));

describe.skipIf(!haveShared)('transform on the groceries dataset', () => {
  let dir: string;
  let session: PgliteSession;
  const runs: TransformManifest[] = [];

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'transform-'));
    const bucket = new FileBucket(path.join(dir, 'bucket'));
    await bucket.upload(
      path.join(sharedDir, 'data/groceries/transactions.csv'),
      'transactions/transactions.csv',
    );
    session = await openPglite(path.join(dir, 'pglite'));
    await load({
      session,
      bucket,
      datasets: config.datasets,
      destination: config.ingest.destination,
      run: currentRun(),
      log: silentLogger,
    });
    for (let i = 0; i < 2; i++)
      runs.push(
        await transform({
          notebooks,
          deltaRoot: path.join(dir, 'delta'),
          source: createStoreSource(session),
          params: { full_refresh: false, ...config.transform.parameters },
          run: currentRun(),
          log: silentLogger,
        }),
      );
  });
  afterAll(async () => {
    await session?.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('writes every table as a Delta table the Delta module reads back, with the original analysis', async () => {
    const written = new Map(runs[0]!.tables.map((t) => [t.table, t]));
    expect([...written.keys()].filter((t) => t.startsWith('gold.')).sort()).toEqual([
      'gold.association_rules',
      'gold.basket_size_distribution',
      'gold.frequent_itemsets',
      'gold.item_popularity',
      'gold.sales_daily',
      'gold.sales_monthly',
      'gold.sales_year_correlation',
      'gold.sales_yearly',
      'gold.top_customers',
    ]);
    expect(written.get('gold.association_rules')).toMatchObject({ version: 0, rows: 99 });
    expect(written.get('gold.frequent_itemsets')).toMatchObject({ version: 0, rows: 750 });
    expect(written.get('silver.baskets')).toMatchObject({ rows: 14_963 });
    for (const [table, { rows, version }] of written) {
      const snapshot = await openDeltaTable(path.join(dir, 'delta', ...table.split('.'))).snapshot({
        version,
      });
      expect(
        snapshot.scan().reduce((n, f) => n + (f.numRecords ?? 0), 0),
        table,
      ).toBe(rows);
    }
    const top = runs[0]!.queries.at(-1)!;
    expect(top.title).toBe('Top rules by lift');
    expect(top.rows[0]).toMatchObject({ antecedents: 'whole milk, yogurt', consequents: 'sausage' });
  });

  it('a second run with nothing new keeps the merged tables and rewrites the others with the same content', async () => {
    // The last version each run left of each table.
    const [first, second] = runs.map((r) => new Map(r.tables.map((t) => [t.table, t.version!])));
    // Nothing changed: the tables kept by MERGE commit no version; the wholes recomputed from silver (ranks,
    // shares, the rules) and the run's bookkeeping commit one more.
    const merged = [
      'silver.transaction_lines',
      'silver.loaded_objects',
      'silver.transactions',
      'silver.baskets',
      'silver.transactions_enriched',
      'gold.sales_daily',
      'gold.sales_monthly',
      'gold.sales_yearly',
    ];
    expect(runs[1]!.tables.find((t) => t.table === 'silver.changed_objects')?.rows).toBe(0);
    for (const [table, version] of second!) {
      const writes = runs[1]!.tables.filter((t) => t.table === table).length;
      expect(version, table).toBe(first!.get(table)! + (merged.includes(table) ? 0 : writes));
    }
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      // silver.changed_objects lists what each run read: every object on the first, none on the second.
      for (const [table, version] of [...first!].filter(([t]) => t !== 'silver.changed_objects')) {
        const location = path.join(dir, 'delta', ...table.split('.'));
        await registerDeltaView(conn, 'v0', location, { version });
        await registerDeltaView(conn, 'v1', location, { version: second!.get(table) });
        // Aggregates over doubles (corr, sums of ratios) may differ in the last bits from run to run, as they do
        // on Spark: doubles are compared to 12 significant digits, everything else exactly.
        const columns = (await conn.runAndReadAll('DESCRIBE v0')).getRowObjectsJS();
        const select = columns
          .map((c) =>
            c.column_type === 'DOUBLE'
              ? `round(${c.column_name}, 12 - CAST(ceil(log10(abs(${c.column_name}) + 1e-300)) AS INT))`
              : `"${String(c.column_name)}"`,
          )
          .join(', ');
        const diff = await conn.runAndReadAll(
          `SELECT count(*) FROM ((SELECT ${select} FROM v0 EXCEPT ALL SELECT ${select} FROM v1) UNION ALL (SELECT ${select} FROM v1 EXCEPT ALL SELECT ${select} FROM v0))`,
        );
        expect(Number(diff.getRows()[0]![0]), table).toBe(0);
      }
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
