// The app's `databricks` source against Spark SQL with Delta Lake behind TCLIService (test/servers/spark-thrift: the
// closest stand-in for Spark's Thrift server, which Maven Central does not serve) answers every API request as the
// local source does, endpoint by endpoint. And where the @databricks/sql driver breaks on the plain HiveServer2
// protocol that Spark's own server speaks: each Databricks extension it needs, left out one at a time.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import { databricksSource, localSource, startApp } from '../../app/server.ts';
import type { RunningApp } from '../../app/server.ts';
import { openWarehouse } from '../../src/databricks/sql.ts';
import { TABLES } from '../../app/sql.ts';
import { needs, needsSpark, pathProbe } from '../helpers/services.ts';
import { startSparkThriftServer, thriftTarget } from '../servers/spark-thrift/index.ts';
import type { SparkThriftServer } from '../servers/spark-thrift/index.ts';
import { apiPaths } from './api-paths.ts';
import { overwriteTable, runSamplePipeline } from './helpers.ts';

const ok =
  (await needsSpark()) &&
  (await needs(
    'the Spark Thrift stand-in (mvn -q -f test/servers/spark-thrift/pom.xml package)',
    pathProbe(path.join(thriftTarget, 'spark-thrift.jar')),
  ));
const TOKEN = 'dapi-spark-thrift-test-token';

let server: SparkThriftServer;
let local: RunningApp;
let remote: RunningApp;

function connection(httpPath: string) {
  return { host: server.host, port: server.port, httpPath, token: TOKEN, checkServerCertificate: false };
}

function warehouse(httpPath: string) {
  return openWarehouse({ ...connection(httpPath), queryTimeoutMs: 120_000 });
}

beforeAll(async () => {
  if (!ok) return;
  const project = await runSamplePipeline(20_000);
  // A second version, so that time travel has something to show.
  await overwriteTable(
    project.deltaRoot,
    'gold.basket_size_distribution',
    'SELECT basket_size, baskets * 2 AS baskets, share FROM gold.basket_size_distribution WHERE basket_size <= 3',
  );
  server = await startSparkThriftServer({ deltaRoot: project.deltaRoot, token: TOKEN });
  // Spark's first read of each table (Delta log replay, JIT) is slow on a busy 2-core machine: warm up first.
  const warm = openWarehouse({ ...connection(server.path), queryTimeoutMs: 600_000 });
  try {
    for (const table of TABLES) await warm.query(`SELECT count(*) AS n FROM ${table}`);
  } finally {
    await warm.close();
  }
  local = await startApp({
    source: await localSource({ deltaRoot: project.deltaRoot, manifestsDir: project.manifestsDir }),
    port: 0,
  });
  const source = databricksSource({
    manifestsDir: project.manifestsDir,
    host: server.host,
    port: server.port,
    httpPath: server.path,
    token: TOKEN,
    checkServerCertificate: false,
    queryTimeoutMs: 120_000,
  });
  remote = await startApp({ source, port: 0 });
}, 600_000);

afterAll(async () => {
  await local?.close();
  await remote?.close();
  await server?.close();
});

async function call(app: RunningApp, path: string) {
  const response = await fetch(app.url + path);
  if (response.headers.get('content-type')?.startsWith('text/csv'))
    return {
      status: response.status,
      body: { data: await response.text() } as { data?: unknown; error?: string },
    };
  const body = (await response.json()) as { data?: unknown; error?: string };
  // The data's age moves on between the two requests.
  const snapshot = (body.data as { snapshot?: { freshness?: { ageSeconds?: number } } } | undefined)
    ?.snapshot;
  if (snapshot?.freshness) delete snapshot.freshness.ageSeconds;
  return { status: response.status, body };
}

describe.runIf(ok)('the databricks source on Spark SQL with Delta Lake', () => {
  test('answers every API request as the local source does', async () => {
    const checked: string[] = [];
    for (const path of apiPaths()) {
      const a = await call(local, path);
      const b = await call(remote, path);
      expect({ path, status: b.status, error: b.body.error }).toEqual({
        path,
        status: a.status,
        error: b.body.error,
      });
      if (a.status === 200) {
        expect({ path, data: b.body.data }).toEqual({ path, data: a.body.data });
        checked.push(path);
      }
    }
    expect(checked.length).toBeGreaterThan(70);
  }, 900_000);

  test('time travel (VERSION AS OF) and DESCRIBE HISTORY answer as locally', async () => {
    const table = '/api/tables/gold.basket_size_distribution';
    for (const path of [`${table}/rows?version=0`, `${table}/rows?version=1`, `${table}/history`]) {
      const [a, b] = [await call(local, path), await call(remote, path)];
      expect(b.status).toBe(200);
      expect({ path, data: b.body.data }).toEqual({ path, data: a.body.data });
    }
  });
});

describe.runIf(ok)("where the driver breaks on the HiveServer2 protocol of Spark's own server", () => {
  const query = (httpPath: string, sql: string, params = {}) => {
    const w = warehouse(httpPath);
    return w.query(sql, params).finally(() => w.close());
  };

  test("OpenSession: the driver's client_protocol (-7) is no Hive protocol version", async () => {
    await expect(query(`${server.path}/hive`, 'SELECT 1 AS one')).rejects.toThrow(
      /Required field 'client_protocol' is unset/,
    );
  });

  test("ExecuteStatement: named parameters travel in a field Hive's IDL does not have", async () => {
    await expect(query(`${server.path}/no-parameters`, 'SELECT :n AS n', { n: 1 })).rejects.toThrow(
      /UNBOUND_SQL_PARAMETER/,
    );
  });

  test('GetResultSetMetadata: the driver needs resultFormat, which a HiveServer2 never sends', async () => {
    await expect(query(`${server.path}/no-result-format`, 'SELECT 1 AS one')).rejects.toThrow(/./);
  });

  test("GetOperationStatus: a failed statement's error travels in displayMessage, not in Hive's errorMessage", async () => {
    const sql = 'SELECT * FROM gold.no_such_table';
    await expect(query(`${server.path}/no-display-message`, sql)).rejects.toThrow(
      /The operation failed due to an error/,
    );
    await expect(query(server.path, sql)).rejects.toThrow(/TABLE_OR_VIEW_NOT_FOUND/);
  });

  test('with the four extensions, parameters are bound by Spark, not spliced', async () => {
    const rows = await query(server.path, 'SELECT :q AS q, :n + 1 AS n', { q: "it's; DROP TABLE x", n: 41 });
    expect(rows).toEqual([{ q: "it's; DROP TABLE x", n: 42 }]);
  });
});
