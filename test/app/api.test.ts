// The API on local Delta tables: filters, sorting and paging done in SQL, input checks, caching keyed by table
// version, /healthz, security headers; the Render Blueprint; and the production entry's graceful shutdown.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localSource, serveApp, startApp } from '../../app/server.ts';
import type { RunningApp } from '../../app/server.ts';
import type { BasketSize, Overview, Rule, RulesPage } from '../../app/types.ts';
import { writeManifest } from '../../src/stages/manifest.ts';
import { registerDeltaView } from '../../src/delta/index.ts';
import { repoRoot } from '../helpers/services.ts';
import {
  overwriteTable,
  runSamplePipeline,
  startWarehouse,
  tableLocation,
  tempDir,
  WAREHOUSE_TOKEN,
} from './helpers.ts';

let deltaRoot: string;
let app: RunningApp;

beforeAll(async () => {
  deltaRoot = (await runSamplePipeline(20_000)).deltaRoot;
  app = await startApp({ source: await localSource({ deltaRoot }), port: 0, versionCheckMs: 0 });
});

afterAll(async () => {
  await app?.close();
});

async function get<T>(p: string): Promise<{ status: number; data: T; error?: string; headers: Headers }> {
  const response = await fetch(app.url + p);
  const body = (await response.json()) as { data: T; error?: string };
  return { status: response.status, data: body.data, error: body.error, headers: response.headers };
}

/** Every rule of the fixture, straight from the Delta table. */
async function allRules(): Promise<Rule[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await registerDeltaView(conn, 'rules', tableLocation(deltaRoot, 'gold.association_rules'));
    const reader = await conn.runAndReadAll(
      'SELECT antecedents, consequents, support, confidence, lift FROM rules',
    );
    return reader.getRowObjectsJS() as unknown as Rule[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

describe('rules', () => {
  test('thresholds and search filter in SQL and the total counts the same rules', async () => {
    const rules = await allRules();
    expect(rules.length).toBeGreaterThan(20);
    // Thresholds in the middle of the data, so that each keeps some rules and drops others.
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const confidence = median(rules.map((r) => r.confidence!));
    const support = median(rules.map((r) => r.support!));
    const lift = median(rules.map((r) => r.lift!));
    const cases = [
      { query: `minConfidence=${confidence}`, keep: (r: Rule) => r.confidence! >= confidence },
      {
        query: `minSupport=${support}&minLift=${lift}`,
        keep: (r: Rule) => r.support! >= support && r.lift! >= lift,
      },
      { query: 'q=Milk', keep: (r: Rule) => `${r.antecedents} ${r.consequents}`.includes('milk') },
      { query: 'q=milk&side=antecedent', keep: (r: Rule) => r.antecedents!.includes('milk') },
    ];
    for (const c of cases) {
      const expected = rules.filter(c.keep);
      expect(expected.length, c.query).toBeGreaterThan(0);
      const page = await get<RulesPage>(`/api/rules?${c.query}&pageSize=500`);
      expect(page.status).toBe(200);
      expect(page.data.total, c.query).toBe(expected.length);
      expect(page.data.rows.length).toBe(Math.min(500, expected.length));
      for (const r of page.data.rows) expect(c.keep(r), `${c.query}: ${JSON.stringify(r)}`).toBe(true);
    }
  });

  test('sorts either way and pages without overlap', async () => {
    const asc = await get<RulesPage>('/api/rules?sort=confidence&dir=asc&pageSize=50');
    const values = asc.data.rows.map((r) => r.confidence!);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    const desc = await get<RulesPage>('/api/rules?sort=lift&dir=desc&pageSize=50');
    const lifts = desc.data.rows.map((r) => r.lift!);
    expect(lifts).toEqual([...lifts].sort((a, b) => b - a));
    const [p1, p2] = await Promise.all([
      get<RulesPage>('/api/rules?sort=antecedents&dir=asc&page=1&pageSize=10'),
      get<RulesPage>('/api/rules?sort=antecedents&dir=asc&page=2&pageSize=10'),
    ]);
    const key = (r: Rule) => `${r.antecedents} → ${r.consequents}`;
    const first = new Set(p1.data.rows.map(key));
    expect(p2.data.rows.length).toBe(10);
    for (const r of p2.data.rows) expect(first.has(key(r))).toBe(false);
    expect(p1.data.rows.at(-1)!.antecedents! <= p2.data.rows[0]!.antecedents!).toBe(true);
  });

  test('bad input is a 400 that names the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['/api/rules?minConfidence=abc', /minConfidence/],
      ['/api/rules?minSupport=2', /minSupport/],
      ['/api/rules?sort=antecedents;DROP%20TABLE%20x', /sort/],
      ['/api/rules?pageSize=100000', /pageSize/],
      ['/api/items/top?limit=0', /limit/],
      ['/api/tables/gold.nope/rows', /unknown table "gold.nope"/],
      ['/api/tables/gold.association_rules/rows?version=99', /version/],
    ];
    for (const [p, message] of cases) {
      const r = await get(p);
      expect(r.status, p).toBe(400);
      expect(r.error, p).toMatch(message);
    }
    const missing = await get('/api/nothing');
    expect(missing.status).toBe(404);
  });
});

describe('caching', () => {
  test('a repeated request is answered from the cache', async () => {
    await get('/api/sales/monthly');
    const hits = app.datasets.cache.hits;
    await get('/api/sales/monthly');
    expect(app.datasets.cache.hits).toBe(hits + 1);
  });

  test('a new table version replaces cached answers', async () => {
    const before = await get<BasketSize[]>('/api/baskets/sizes');
    expect(before.data.length).toBeGreaterThan(2);
    await overwriteTable(
      deltaRoot,
      'gold.basket_size_distribution',
      'SELECT basket_size, baskets, share FROM gold.basket_size_distribution WHERE basket_size = 1',
    );
    const after = await get<BasketSize[]>('/api/baskets/sizes');
    expect(after.data).toEqual([before.data[0]]);
    const tables = await get<{ name: string; version: number }[]>('/api/tables');
    expect(tables.data.find((t) => t.name === 'gold.basket_size_distribution')?.version).toBe(1);
  });
});

describe('the service', () => {
  test('/healthz reports the source, its versions and the data age', async () => {
    const response = await fetch(`${app.url}/healthz`);
    expect(response.status).toBe(200);
    const health = (await response.json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', source: 'local', reachable: true });
    expect(health.dataAgeSeconds).toEqual(expect.any(Number));
    expect((health.versions as Record<string, { version: number }>)['gold.association_rules']?.version).toBe(
      0,
    );
  });

  test('the page comes with a content security policy that allows only its own scripts', async () => {
    const response = await fetch(`${app.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/assets/app.js"></script>');
    const js = await fetch(`${app.url}/assets/app.js`);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await js.text()).length).toBeGreaterThan(100_000);
  });
});

describe('serveApp (what npm start ends with)', () => {
  test('serves the local tables at http://localhost and shows the last pipeline run from the manifests', async () => {
    const manifestsDir = tempDir('app-manifests');
    const run = {
      runId: 'r-42',
      startedAt: '2026-01-02T03:04:05.000Z',
      finishedAt: '2026-01-02T03:04:09.000Z',
    };
    await writeManifest(manifestsDir, { stage: 'ingest', dryRun: false, ...run });
    await writeManifest(manifestsDir, { stage: 'load', dryRun: false, ...run, runId: 'r-43' });
    const served = await serveApp({ deltaRoot, manifestsDir, port: 0 });
    try {
      expect(served.url).toMatch(/^http:\/\/localhost:\d+$/);
      const body = (await (await fetch(`${served.url}/api/overview`)).json()) as { data: Overview };
      expect(body.data.lastRun?.stages).toEqual([
        { stage: 'ingest', ...run },
        { stage: 'load', ...run, runId: 'r-43' },
      ]);
      expect(body.data.tables.find((t) => t.name === 'gold.association_rules')?.version).toBe(0);
      expect(body.data.transactions).toBeGreaterThan(body.data.baskets!);
    } finally {
      await served.close();
    }
  });
});

describe('render.yaml', () => {
  test('is a Blueprint for this app: health check, start command, secrets not synced, no auto-deploy', () => {
    const blueprint = parse(fs.readFileSync(path.join(repoRoot, 'render.yaml'), 'utf8')) as {
      services: {
        type: string;
        runtime: string;
        buildCommand: string;
        startCommand: string;
        healthCheckPath: string;
        autoDeployTrigger: string;
        envVars: { key: string; value?: string; sync?: boolean }[];
      }[];
    };
    const [web] = blueprint.services;
    expect(web).toMatchObject({
      type: 'web',
      runtime: 'node',
      healthCheckPath: '/healthz',
      autoDeployTrigger: 'off',
    });
    expect(web!.startCommand).toContain('app/main.ts');
    expect(fs.existsSync(path.join(repoRoot, 'app/main.ts'))).toBe(true);
    const env = new Map(web!.envVars.map((e) => [e.key, e]));
    for (const secret of ['DATABRICKS_HOST', 'DATABRICKS_HTTP_PATH', 'DATABRICKS_TOKEN']) {
      expect(env.get(secret), secret).toEqual({ key: secret, sync: false });
    }
    expect(env.get('LAKEHOUSE_SOURCE')?.value).toBe('databricks');
    // Every variable it sets is one app/main.ts reads.
    const main = fs.readFileSync(path.join(repoRoot, 'app/main.ts'), 'utf8');
    for (const key of env.keys()) if (key !== 'NODE_VERSION') expect(main, key).toContain(key);
  });
});

describe('app/main.ts', () => {
  test('serves from the environment and, on SIGTERM, finishes the request in flight before exiting', async () => {
    const warehouse = await startWarehouse(deltaRoot);
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        LAKEHOUSE_SOURCE: 'databricks',
        DATABRICKS_HOST: `https://${warehouse.server.host}:${warehouse.server.port}`,
        DATABRICKS_HTTP_PATH: warehouse.server.path,
        DATABRICKS_TOKEN: WAREHOUSE_TOKEN,
        PORT: '0',
        HOST: '127.0.0.1',
        // The test warehouse has a self-signed certificate.
        DATABRICKS_CHECK_SERVER_CERTIFICATE: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const match = /serving databricks data at (http:\/\/\S+)/.exec(output);
          if (match) {
            clearInterval(timer);
            resolve(match[1] as string);
          }
        }, 50);
        void exited.then(() => reject(new Error(`app/main.ts exited early:\n${output}`)));
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      warehouse.server.faults.queryDelayMs = 1500;
      const inFlight = fetch(`${url}/api/items/top?limit=3`);
      await new Promise((resolve) => setTimeout(resolve, 400));
      child.kill('SIGTERM');
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: unknown[] }).data).toHaveLength(3);
      expect(await exited).toBe(0);
      expect(output).toContain('SIGTERM: finishing requests in flight');
      expect(output).not.toContain(WAREHOUSE_TOKEN);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await warehouse.close();
    }
  });
});
