// The two sources give the same answers: the app on the local Delta tables, and the app on a Databricks SQL
// warehouse (the Thrift test server serving the same Delta tables) answer every API request identically. And
// when the warehouse goes away, the app serves its last good data, says so and how old it is.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databricksSource, localSource, startApp } from '../../app/server.ts';
import type { RunningApp } from '../../app/server.ts';
import { apiPaths } from './api-paths.ts';
import { overwriteTable, runSamplePipeline, startWarehouse, WAREHOUSE_TOKEN } from './helpers.ts';

let deltaRoot: string;
let warehouse: Awaited<ReturnType<typeof startWarehouse>>;
let local: RunningApp;
let remote: RunningApp;

function warehouseSource(manifestsDir?: string, queryTimeoutMs = 30_000) {
  return databricksSource({
    manifestsDir,
    host: warehouse.server.host,
    port: warehouse.server.port,
    httpPath: warehouse.server.path,
    token: WAREHOUSE_TOKEN,
    checkServerCertificate: false,
    queryTimeoutMs,
  });
}

beforeAll(async () => {
  const project = await runSamplePipeline(20_000);
  deltaRoot = project.deltaRoot;
  // A second version, written outside any run, so that time travel has something to show.
  await overwriteTable(
    deltaRoot,
    'gold.basket_size_distribution',
    'SELECT basket_size, baskets * 2 AS baskets, share FROM gold.basket_size_distribution WHERE basket_size <= 3',
  );
  warehouse = await startWarehouse(deltaRoot);
  local = await startApp({
    source: await localSource({ deltaRoot, manifestsDir: project.manifestsDir }),
    port: 0,
  });
  remote = await startApp({ source: warehouseSource(project.manifestsDir), port: 0 });
});

afterAll(async () => {
  await local?.close();
  await remote?.close();
  await warehouse?.close();
});

async function call(app: RunningApp, path: string) {
  const response = await fetch(app.url + path);
  if (response.headers.get('content-type')?.startsWith('text/csv'))
    return { status: response.status, body: { data: await response.text() } as Body };
  const body = (await response.json()) as Body;
  // The data's age moves on between the two requests.
  const snapshot = (body.data as { snapshot?: { freshness?: { ageSeconds?: number } } } | undefined)
    ?.snapshot;
  if (snapshot?.freshness) delete snapshot.freshness.ageSeconds;
  return { status: response.status, body };
}

interface Body {
  data?: unknown;
  meta?: { stale: boolean };
  error?: string;
}

describe('local Delta and a Databricks warehouse', () => {
  test('answer every API request identically', async () => {
    const checked: string[] = [];
    for (const path of apiPaths()) {
      const [a, b] = await Promise.all([call(local, path), call(remote, path)]);
      expect({ path, status: b.status }).toEqual({ path, status: a.status });
      if (a.status === 200) {
        expect({ path, data: b.body.data }).toEqual({ path, data: a.body.data });
        checked.push(path);
      } else {
        expect(a.body.error, path).toBeTruthy();
      }
    }
    // The comparison covered real answers, not only errors.
    expect(checked.length).toBeGreaterThan(90);
    const rows = (await call(local, '/api/rules?item=whole%20milk')).body.data as { total: number };
    expect(rows.total).toBeGreaterThan(0);
  });

  test('time travel answers with the earlier version on both; the run’s version is the one served', async () => {
    const path = '/api/tables/gold.basket_size_distribution/rows';
    const [servedA, latestA, latestB] = await Promise.all([
      call(local, path),
      call(local, `${path}?version=1`),
      call(remote, `${path}?version=1`),
    ]);
    // Version 1 was written outside any run: the run's version 0 is served.
    const served = servedA.body.data as { version: number; rowCount: number; latestVersion: number };
    const latest = latestA.body.data as { version: number; rowCount: number };
    expect([served.version, served.latestVersion]).toEqual([0, 1]);
    expect(latest.version).toBe(1);
    expect(served.rowCount).toBeGreaterThan(latest.rowCount);
    expect(latestB.body.data).toEqual(latestA.body.data);
  });
});

describe('when the warehouse is out of reach', () => {
  test('the app serves its last good data, marked stale with its age, and recovers', async () => {
    const app = await startApp({
      source: warehouseSource(undefined, 3000),
      port: 0,
      versionCheckMs: 0,
      cacheTtlMs: 0,
    });
    try {
      const fresh = await call(app, '/api/items/top?limit=5');
      expect(fresh.status).toBe(200);
      expect(fresh.body.meta?.stale).toBe(false);

      await warehouse.server.refuseConnections();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const stale = await call(app, '/api/items/top?limit=5');
      expect(stale.status).toBe(200);
      expect(stale.body.data).toEqual(fresh.body.data);
      expect(stale.body.meta).toMatchObject({ stale: true, source: 'databricks' });
      expect((stale.body.meta as unknown as { ageSeconds: number }).ageSeconds).toBeGreaterThanOrEqual(1);
      // Nothing cached for this one: an error that says why.
      const uncached = await call(app, '/api/customers/top?limit=3');
      expect(uncached.status).toBe(503);
      expect(uncached.body.error).toMatch(/out of reach/);
      const health = (await (await fetch(`${app.url}/healthz`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({ status: 'degraded', source: 'databricks', reachable: false });
      expect(health.dataAgeSeconds).toEqual(expect.any(Number));
      expect(String(health.lastError)).not.toContain(WAREHOUSE_TOKEN);

      await warehouse.server.resume();
      const back = await call(app, '/api/items/top?limit=5');
      expect(back.body.meta?.stale).toBe(false);
      const healthy = (await (await fetch(`${app.url}/healthz`)).json()) as Record<string, unknown>;
      expect(healthy).toMatchObject({ status: 'ok', reachable: true });
    } finally {
      await warehouse.server.resume();
      await app.close();
    }
  });

  test('answers from a fresh cache are marked stale too once the warehouse stops answering', async () => {
    const app = await startApp({ source: warehouseSource(undefined, 3000), port: 0, versionCheckMs: 0 });
    try {
      const first = await call(app, '/api/sales/yearly');
      expect(first.body.meta?.stale).toBe(false);
      await warehouse.server.refuseConnections();
      const cached = await call(app, '/api/sales/yearly');
      expect(cached.status).toBe(200);
      expect(cached.body.data).toEqual(first.body.data);
      expect(cached.body.meta?.stale).toBe(true);
    } finally {
      await warehouse.server.resume();
      await app.close();
    }
  });
});
