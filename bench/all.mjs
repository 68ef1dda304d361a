#!/usr/bin/env node
// Every benchmark in one run (npm run bench), each as its own process, then one report, bench/results/README.md:
// what ran, how long, the machine's load average, the load ratios, and load cost against size. Each benchmark's
// own report (bench/results/<name>.md, rewritten by this run) holds its figures beside its anchors.
//
//   node bench/all.mjs [--sizes 100000,1000000]   sizes (lines) for the load, delta and rules benchmarks
//   node bench/all.mjs --smoke                     every benchmark at a tiny size, to catch breakage (not to time):
//                                                  bench/results is left as it was, and the exit code says whether all ran
//
// 10 million lines are not in the default sizes: on this shared 2-core machine the load benchmark alone takes many
// minutes at that size (pass --sizes 100000,1000000,10000000 to measure it where there is time).
// bench/rules.mjs takes its sizes as arguments; it has no flag of its own for smoke mode, so the tiny size is passed
// the same way. Where Java and the built Spark module (spark/target) are present it also runs Spark MLlib's FPGrowth,
// in smoke mode too (about half a minute more); elsewhere it prints why MLlib is skipped.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const results = path.join(root, 'bench/results');
const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const sizesArg = args[args.indexOf('--sizes') + 1];
const sizes = smoke
  ? [2000]
  : (args.includes('--sizes') ? sizesArg : '100000,1000000').split(',').map(Number);
const largest = sizes.at(-1);

/** The benchmarks, each a command line; load runs once per size (its figures build the cost-vs-size table). */
const benchmarks = [
  ...sizes.map((n) => ({ name: `load ${n}`, report: 'load.md', cmd: ['node', 'bench/load.mjs', String(n)] })),
  {
    name: 'delta',
    report: 'delta.md',
    cmd: ['node', '--import', 'tsx', 'bench/delta.mjs', `--sizes=${sizes.join(',')}`, '--repeat=1'],
  },
  {
    name: 'ingest',
    report: 'ingest.md',
    cmd: ['node', 'bench/ingest.mjs', ...(smoke ? ['--mb', '2', '--files', '20', '--runs', '1'] : [])],
  },
  { name: 'run', report: 'run.md', cmd: ['node', 'bench/run.mjs', String(largest)] },
  { name: 'rules', report: 'rules.md', cmd: ['node', 'bench/rules.mjs', ...sizes.map(String)] },
  {
    name: 'status',
    report: 'status.md',
    cmd: ['node', 'bench/status.mjs', ...(smoke ? ['--rows', '2000', '--runs', '1'] : [])],
  },
  {
    name: 'app',
    report: 'app.md',
    cmd: [
      'npx',
      'zx',
      'bench/app.mjs',
      ...(smoke
        ? ['--fixture', '--transactions', '20000', '--duration', '1', '--connections', '2']
        : ['--transactions', String(largest)]),
    ],
  },
];

// Smoke mode must not leave tiny figures in bench/results: keep the reports as they were.
const kept = smoke ? snapshot(results) : undefined;
const loadBefore = os.loadavg();
const ran = [];
const loadBySize = [];
let endToEnd = [];
for (const bench of benchmarks) {
  console.log(`\n== ${bench.name}: ${bench.cmd.join(' ')}`);
  const started = performance.now();
  const run = spawnSync(bench.cmd[0], bench.cmd.slice(1), { cwd: root, stdio: 'inherit', env: process.env });
  const seconds = (performance.now() - started) / 1000;
  ran.push({ ...bench, seconds, ok: run.status === 0, status: run.status ?? run.signal });
  if (bench.name === 'run' && run.status === 0)
    endToEnd = JSON.parse(fs.readFileSync(path.join(results, 'run.json'), 'utf8')).results;
  if (bench.name.startsWith('load ') && run.status === 0)
    loadBySize.push(JSON.parse(fs.readFileSync(path.join(results, 'load.json'), 'utf8')));
}
const loadAfter = os.loadavg();
const report = writeReport();
if (kept) restore(results, kept);
const out = smoke ? path.join(os.tmpdir(), 'lakehouse-bench-smoke.md') : path.join(results, 'README.md');
fs.writeFileSync(out, report);
console.log(`\nwrote ${out}`);
const failed = ran.filter((r) => !r.ok);
if (failed.length) {
  console.error(`failed: ${failed.map((r) => `${r.name} (exit ${r.status})`).join(', ')}`);
  process.exit(1);
}

function writeReport() {
  const avg = (l) => l.map((x) => x.toFixed(1)).join(', ');
  const lines = [
    '# Benchmarks',
    '',
    `\`npm run bench${smoke ? ' -- --smoke' : ''}\` on ${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, sizes ${sizes.map((n) => n.toLocaleString('en-US')).join(', ')} lines.`,
    `Load average (1, 5, 15 min): ${avg(loadBefore)} at the start, ${avg(loadAfter)} at the end, on ${os.cpus().length} cores (a shared machine: compare figures within a run).`,
    '',
    '| benchmark | wall s | outcome | figures beside their anchors |',
    '| --- | ---: | --- | --- |',
    ...ran.map(
      (r) =>
        `| ${r.name} | ${r.seconds.toFixed(0)} | ${r.ok ? 'ran' : `failed (exit ${r.status})`} | [${r.report}](${r.report}) |`,
    ),
    '',
    "## Load: the load stage against the engine's own bulk client (same file, same run)",
    '',
    ...loadRatios(),
    '',
    '## End to end: `lakehouse run` (target: 10 million lines in under 3 minutes and 2 GB)',
    '',
    ...endToEnd.map(
      (r) =>
        `- ${r.lines.toLocaleString('en-US')} lines: ${r.wall.toFixed(1)} s wall, ${r.peakMb.toFixed(0)} MB peak (ingest ${r.stages.ingest?.toFixed(1)} s, load ${r.stages.load?.toFixed(1)} s, transform ${r.stages.transform?.toFixed(1)} s; reading the files once: ${r.cat.toFixed(2)} s), load average ${r.loadavg[0].toFixed(1)}`,
    ),
    ...(endToEnd.length ? [] : ['(the run benchmark did not run)']),
    '',
    '## Load cost against size',
    '',
    ...costTable(),
    '',
    'The delta (Delta vs plain Parquet), rules (notebooks vs node-fpgrowth and Spark MLlib FPGrowth) and app reports',
    'above hold their own figures at the same sizes. 10 million lines are measured only when passed in --sizes (see',
    'bench/all.mjs).',
    '',
  ];
  return lines.join('\n');
}

function loadRatios() {
  const last = loadBySize.at(-1);
  if (!last) return ['(the load benchmark did not run)'];
  const rows = last.results.filter((r) => r.perSecond);
  return rows
    .filter((r) => r.path.startsWith('load stage'))
    .map((stage) => {
      const cli = rows.find((r) => r.path.includes('(CLI)') && stage.engine.startsWith(r.engine));
      const ratio = cli
        ? ` against ${cli.path} ${cli.perSecond.toLocaleString('en-US')} rows/s = ${(stage.perSecond / cli.perSecond).toFixed(2)}×`
        : ' (no CLI anchor)';
      return `- ${stage.engine}, ${last.rows.toLocaleString('en-US')} rows: ${stage.perSecond.toLocaleString('en-US')} rows/s${ratio}`;
    });
}

/** Seconds of the load stage per engine and size, with a bar per figure (scaled to the slowest). */
function costTable() {
  const rows = loadBySize.flatMap((run) =>
    run.results
      .filter((r) => r.perSecond && (r.path.startsWith('load stage') || r.path.includes('(CLI)')))
      .map((r) => ({ ...r, size: run.rows, loadavg: run.loadavg[0] })),
  );
  if (!rows.length) return ['(no load figures)'];
  const slowest = Math.max(...rows.map((r) => r.seconds));
  return [
    '```',
    ...rows.map(
      (r) =>
        `${r.size.toLocaleString('en-US').padStart(10)} lines  ${`${r.engine}, ${r.path}`.padEnd(68)} ${r.seconds.toFixed(2).padStart(7)} s  ${'#'.repeat(Math.max(1, Math.round((40 * r.seconds) / slowest)))}  (load ${r.loadavg.toFixed(1)})`,
    ),
    '```',
  ];
}

function snapshot(dir) {
  return new Map(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
}

function restore(dir, files) {
  for (const f of fs.readdirSync(dir)) if (!files.has(f)) fs.rmSync(path.join(dir, f));
  for (const [f, bytes] of files) fs.writeFileSync(path.join(dir, f), bytes);
}
