// One consistent snapshot: a transform that fails in the middle (a bad parameter stops notebook 04 after
// notebooks 01–03 wrote ten tables) writes a failed manifest, and the app, on local Delta and on a warehouse,
// still serves every table at the previous run's version, says which run it shows and where and why the later
// one failed. A version written outside any run (a transform still going) is not served either. A successful
// run then moves every table on. Also: the run history, the lineage, and table rows paged with typed columns.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databricksSource, localSource, startApp } from '../../app/server.ts';
import type { RunningApp } from '../../app/server.ts';
import { TABLES } from '../../app/sql.ts';
import type { Lineage, PipelineRun, Snapshot, TableCommit, TableInfo, TableRows } from '../../app/types.ts';
import type { TransformManifest } from '../../src/stages/transform.ts';
import { lakehouse } from '../helpers/cli.ts';
import {
  addItemToSample,
  overwriteTable,
  runSamplePipeline,
  startWarehouse,
  WAREHOUSE_TOKEN,
} from './helpers.ts';
import type { PipelineOutput } from './helpers.ts';

const PLANTED = 'planted item';
let project: PipelineOutput;
let app: RunningApp;

beforeAll(async () => {
  project = await runSamplePipeline(20_000);
  app = await startApp({
    source: await localSource({ deltaRoot: project.deltaRoot, manifestsDir: project.manifestsDir }),
    port: 0,
    versionCheckMs: 0,
  });
});

afterAll(async () => {
  await app?.close();
});

async function get<T>(p: string, on = app): Promise<T> {
  const response = await fetch(on.url + p);
  const body = (await response.json()) as { data: T; error?: string };
  if (response.status !== 200) throw new Error(`${p}: ${response.status} ${body.error}`);
  return body.data;
}

/** What a reader of the dashboard sees: every answer that comes from the tables. */
const DATA_PATHS = [
  '/api/rules?pageSize=50',
  '/api/rules/bounds',
  '/api/sales/monthly',
  '/api/sales/correlation',
  '/api/items/top',
  '/api/customers/top',
  '/api/baskets/sizes',
  ...TABLES.map((t) => `/api/tables/${t}/rows?limit=20`),
];

async function dataAnswers(on = app): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (const p of DATA_PATHS) {
    // A table's latest version is not data: it changes when a later run writes one.
    const answer = await get<unknown>(p, on);
    if (p.includes('/rows')) delete (answer as { latestVersion?: number }).latestVersion;
    answers.push(answer);
  }
  const {
    snapshot: _snapshot,
    tables: _tables,
    ...overview
  } = await get<Record<string, unknown>>('/api/overview', on);
  return [...answers, overview];
}

function latestManifest(): TransformManifest {
  return JSON.parse(
    fs.readFileSync(path.join(project.manifestsDir, 'transform-latest.json'), 'utf8'),
  ) as TransformManifest;
}

describe('a transform that fails in the middle', () => {
  test('leaves the previous run served, in full, and the failure shown', async () => {
    const served = latestManifest();
    expect(served.status).toBe('succeeded');
    const before = await dataAnswers();

    // New data, loaded, so that the failed run's versions differ from the served ones.
    addItemToSample(project, PLANTED, 1500);
    for (const stage of ['ingest', 'load']) {
      const r = await lakehouse(['-c', project.config, stage]);
      expect(r.code, r.stderr).toBe(0);
    }
    const failed = await lakehouse(['-c', project.config, 'transform', '--param', 'metric=bogus']);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr + failed.stdout).toMatch(/unknown rule metric bogus/);

    // The failed run has its manifest: where, why, and the table versions written before (every app table but the
    // mined ones, and the incremental notebooks' work tables).
    const manifest = latestManifest();
    expect(manifest).toMatchObject({
      status: 'failed',
      failure: { title: 'Check: the rule metric is one mlxtend knows' },
    });
    expect(manifest.failure?.notebook).toMatch(/04_basket_rules\.sql$/);
    expect(manifest.failure?.message).toMatch(/assertion failed: unknown rule metric bogus/);
    const mined = ['gold.frequent_itemsets', 'gold.association_rules'];
    // A table's version as a run left it (its last write in that run).
    const versionIn = (m: TransformManifest, table: string) =>
      m.tables.filter((t) => t.table === table).at(-1)?.version;
    const appTablesWritten = [...new Set(manifest.tables.map((t) => t.table))].filter((t) =>
      (TABLES as readonly string[]).includes(t),
    );
    expect(appTablesWritten.sort()).toEqual(TABLES.filter((t) => !mined.includes(t)).sort());
    for (const table of appTablesWritten)
      expect(versionIn(manifest, table), table).toBeGreaterThan(versionIn(served, table)!);

    // Every table is still served at the version the successful run left, though ten have a newer one.
    const tables = await get<TableInfo[]>('/api/tables');
    for (const t of tables) {
      expect(t.version, t.name).toBe(versionIn(served, t.name));
      expect(t.latestVersion, t.name).toBe(versionIn(manifest, t.name) ?? versionIn(served, t.name));
    }
    expect(await dataAnswers()).toEqual(before);

    const snapshot = await get<Snapshot>('/api/runs/snapshot');
    expect(snapshot.run).toEqual({ runId: served.runId, finishedAt: served.finishedAt });
    expect(snapshot.failedAfter).toMatchObject({
      runId: manifest.runId,
      failure: {
        title: 'Check: the rule metric is one mlxtend knows',
        message: expect.stringMatching(/unknown rule metric bogus/),
      },
    });
    expect(snapshot.failedAfter?.tablesWritten).toHaveLength(manifest.tables.length);

    // The history says which run wrote each version; the failed version is still there for time travel.
    const history = await get<TableCommit[]>('/api/tables/silver.transactions/history');
    expect(history.slice(0, 2).map((e) => [e.version, e.run])).toEqual([
      [versionIn(manifest, 'silver.transactions'), { runId: manifest.runId, status: 'failed' }],
      [versionIn(served, 'silver.transactions'), { runId: served.runId, status: 'succeeded' }],
    ]);
    const newerVersion = versionIn(manifest, 'gold.item_popularity')!;
    const olderVersion = versionIn(served, 'gold.item_popularity')!;
    const items = (version: number) =>
      get<TableRows>(`/api/tables/gold.item_popularity/rows?version=${version}&limit=500`);
    const [newer, older] = await Promise.all([items(newerVersion), items(olderVersion)]);
    expect(newer).toMatchObject({
      version: newerVersion,
      servedVersion: olderVersion,
      latestVersion: newerVersion,
    });
    expect(JSON.stringify(newer.rows)).toContain(PLANTED);
    expect(JSON.stringify(older.rows)).not.toContain(PLANTED);
    expect(JSON.stringify(await get('/api/items/top?limit=1000'))).not.toContain(PLANTED);
    const runs = await get<PipelineRun[]>('/api/runs');
    expect(runs[0]).toMatchObject({ runId: manifest.runId, status: 'failed' });
    expect(runs[0]!.stages[0]!.failure?.message).toMatch(/unknown rule metric bogus/);
  });

  test('a warehouse with the same manifests serves the same versions (VERSION AS OF)', async () => {
    const warehouse = await startWarehouse(project.deltaRoot);
    const remote = await startApp({
      source: databricksSource({
        manifestsDir: project.manifestsDir,
        host: warehouse.server.host,
        port: warehouse.server.port,
        httpPath: warehouse.server.path,
        token: WAREHOUSE_TOKEN,
        checkServerCertificate: false,
      }),
      port: 0,
    });
    try {
      expect(await get<TableInfo[]>('/api/tables', remote)).toEqual(await get<TableInfo[]>('/api/tables'));
      expect(await dataAnswers(remote)).toEqual(await dataAnswers());
    } finally {
      await remote.close();
      await warehouse.close();
    }
  });

  test('a version written outside any run (a transform still going) is not served', async () => {
    const before = await get('/api/baskets/sizes');
    const version = await overwriteTable(
      project.deltaRoot,
      'gold.basket_size_distribution',
      'SELECT * FROM gold.basket_size_distribution WHERE basket_size = 1',
    );
    const table = (await get<TableInfo[]>('/api/tables')).find(
      (t) => t.name === 'gold.basket_size_distribution',
    );
    expect(table).toMatchObject({ version: 0, latestVersion: version });
    expect(await get('/api/baskets/sizes')).toEqual(before);
  });

  test('the next successful run is served in full, and the failure is no longer shown', async () => {
    const ok = await lakehouse(['-c', project.config, 'transform']);
    expect(ok.code, ok.stderr).toBe(0);
    const manifest = latestManifest();
    expect(manifest.status).toBe('succeeded');
    const written = new Map(manifest.tables.map((t) => [t.table, t.version]));
    for (const t of await get<TableInfo[]>('/api/tables'))
      expect(t.version, t.name).toBe(written.get(t.name));
    const snapshot = await get<Snapshot>('/api/runs/snapshot');
    expect(snapshot.run?.runId).toBe(manifest.runId);
    expect(snapshot.failedAfter).toBeNull();
  });
});

describe('the pipeline as the manifests describe it', () => {
  test('the lineage runs from the source objects through the load and the notebooks to every table', async () => {
    const lineage = await get<Lineage>('/api/runs/lineage');
    const label = (id: string) => lineage.nodes.find((n) => n.id === id)!.label;
    const links = lineage.links.map((l) => `${label(l.source)} → ${label(l.target)}`);
    expect(links).toContain('SQL transactions → 01_extract_clean.sql');
    expect(links.some((l) => /^\d+ objects → SQL transactions$/.test(l))).toBe(true);
    expect(
      links.filter((l) => l.startsWith('silver.transactions v') && l.endsWith('→ 02_enrich.sql')),
    ).toHaveLength(1);
    for (const table of TABLES) {
      expect(
        lineage.links.some((l) => l.target === `table:${table}`),
        table,
      ).toBe(true);
    }
  });

  test('every run, newest first, with its stages, status, duration and counts', async () => {
    const runs = await get<PipelineRun[]>('/api/runs');
    // The first run; ingest and load of the new data; the failed transform; the next one.
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'failed', 'succeeded', 'succeeded', 'succeeded']);
    const first = runs.at(-1)!;
    expect(first.stages.map((s) => s.stage)).toEqual(['ingest', 'load', 'transform']);
    expect(first.stages[1]!.counts.rowsLoaded).toBeGreaterThan(10_000);
    // Every write counts: the app's tables, the incremental notebooks' work tables, silver.changed_baskets twice.
    expect(first.stages[2]!.counts).toEqual({ notebooks: 4, tables: 17 });
    expect(first.seconds).toBeGreaterThan(0);
  });

  test('a table pages through its rows at any version, with its column types and descriptions', async () => {
    const page = (offset: number) =>
      // Version 1: the incremental notebooks create the table empty (version 0), then merge the first run's rows.
      get<TableRows>(`/api/tables/silver.transactions_enriched/rows?version=1&offset=${offset}&limit=40`);
    const [a, b] = await Promise.all([page(0), page(40)]);
    expect(a.rowCount).toBeGreaterThan(80);
    expect([a.rows.length, b.rows.length, b.offset]).toEqual([40, 40, 40]);
    expect(new Set([...a.rows, ...b.rows].map((r) => JSON.stringify(r))).size).toBe(80);
    expect(a.columns.find((c) => c.name === 'year')).toEqual({
      name: 'year',
      type: 'int',
      description: 'Calendar year',
    });
    expect(a.columns.find((c) => c.name === 'basket_id')?.type).toBe('bigint');
    for (const c of a.columns) expect(c.description, c.name).toBeTruthy();
    expect(a.rows[0]!.length).toBe(a.columns.length);
  });
});
