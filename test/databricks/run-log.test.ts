// The transform on Databricks records every run, failed ones too, with the table versions it committed, and the app
// deployed against the SQL warehouse serves the last fully successful run's versions. The Databricks stand-in runs
// the real notebooks (on the local engine, src/rehearse/databricks-notebooks.ts) into the Delta tables that the Spark
// Thrift stand-in serves as the SQL warehouse (test/servers/spark-thrift): Delta's own DESCRIBE HISTORY, VERSION AS OF
// and a Delta run-log table written through Spark.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databricksSource } from '../../app/server.ts';
import { isTableName, TABLES } from '../../app/sql.ts';
import type { DataSource } from '../../app/source.ts';
import { loadConfig, type ResolvedConfig } from '../../src/config/load.ts';
import { latestCommits, readRunLog, RUN_LOG_TABLE } from '../../src/databricks/run-log.ts';
import { openWarehouse, type Warehouse } from '../../src/databricks/sql.ts';
import { runDatabricksTransform } from '../../src/pipeline/transform-databricks.ts';
import { notebookRunner } from '../../src/rehearse/databricks-notebooks.ts';
import { openSqlStore } from '../../src/sql/index.ts';
import { startDatabricksServer, type DatabricksServer } from '../../src/standins/databricks/server.ts';
import { memoryLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { runSamplePipeline, type PipelineOutput } from '../app/helpers.ts';
import { needs, needsSpark, pathProbe, repoRoot } from '../helpers/services.ts';
import {
  startSparkThriftServer,
  thriftTarget,
  type SparkThriftServer,
} from '../servers/spark-thrift/index.ts';

const ok =
  (await needsSpark()) &&
  (await needs(
    'the Spark Thrift stand-in (mvn -q -f test/servers/spark-thrift/pom.xml package)',
    pathProbe(path.join(thriftTarget, 'spark-thrift.jar')),
  ));
const WAREHOUSE_TOKEN = 'dapi-run-log-warehouse-token';
const DATABRICKS_TOKEN = 'dapi-run-log-rest-token-0123456789';
const NOTEBOOKS = ['01_extract_clean', '02_enrich', '03_gold_sales', '04_basket_rules'].map((n) =>
  path.join(repoRoot, 'notebooks', `${n}.sql`),
);

let project: PipelineOutput;
let resolved: ResolvedConfig;
let thrift: SparkThriftServer;
let databricks: DatabricksServer;
let warehouse: Warehouse;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'run-log-'));

beforeAll(async () => {
  if (!ok) return;
  project = await runSamplePipeline(5_000);
  resolved = loadConfig(project.config);
  thrift = await startSparkThriftServer({ deltaRoot: project.deltaRoot, token: WAREHOUSE_TOKEN });
  warehouse = openWarehouse({
    host: thrift.host,
    port: thrift.port,
    httpPath: thrift.path,
    token: WAREHOUSE_TOKEN,
    checkServerCertificate: false,
    queryTimeoutMs: 600_000,
  });
  databricks = await startDatabricksServer({
    token: DATABRICKS_TOKEN,
    warehouses: ['wh-run-log'],
    runNotebook: notebookRunner({
      openStore: () => openSqlStore(resolved.profile.sql, resolved.root),
      deltaRoot: project.deltaRoot,
      manifestsDir: path.join(scratch, 'task-manifests'),
      notebooksDir: path.join(scratch, 'sent'),
      runId: 'run-log-test',
      logFile: path.join(scratch, 'databricks.log'),
    }),
  });
}, 900_000);

afterAll(async () => {
  await warehouse?.close();
  await thrift?.close();
  await databricks?.close();
});

/** One transform on the Databricks stand-in, as `lakehouse transform --on databricks` runs it. */
function transformOnDatabricks(notebooks: string[]) {
  return runDatabricksTransform(
    resolved,
    {
      notebooks,
      workspaceFolder: '/Shared/run-log',
      // A full refresh: every table gets a new version although the data did not change since the local run.
      parameters: { full_refresh: true },
      connection: { host: databricks.url, auth: { kind: 'pat', token: DATABRICKS_TOKEN } },
      warehouse,
      pollMs: 100,
    },
    { run: currentRun({}), log: memoryLogger(), dryRun: false },
  );
}

/** Notebook 03 with a failing check after its first write: gold.sales_daily gets a new version, the rest do not. */
function brokenGoldNotebook(): string {
  const text = fs.readFileSync(NOTEBOOKS[2]!, 'utf8');
  const marker = 'CREATE TABLE IF NOT EXISTS gold.sales_monthly';
  expect(text).toContain(marker);
  const broken = text.replace(
    marker,
    "SELECT assert_true(false, 'planted failure after gold.sales_daily');\n\n-- COMMAND ----------\n\n" +
      marker,
  );
  const file = path.join(fs.mkdtempSync(path.join(scratch, 'broken-')), '03_gold_sales.sql');
  fs.writeFileSync(file, broken);
  return file;
}

describe.runIf(ok)('the Databricks transform records its runs in the warehouse', () => {
  let source: DataSource;
  afterAll(() => source?.close());

  test('a successful run: its manifest names every table it wrote, with the version it committed', async () => {
    const before = await latestCommits(warehouse, ['silver.transactions', 'gold.association_rules']);
    const outcome = await transformOnDatabricks(NOTEBOOKS);
    expect(outcome.verdict.ok).toBe(true);
    const manifest = outcome.result!.manifest!;
    expect(manifest.status).toBe('succeeded');
    const written = new Map(manifest.tables.map((t) => [t.table, t]));
    expect(written.get('silver.transactions')?.version).toBe(before.get('silver.transactions')!.version + 1);
    expect(written.get('gold.association_rules')?.version).toBe(
      before.get('gold.association_rules')!.version + 1,
    );
    for (const table of TABLES) expect(written.has(table), table).toBe(true);
    const [rules] = await warehouse.query<{ n: unknown }>('SELECT count(*) AS n FROM gold.association_rules');
    expect(written.get('gold.association_rules')?.rows).toBe(Number(rules!.n));
    // The same manifest in the warehouse's run log and in the profile's manifests folder.
    const logged = await readRunLog(warehouse);
    expect(logged.at(-1)).toEqual(manifest);
    const file = path.join(project.manifestsDir, `transform-${manifest.runId}.json`);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(manifest);
  }, 900_000);

  test('a run that fails in notebook 03: the app still serves the last successful run and shows the failure', async () => {
    const good = (await readRunLog(warehouse)).at(-1)!;
    const outcome = await transformOnDatabricks([
      NOTEBOOKS[0]!,
      NOTEBOOKS[1]!,
      brokenGoldNotebook(),
      NOTEBOOKS[3]!,
    ]);
    expect(outcome.verdict.ok).toBe(false);
    const failed = outcome.result!.manifest!;
    expect(failed.status).toBe('failed');
    expect(failed.failure?.message).toContain('planted failure after gold.sales_daily');
    expect(failed.failure?.notebook).toBe('/Shared/run-log/03_gold_sales');
    // What it wrote before it stopped: the silver tables and the first gold table, nothing after.
    const tables = failed.tables.map((t) => t.table);
    expect(tables).toEqual(
      expect.arrayContaining(['silver.transactions', 'silver.transactions_enriched', 'gold.sales_daily']),
    );
    for (const later of ['gold.sales_monthly', 'gold.item_popularity', 'gold.association_rules'])
      expect(tables).not.toContain(later);
    expect((await readRunLog(warehouse)).map((m) => m.status)).toEqual(['succeeded', 'failed']);

    // The deployed app: the warehouse only, no manifests folder.
    source = databricksSource({
      host: thrift.host,
      port: thrift.port,
      httpPath: thrift.path,
      token: WAREHOUSE_TOKEN,
      checkServerCertificate: false,
      queryTimeoutMs: 600_000,
    });
    const versions = await source.versions();
    for (const { table, version } of good.tables.filter((t) => isTableName(t.table))) {
      const served = versions[table as keyof typeof versions];
      expect(served?.version, table).toBe(version);
    }
    const newer = failed.tables.find((t) => t.table === 'silver.transactions')!;
    expect(versions['silver.transactions']?.latestVersion).toBe(newer.version);
    const manifests = await source.manifests();
    expect(manifests.map((m) => m.runId)).toEqual([good.runId, failed.runId]);
  }, 900_000);

  test('the run log is a Delta table in the warehouse', async () => {
    const [detail] = await warehouse.query<{ format: unknown }>(`DESCRIBE DETAIL ${RUN_LOG_TABLE}`);
    expect(detail?.format).toBe('delta');
  });
});
