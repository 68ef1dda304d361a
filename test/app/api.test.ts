// The API on local Delta tables: filters, sorting and paging done in SQL, input checks, caching keyed by table
// version, /healthz, security headers; the Render Blueprint; and the production entry's graceful shutdown.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localSource, serveApp, startApp } from '../../app/server.ts';
import type { RunningApp } from '../../app/server.ts';
import { freshnessFromEnv } from '../../app/main.ts';
import type { BasketSize, Overview, PipelineRun } from '../../app/types.ts';
import { writeManifest } from '../../src/stages/manifest.ts';
import type { Manifest } from '../../src/stages/manifest.ts';
import { repoRoot } from '../helpers/services.ts';
import { overwriteTable, runSamplePipeline, startWarehouse, tempDir, WAREHOUSE_TOKEN } from './helpers.ts';

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

describe('bad input', () => {
  test('is a 400 that names the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['/api/rules?minConfidence=abc', /minConfidence/],
      ['/api/rules?pageSize=100000', /pageSize/],
      ['/api/items/top?limit=0', /limit/],
      ['/api/tables/gold.nope/rows', /unknown table "gold.nope"/],
      ['/api/tables/gold.association_rules/rows?version=99', /version/],
      ['/api/tables/gold.association_rules/rows?offset=-1', /offset/],
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
    const script = /<script type="module" src="(\/assets\/app\.[\w-]{16}\.js)"><\/script>/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${app.url}${script}`);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await js.text()).length).toBeGreaterThan(100_000);
  });

  test('bundles have their content hash in the name and are cached for a year; the page is revalidated', async () => {
    const html = await (await fetch(`${app.url}/`)).text();
    const bundles = [...html.matchAll(/(\/assets\/app\.([\w-]{16})\.(?:js|css))/g)];
    expect(bundles.map((m) => m[1]!.split('.').at(-1))).toEqual(['css', 'js']);
    for (const [, route, hash] of bundles) {
      const first = await fetch(`${app.url}${route}`);
      const body = await first.text();
      expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      // The name's hash is the content's.
      expect(createHash('sha256').update(body).digest('base64url').slice(0, 16)).toBe(hash);
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^(W\/)?"[\w-]+"$/);
      const again = await fetch(`${app.url}${route}`, { headers: { 'If-None-Match': etag } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
      const other = await fetch(`${app.url}${route}`, { headers: { 'If-None-Match': '"something-else"' } });
      expect(other.status).toBe(200);
    }
    const page = await fetch(`${app.url}/`);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const tag = page.headers.get('etag')!;
    const revalidated = await fetch(`${app.url}/`, {
      headers: { 'If-None-Match': `W/${tag.replace(/^W\//, '')}, "x"` },
    });
    expect(revalidated.status).toBe(304);
    expect((await fetch(`${app.url}/assets/app.js`)).status).toBe(404);
  });
});

describe('serveApp (what npm start ends with)', () => {
  test('serves the local tables at http://localhost with the run history from the manifests and the freshness of lakehouse.yml', async () => {
    const manifestsDir = tempDir('app-manifests');
    const run = {
      runId: 'r-42',
      startedAt: '2026-01-02T03:04:05.000Z',
      finishedAt: '2026-01-02T03:04:09.000Z',
    };
    const totals = { files: 2, uploaded: 2, skipped: 0, conflicts: 0, failed: 0, bytes: 10 };
    await writeManifest(manifestsDir, {
      stage: 'ingest',
      dryRun: false,
      ...run,
      objects: [],
      totals,
    } as Manifest);
    await writeManifest(manifestsDir, {
      stage: 'ingest',
      dryRun: true,
      ...run,
      runId: 'r-dry',
      totals,
    } as Manifest);
    const served = await serveApp({
      deltaRoot,
      manifestsDir,
      port: 0,
      freshness: { warnAfter: '1h', errorAfter: '2d' },
    });
    try {
      expect(served.url).toMatch(/^http:\/\/localhost:\d+$/);
      const runs = (await (await fetch(`${served.url}/api/runs`)).json()) as { data: PipelineRun[] };
      expect(runs.data).toEqual([
        {
          ...run,
          status: 'succeeded',
          seconds: 4,
          stages: [
            {
              stage: 'ingest',
              status: 'succeeded',
              startedAt: run.startedAt,
              finishedAt: run.finishedAt,
              seconds: 4,
              counts: { files: 2, uploaded: 2, skipped: 0, failed: 0, bytes: 10 },
              failure: null,
            },
          ],
        },
      ]);
      const body = (await (await fetch(`${served.url}/api/overview`)).json()) as { data: Overview };
      // No transform manifest: the latest versions are served, and their age is the data's.
      expect(body.data.snapshot.run).toBeNull();
      expect(body.data.snapshot.freshness).toMatchObject({
        status: 'fresh',
        warnAfterSeconds: 3600,
        errorAfterSeconds: 172_800,
      });
      expect(body.data.tables.find((t) => t.name === 'gold.association_rules')?.version).toBe(0);
      expect(body.data.transactions).toBeGreaterThan(body.data.baskets!);
      expect(body.data.topItems).toHaveLength(5);
      expect(body.data.strongestRules.map((r) => r.metrics.lift)).toEqual(
        [...body.data.strongestRules.map((r) => r.metrics.lift)].sort((a, b) => b! - a!),
      );
    } finally {
      await served.close();
    }
  });
});

describe('app.freshness in lakehouse.yml', () => {
  test('is read by app/main.ts, and a mistake names the key and what was expected', () => {
    const dir = tempDir('app-freshness');
    const yml = fs.readFileSync(path.join(repoRoot, 'lakehouse.yml'), 'utf8');
    const write = (freshness: string) => {
      const file = path.join(dir, 'lakehouse.yml');
      fs.writeFileSync(file, yml.replace(/freshness: \{[^}]*\}/, `freshness: ${freshness}`));
      return file;
    };
    expect(freshnessFromEnv({ LAKEHOUSE_CONFIG: write('{ warnAfter: 90m, errorAfter: 1.5d }') })).toEqual({
      warnAfterSeconds: 5400,
      errorAfterSeconds: 129_600,
    });
    expect(() => freshnessFromEnv({ LAKEHOUSE_CONFIG: write('{ warnAfter: 3d, errorAfter: 1d }') })).toThrow(
      /app\.freshness\.errorAfter.*at least warnAfter \(3d\), found 1d/,
    );
    expect(() =>
      freshnessFromEnv({ LAKEHOUSE_CONFIG: write('{ warnAfter: 36 hours, errorAfter: 3d }') }),
    ).toThrow(/app\.freshness\.warnAfter.*a duration such as 36h/);
    expect(freshnessFromEnv({ LAKEHOUSE_CONFIG: path.join(repoRoot, 'lakehouse.yml') })).toEqual({
      warnAfterSeconds: 36 * 3600,
      errorAfterSeconds: 72 * 3600,
    });
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
