// /healthz tells the truth: a warehouse that refuses the app's token (every query a 401) makes the service
// degraded, HTTP 503 with the reason, and the token appears nowhere in the answer.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databricksSource, startApp, type RunningApp } from '../../app/server.ts';
import { startWarehouse, tempDir, WAREHOUSE_TOKEN } from './helpers.ts';

const WRONG_TOKEN = 'dapi-wrong-token-0123456789';
let warehouse: Awaited<ReturnType<typeof startWarehouse>>;
let app: RunningApp;

beforeAll(async () => {
  warehouse = await startWarehouse(tempDir('app-health'));
  app = await startApp({
    source: databricksSource({
      host: warehouse.server.host,
      port: warehouse.server.port,
      httpPath: warehouse.server.path,
      token: WRONG_TOKEN,
      checkServerCertificate: false,
    }),
    port: 0,
    versionCheckMs: 0,
  });
});

afterAll(async () => {
  await app?.close();
  await warehouse?.close();
});

describe('/healthz with a source that refuses the app', () => {
  test('answers 503 degraded, with the reason and without the token', async () => {
    const response = await fetch(`${app.url}/healthz`);
    const text = await response.text();
    expect(response.status).toBe(503);
    const health = JSON.parse(text) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'degraded', source: 'databricks', reachable: false });
    expect(health.reason).toMatch(/^the databricks source fails: .*(401|token|unauthori[sz]ed)/i);
    expect(text).not.toContain(WRONG_TOKEN);
    expect(text).not.toContain(WAREHOUSE_TOKEN);
  });
});
