#!/usr/bin/env node
// How long `lakehouse status` takes, as a user types it, on a store holding the default sample (40,000 lines):
// on the embedded store (PGlite) and on PostgreSQL, each beside its anchors measured in the same run:
//   - `lakehouse --version`: the CLI's own start (Node, tsx, the config reader), which every command pays;
//   - PGlite's open and close of the same database folder, in a fresh process: the embedded engine's start (its
//     WebAssembly and data files), which every command on the embedded store pays;
//   - the same, started as status starts it (src/sql/postgres/pglite.ts, BRIEF_START, and src/cli/main.ts): 16 MB
//     of shared buffers and V8's baseline WebAssembly compiler only; the floor of status on PGlite.
// The target (issue 16): status in under a second at 40,000 rows.
//
//   node bench/status.mjs [--rows 40000] [--runs 5]
// Needs PostgreSQL at 127.0.0.1:5432 for its half (reported as missing otherwise). Writes bench/results/status.md.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { argv, fs, path } from 'zx';

const root = path.resolve(import.meta.dirname, '..');
const work = path.join(root, 'bench/.work/status');
const rows = Number(argv.rows ?? 40_000);
const runs = Number(argv.runs ?? 5);
const lakehouse = path.join(root, 'bin/lakehouse.js');
const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = 'lh_bench_status';

await fs.remove(work);
await fs.mkdirp(work);
// The project's own config, with a second profile on PostgreSQL over the same bucket.
await fs.writeFile(
  path.join(work, 'lakehouse.yml'),
  `${await fs.readFile(path.join(root, 'lakehouse.yml'), 'utf8')}
  bench-postgres:
    bucket: file://.lakehouse/bucket
    sql: { engine: postgres, connection: '${POSTGRES}', schema: ${SCHEMA} }
    delta: .lakehouse/delta
    manifests: .lakehouse/manifests
`,
);

/** Runs the CLI in the work folder; throws with its output when it fails. */
function cli(...args) {
  const started = performance.now();
  const run = spawnSync('node', [lakehouse, ...args], { cwd: work, encoding: 'utf8' });
  if (run.status !== 0)
    throw new Error(`lakehouse ${args.join(' ')} exited ${run.status}:\n${run.stdout}${run.stderr}`);
  return { seconds: (performance.now() - started) / 1000, stdout: run.stdout };
}

/** PGlite opening and closing the store's folder in a fresh process, as a command does (`brief`: as status does). */
function pgliteOpen({ brief = false } = {}) {
  const options = brief
    ? "{ startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'] }"
    : '{}';
  const script = `import { PGlite } from '@electric-sql/pglite';
const db = await PGlite.create(${JSON.stringify(path.join(work, '.lakehouse/pglite'))}, ${options});
await db.close();`;
  const flags = brief ? ['--liftoff-only'] : [];
  const started = performance.now();
  const run = spawnSync('node', [...flags, '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`PGlite open failed:\n${run.stderr}`);
  return { seconds: (performance.now() - started) / 1000 };
}

function postgresReachable() {
  const run = spawnSync('psql', [POSTGRES, '-qAtc', `DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`], {
    encoding: 'utf8',
  });
  return run.status === 0;
}

/** Median and fastest of `runs` timings. */
function timed(what, measure) {
  const seconds = Array.from({ length: runs }, () => measure().seconds).sort((a, b) => a - b);
  const figure = { what, median: seconds[Math.floor(seconds.length / 2)], min: seconds[0] };
  console.log(`${what}: median ${figure.median.toFixed(2)} s, fastest ${figure.min.toFixed(2)} s`);
  return figure;
}

console.log(`generating ${rows.toLocaleString('en-US')} lines, then ingest and load into PGlite`);
cli('generate', '--rows', String(rows), '--out', 'data/sample');
cli('ingest');
cli('load');
const withPostgres = postgresReachable();
if (withPostgres) cli('load', '-p', 'bench-postgres');
const status = cli('status').stdout;

const loadBefore = os.loadavg();
const figures = [
  timed('lakehouse --version (anchor: the CLI’s start)', () => cli('--version')),
  timed('PGlite open + close of the store (anchor: the embedded engine’s start)', () => pgliteOpen()),
  timed('PGlite open + close as status opens it (anchor: status’s floor on PGlite)', () =>
    pgliteOpen({ brief: true }),
  ),
  timed('lakehouse status, PGlite', () => cli('status')),
  ...(withPostgres
    ? [timed('lakehouse status, PostgreSQL', () => cli('status', '-p', 'bench-postgres'))]
    : []),
];
const loadAfter = os.loadavg();
if (withPostgres) postgresReachable();

const [start, pglite, pgliteBrief, statusPglite, statusPostgres] = figures;
const verdict = (f) => `${f.median.toFixed(2)} s: ${f.median < 1 ? 'met' : 'not met'}`;
const report = [
  '# `lakehouse status`',
  '',
  `\`node bench/status.mjs --rows ${rows} --runs ${runs}\` on ${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}.`,
  `Load average (1, 5, 15 min): ${loadBefore.map((x) => x.toFixed(1)).join(', ')} before the timings, ${loadAfter.map((x) => x.toFixed(1)).join(', ')} after.`,
  '',
  'The store, as status printed it:',
  '',
  '```',
  status.trimEnd(),
  '```',
  '',
  `| what | median s | fastest s |`,
  '| --- | ---: | ---: |',
  ...figures.map((f) => `| ${f.what} | ${f.median.toFixed(2)} | ${f.min.toFixed(2)} |`),
  '',
  '## Against the target (under a second)',
  '',
  statusPostgres
    ? `- PostgreSQL: ${verdict(statusPostgres)}, of which ${start.median.toFixed(2)} s is the CLI's start.`
    : '- PostgreSQL: not measured (no server at 127.0.0.1:5432).',
  `- PGlite: ${verdict(statusPglite)}: the CLI's start (${start.median.toFixed(2)} s) and PGlite's start as status opens it (${pgliteBrief.median.toFixed(2)} s; ${pglite.median.toFixed(2)} s as other commands open it) leave ${Math.max(0, statusPglite.median - start.median - pgliteBrief.median).toFixed(2)} s for status's own work. The embedded engine's start is the floor of any command on it.`,
  '',
];
await fs.mkdirp(path.join(root, 'bench/results'));
await fs.writeFile(path.join(root, 'bench/results/status.md'), report.join('\n'));
console.log('\nwrote bench/results/status.md');
