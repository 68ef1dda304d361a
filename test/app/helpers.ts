// What the app's tests share: Delta tables of the fixture, a Thrift warehouse serving the same Delta tables the
// way Databricks would (DESCRIBE HISTORY, VERSION AS OF), and Chromium.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { openDeltaTable, registerDeltaView, writeDelta } from '../../src/delta/index.ts';
import { lakehouse, tempProject } from '../helpers/cli.ts';
import { startThriftServer } from '../servers/thrift/index.ts';
import type { ThriftServer } from '../servers/thrift/index.ts';
import { sqlTypeName } from '../../app/columns.ts';
import { TABLES } from '../../app/sql.ts';
import type { TableName } from '../../app/sql.ts';
import { createFixtureTables } from './fixture.ts';
import type { FixtureOptions } from './fixture.ts';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export function tableLocation(deltaRoot: string, table: string): string {
  const [schema, name] = table.split('.') as [string, string];
  return path.join(deltaRoot, schema, name);
}

/** Writes every table the app reads as a Delta table under `deltaRoot` (version 0 each). */
export async function writeFixtureDelta(deltaRoot: string, options: FixtureOptions): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await createFixtureTables(conn, options);
    for (const table of TABLES) {
      await writeDelta(conn, tableLocation(deltaRoot, table), `SELECT * FROM ${table}`, {
        mode: 'overwrite',
      });
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export interface PipelineOutput {
  /** The project folder (lakehouse.yml, data/sample, .lakehouse/). */
  dir: string;
  config: string;
  deltaRoot: string;
  manifestsDir: string;
}

/**
 * The pipeline on a sample as `npm start` runs it: `lakehouse run` in a throwaway project (sample, ingest,
 * load into PGlite, the notebooks on DuckDB writing Delta tables); when `run` found nothing new to transform,
 * `lakehouse transform` commits new table versions anyway.
 */
export async function runSamplePipeline(
  sampleRows: number,
  project?: PipelineOutput,
): Promise<PipelineOutput> {
  const { dir, config } = project ?? (await tempProject(sampleRows));
  const deltaRoot = path.join(dir, '.lakehouse/delta');
  const manifestsDir = path.join(dir, '.lakehouse/manifests');
  const before = fs.existsSync(deltaRoot)
    ? await openDeltaTable(tableLocation(deltaRoot, 'gold.association_rules')).latestVersion()
    : -1;
  const run = await lakehouse(['-c', config, 'run']);
  if (run.code !== 0) throw new Error(`lakehouse run failed (${run.code}):\n${run.stdout}\n${run.stderr}`);
  const location = tableLocation(deltaRoot, 'gold.association_rules');
  const after = fs.existsSync(location) ? await openDeltaTable(location).latestVersion() : -1;
  if (after === before) {
    const forced = await lakehouse(['-c', config, 'transform']);
    if (forced.code !== 0) throw new Error(`lakehouse transform failed:\n${forced.stdout}\n${forced.stderr}`);
  }
  return { dir, config, deltaRoot, manifestsDir };
}

/**
 * Adds a source file in which `item` is bought with whole milk in `baskets` baskets, so that it is among the
 * top items and in rules after the next run.
 */
export function addItemToSample(project: PipelineOutput, item: string, baskets: number): void {
  const lines = ['Member_number,Date,itemDescription'];
  for (let i = 0; i < baskets; i++) {
    const member = 1000 + (i % 3000);
    const day = new Date(Date.UTC(2015, 0, 1) + (i % 360) * 86_400_000).toISOString().slice(0, 10);
    lines.push(`${member},${day},${item}`, `${member},${day},whole milk`);
  }
  fs.writeFileSync(path.join(project.dir, 'data/sample/added-items.csv'), lines.join('\n') + '\n');
}

/** Commits a new version of `table` holding the rows of `query` (a SELECT over DuckDB views of the tables). */
export async function overwriteTable(deltaRoot: string, table: TableName, query: string): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await registerDeltaView(conn, table, tableLocation(deltaRoot, table), { temporary: false });
    await conn.run(`CREATE TABLE new_rows AS ${query}`);
    const result = await writeDelta(conn, tableLocation(deltaRoot, table), 'SELECT * FROM new_rows', {
      mode: 'overwrite',
    });
    return result.version;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * A DuckDB connection that reads the Delta tables under `deltaRoot` as a Databricks warehouse shows them: each
 * `schema.name` is the latest version (looked up before every statement), `DESCRIBE HISTORY t [LIMIT n]` lists
 * the commits, `DESCRIBE TABLE t` its columns, and `t VERSION AS OF n` is the table at version n. The Thrift
 * test server passes statements to DuckDB as they come, so this translates the Delta forms DuckDB lacks.
 */
export async function databricksDialect(deltaRoot: string): Promise<{
  connection: DuckDBConnection;
  close(): void;
}> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run('CREATE SCHEMA delta_history; CREATE SCHEMA delta_versions;');
  const current = new Map<string, number>();

  async function refresh(): Promise<void> {
    for (const table of TABLES) {
      const location = tableLocation(deltaRoot, table);
      if (!fs.existsSync(path.join(location, '_delta_log'))) continue;
      const latest = await openDeltaTable(location).latestVersion();
      if (current.get(table) === latest) continue;
      await registerDeltaView(conn, table, location, { version: latest, temporary: false });
      current.set(table, latest);
    }
  }

  async function history(table: string, limit: string | undefined): Promise<string> {
    const name = `delta_history.${table.replace('.', '__')}`;
    const entries = await openDeltaTable(tableLocation(deltaRoot, table)).history();
    const rows = entries.map((e) => {
      const metrics = Object.entries(e.operationMetrics)
        .map(([k, v]) => `${quote(k)}: ${quote(String(v))}`)
        .join(', ');
      return `(${e.version}, make_timestamp(${e.timestamp * 1000}), ${quote(e.operation)}, MAP {${metrics}})`;
    });
    await conn.run(
      `CREATE OR REPLACE TABLE ${name} (version BIGINT, "timestamp" TIMESTAMP, operation VARCHAR, operationMetrics MAP(VARCHAR, VARCHAR))`,
    );
    if (rows.length) await conn.run(`INSERT INTO ${name} VALUES ${rows.join(', ')}`);
    return `SELECT * FROM ${name} ORDER BY version DESC${limit ? ` LIMIT ${limit}` : ''}`;
  }

  /** DESCRIBE TABLE as Spark answers it: the columns, then a blank row and the partition columns. */
  async function describeTable(table: string): Promise<string> {
    const name = `delta_history.${table.replace('.', '__')}__columns`;
    const snapshot = await openDeltaTable(tableLocation(deltaRoot, table)).snapshot();
    const rows: [string, string, string | null][] = snapshot.schema.fields.map((f) => [
      f.name,
      sqlTypeName(f.type),
      typeof f.metadata.comment === 'string' ? f.metadata.comment : null,
    ]);
    if (snapshot.partitionColumns.length) {
      rows.push(['', '', ''], ['# Partition Information', '', ''], ['# col_name', 'data_type', 'comment']);
      for (const column of snapshot.partitionColumns) {
        rows.push([column, rows.find((r) => r[0] === column)?.[1] ?? '', null]);
      }
    }
    const values = rows.map(
      ([n, t, c], i) => `(${i}, ${quote(n)}, ${quote(t)}, ${c === null ? 'NULL' : quote(c)})`,
    );
    await conn.run(
      `CREATE OR REPLACE TABLE ${name} AS SELECT * FROM (VALUES ${values.join(', ')}) t(i, col_name, data_type, comment)`,
    );
    return `SELECT col_name, data_type, comment FROM ${name} ORDER BY i`;
  }

  async function versionView(table: string, version: number): Promise<string> {
    const view = `delta_versions.${table.replace('.', '__')}__v${version}`;
    await registerDeltaView(conn, view, tableLocation(deltaRoot, table), { version, temporary: false });
    return view;
  }

  async function translate(sql: string): Promise<string> {
    await refresh();
    const describe = /^\s*DESCRIBE\s+HISTORY\s+([a-z_]+\.[a-z_]+)(?:\s+LIMIT\s+(\d+))?\s*$/i.exec(sql);
    if (describe) return history(describe[1] as string, describe[2]);
    const columns = /^\s*DESCRIBE\s+TABLE\s+([a-z_]+\.[a-z_]+)\s*$/i.exec(sql);
    if (columns) return describeTable(columns[1] as string);
    let out = sql;
    for (const match of sql.matchAll(/\b([a-z_]+\.[a-z_]+)\s+VERSION\s+AS\s+OF\s+(\d+)/gi)) {
      out = out.replace(match[0], await versionView(match[1] as string, Number(match[2])));
    }
    return out;
  }

  // The server calls prepare() on the shared connection; everything else goes to the real one.
  const connection = Object.create(conn) as DuckDBConnection;
  connection.prepare = async (sql: string) => conn.prepare(await translate(sql));
  return {
    connection,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

export const WAREHOUSE_TOKEN = 'dapi-app-test-token';

/** A Thrift warehouse over the Delta tables under `deltaRoot`. */
export async function startWarehouse(
  deltaRoot: string,
): Promise<{ server: ThriftServer; close(): Promise<void> }> {
  const dialect = await databricksDialect(deltaRoot);
  const server = await startThriftServer({ duckdb: dialect.connection, token: WAREHOUSE_TOKEN });
  return {
    server,
    async close() {
      await server.close();
      dialect.close();
    },
  };
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium with a fresh profile (playwright-core gives it as --user-data-dir). */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = tempDir('app-chromium');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 1000 },
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new page at `url` that records console errors and warnings, page errors, failed requests and dialogs. */
export async function openPage(
  context: BrowserContext,
  url: string,
): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(url);
  return { page, problems };
}

/** Waits until the section has drawn (main.ts marks it ready). */
export async function sectionReady(page: Page, section: string): Promise<void> {
  await page.locator(`#section-${section}[data-state="ready"]`).waitFor({ timeout: 20_000 });
}
