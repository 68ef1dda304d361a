#!/usr/bin/env zx
// API latency and throughput of the app on 10 million transactions' worth of gold tables (local Delta through
// DuckDB), 50 concurrent connections with autocannon. Two runs of the app: with its query cache (what users
// get on repeated views) and with the cache off (every request runs its SQL). Writes bench/results/app.md.
// The tables come from the real pipeline (`lakehouse run` on a generated sample of that size: ingest, load into
// PGlite, the notebooks); `--fixture` writes the synthetic fixture of test/app/fixture.ts instead (faster).
//
//   npx zx bench/app.mjs [--transactions 10000000] [--duration 10] [--connections 50] [--fixture]
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { argv } from 'zx';
import autocannon from 'autocannon';
import { register } from 'tsx/esm/api';

register();
const root = path.resolve(import.meta.dirname, '..');
const { writeFixtureDelta } = await import('../test/app/helpers.ts');
const { lakehouse, tempProject } = await import('../test/helpers/cli.ts');

const transactions = Number(argv.transactions ?? 10_000_000);
const duration = Number(argv.duration ?? 10);
const connections = Number(argv.connections ?? 50);
const fixture = Boolean(argv.fixture);
// The fixture puts about 2.15 lines in a basket.
const baskets = Math.round(transactions / 2.15);
const work = path.join(
  root,
  'bench/.work',
  fixture ? `app-${baskets}-baskets` : `app-pipeline-${transactions}`,
);
const deltaRoot = fixture ? path.join(work, 'delta') : path.join(work, '.lakehouse/delta');
const dataSource = fixture
  ? 'synthetic, `test/app/fixture.ts`'
  : `written by the pipeline itself: \`lakehouse run\` on a generated sample of ${transactions.toLocaleString('en-US')} lines`;

async function prepare() {
  if (fs.existsSync(path.join(work, 'done'))) return;
  fs.rmSync(work, { recursive: true, force: true });
  const started = Date.now();
  if (fixture) {
    console.log(`writing gold and silver Delta tables for ${baskets.toLocaleString('en-US')} baskets ...`);
    await writeFixtureDelta(deltaRoot, { baskets, seed: 1 });
  } else {
    console.log(
      `lakehouse run on ${transactions.toLocaleString('en-US')} generated lines (ingest, load, notebooks) ...`,
    );
    const { config } = await tempProject(transactions, work);
    const run = await lakehouse(['-c', config, 'run']);
    if (run.code !== 0) throw new Error(`lakehouse run failed:\n${run.stdout}\n${run.stderr}`);
  }
  fs.writeFileSync(path.join(work, 'done'), `${Date.now() - started}\n`);
}

function startApp(extraEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      LAKEHOUSE_SOURCE: 'local',
      LAKEHOUSE_DELTA_ROOT: deltaRoot,
      PORT: '0',
      HOST: '127.0.0.1',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const match = /at (http:\/\/\S+)/.exec(out);
      if (match) resolve({ url: match[1], child });
    });
    child.once('exit', (code) => reject(new Error(`app exited with ${code}: ${out}`)));
  });
}

async function stopApp(app) {
  const exited = new Promise((resolve) => app.child.once('exit', resolve));
  app.child.kill('SIGTERM');
  await exited;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// Each request of a scenario draws its parameters, so that uncached runs do not repeat one query.
const confidences = Array.from({ length: 40 }, (_, i) => (i * 0.01).toFixed(2));
// Exact items (the API matches whole items); '' is no item filter.
const items = [
  '',
  'whole milk',
  'soda',
  'yogurt',
  'brown bread',
  'canned beer',
  'other vegetables',
  'tropical fruit',
];
const pick = (list) => list[Math.floor(Math.random() * list.length)];
const scenarios = [
  { name: 'overview', path: () => '/api/overview' },
  {
    name: 'rules page (random filters, sort)',
    path: () =>
      `/api/rules?minConfidence=${pick(confidences)}&item=${encodeURIComponent(pick(items))}&sort=${pick(['lift', 'confidence', 'support'])}`,
  },
  {
    name: 'rules scatter (random filters)',
    path: () => `/api/rules/scatter?minConfidence=${pick(confidences)}&minLift=${pick(['0', '1', '1.2'])}`,
  },
  { name: 'sales per day', path: () => '/api/sales/daily' },
  { name: 'top items', path: () => '/api/items/top?limit=20' },
  { name: 'top customers', path: () => '/api/customers/top?limit=20' },
  { name: 'time travel rows', path: () => '/api/tables/silver.baskets/rows?version=0&limit=50' },
];

async function measure(url, scenario) {
  // Warm up: views registered, caches filled where the cache is on.
  for (let i = 0; i < 3; i++) await fetch(url + scenario.path());
  const latencies = [];
  let errors = 0;
  const instance = autocannon({
    url,
    connections,
    duration,
    requests: [{ setupRequest: (req) => ({ ...req, path: scenario.path() }) }],
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    latencies.push(ms);
    if (status !== 200) errors += 1;
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  return {
    name: scenario.name,
    requests: latencies.length,
    rps: latencies.length / result.duration,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    errors: errors + result.errors + result.timeouts,
  };
}

await prepare();
const loadBefore = os.loadavg()[0];
const runs = [];
for (const [label, env] of [
  ['query cache on (default)', {}],
  ['query cache off (every request runs SQL)', { LAKEHOUSE_CACHE_TTL_SECONDS: '0' }],
]) {
  const app = await startApp(env);
  const rows = [];
  try {
    for (const scenario of scenarios) {
      const r = await measure(app.url, scenario);
      console.log(
        `${label} · ${r.name}: p50 ${r.p50} ms, p95 ${r.p95} ms, p99 ${r.p99} ms, ${r.rps.toFixed(0)} req/s, ${r.errors} errors`,
      );
      rows.push(r);
    }
  } finally {
    await stopApp(app);
  }
  runs.push({ label, rows });
}

const counts = await (async () => {
  const app = await startApp({});
  try {
    return (await (await fetch(`${app.url}/api/overview`)).json()).data;
  } finally {
    await stopApp(app);
  }
})();
const fmt = (n) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 1 }) : '–');
const lines = [
  '# App API benchmark',
  '',
  `Written by \`bench/app.mjs\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores, ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
  '',
  `Data: ${fmt(counts.transactions)} transactions in ${fmt(counts.baskets)} baskets, ${fmt(counts.items)} items, ` +
    `${fmt(counts.customers)} customers, ${fmt(counts.rules)} association rules (${dataSource}), ` +
    'as local Delta tables read through DuckDB (4 connections).',
  '',
  `Load: autocannon, ${connections} connections, ${duration} s per endpoint, after 3 warm-up requests. ` +
    'Latencies are per request, measured by autocannon; the app runs in its own process (`app/main.ts`).',
  '',
  `The machine is shared: its load average (1 min) was ${loadBefore.toFixed(1)} when the runs began and ` +
    `${os.loadavg()[0].toFixed(1)} when they ended, on ${os.cpus().length} cores, so other work took part of the CPU.`,
  '',
];
for (const run of runs) {
  lines.push(
    `## ${run.label}`,
    '',
    '| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of run.rows) {
    lines.push(
      `| ${r.name} | ${fmt(r.requests)} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${r.errors} |`,
    );
  }
  lines.push('');
}
fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
fs.writeFileSync(path.join(root, 'bench/results/app.md'), lines.join('\n'));
console.log('wrote bench/results/app.md');
