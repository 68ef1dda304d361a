#!/usr/bin/env node
// The whole local pipeline at scale: `lakehouse run` (ingest to the file bucket, load into PGlite, the four
// notebooks on DuckDB) on N generated lines, its wall time and peak memory (the process's maximum resident set, from
// GNU time), each stage's seconds from its manifest, beside its anchor measured in the same run: reading the same
// files once (cat), the floor of any stage that reads them. Target (issue 15): 10 million lines in under 3 minutes
// and under 2 GB.
//
//   node bench/run.mjs [lines ...]      default 1000000; 10000000 for the target
//
// The lines are generated before the timing (the data arrives from the local system; generating it is not the
// pipeline's work). The project's lakehouse.yml is used as it is, with its notebooks and DuckDB settings.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { register } from 'tsx/esm/api';

register();
const root = path.resolve(import.meta.dirname, '..');
const { generateGroceries } = await import('../src/generate/groceries.ts');
const sizes = process.argv.slice(2).map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1))
  throw new Error('expected sizes as whole numbers of lines');
if (!fs.existsSync('/usr/bin/time'))
  throw new Error('bench/run.mjs needs GNU time (/usr/bin/time) for peak memory');

const TARGET = { lines: 10_000_000, seconds: 180, megabytes: 2048 };
const loadBefore = os.loadavg();
const results = [];
for (const lines of sizes.length ? sizes : [1_000_000]) results.push(await measure(lines));
const loadAfter = os.loadavg();
fs.writeFileSync(path.join(root, 'bench/results/run.md'), report());
// For bench/all.mjs's summary (not kept in git, as load.json).
fs.writeFileSync(
  path.join(root, 'bench/results/run.json'),
  JSON.stringify({ results, loadBefore, loadAfter }),
);
console.log('wrote bench/results/run.md');

/** One size: a fresh project folder, the lines generated, the files read once, then `lakehouse run`. */
async function measure(lines) {
  const work = path.join(root, 'bench/.work/run', String(lines));
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const config = fs
    .readFileSync(path.join(root, 'lakehouse.yml'), 'utf8')
    .replace(/- notebooks\//g, `- ${root}/notebooks/`);
  fs.writeFileSync(path.join(work, 'lakehouse.yml'), config);
  console.log(`generating ${lines.toLocaleString('en-US')} lines`);
  const generated = await generateGroceries({
    rows: lines,
    seed: 11,
    outDir: path.join(work, 'data/sample'),
  });
  const files = generated.files.map((f) => (path.isAbsolute(f) ? f : path.join(work, 'data/sample', f)));
  const cat = timed('sh', ['-c', 'cat "$@" > /dev/null', 'cat', ...files], work);
  console.log(`lakehouse run on ${lines.toLocaleString('en-US')} lines`);
  const run = timed(
    '/usr/bin/time',
    ['-f', '%e %M', 'node', path.join(root, 'bin/lakehouse.js'), 'run'],
    work,
  );
  if (run.status !== 0)
    throw new Error(`lakehouse run failed (exit ${run.status}):\n${run.stderr.slice(-4000)}`);
  const [wall, peakKb] = run.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return {
    lines,
    bytes: files.reduce((n, f) => n + fs.statSync(f).size, 0),
    cat: cat.seconds,
    wall,
    peakMb: peakKb / 1024,
    stages: stageSeconds(work),
    loadavg: os.loadavg(),
  };
}

function timed(cmd, args, cwd) {
  const started = performance.now();
  const run = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { status: run.status, stderr: run.stderr ?? '', seconds: (performance.now() - started) / 1000 };
}

/** Seconds of each stage, from the manifests the run wrote. */
function stageSeconds(work) {
  const folder = path.join(work, '.lakehouse/manifests');
  const seconds = {};
  for (const stage of ['ingest', 'load', 'transform']) {
    const file = fs.readdirSync(folder).find((f) => f.startsWith(`${stage}-`) && !f.includes('latest'));
    const m = file && JSON.parse(fs.readFileSync(path.join(folder, file), 'utf8'));
    seconds[stage] = m ? (Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000 : undefined;
  }
  return seconds;
}

function report() {
  const avg = (l) => l.map((x) => x.toFixed(1)).join(', ');
  const s = (x) => (x === undefined ? '–' : x.toFixed(1));
  const atTarget = results.find((r) => r.lines === TARGET.lines);
  return [
    '# `lakehouse run` end to end',
    '',
    `\`node bench/run.mjs ${results.map((r) => r.lines).join(' ')}\` on ${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB.`,
    `Load average (1, 5, 15 min): ${avg(loadBefore)} at the start, ${avg(loadAfter)} at the end (a shared machine: other work may have run).`,
    '',
    '| lines | MB of files | anchor: cat of the files s | lakehouse run s | peak memory MB | ingest s | load s | transform s | lines/s | load average at the end |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.lines.toLocaleString('en-US')} | ${(r.bytes / 1e6).toFixed(0)} | ${r.cat.toFixed(2)} | ${r.wall.toFixed(1)} | ${r.peakMb.toFixed(0)} | ${s(r.stages.ingest)} | ${s(r.stages.load)} | ${s(r.stages.transform)} | ${Math.round(r.lines / r.wall).toLocaleString('en-US')} | ${r.loadavg[0].toFixed(1)} |`,
    ),
    '',
    `Target: ${TARGET.lines.toLocaleString('en-US')} lines in under ${TARGET.seconds} s and ${TARGET.megabytes} MB. ${
      atTarget
        ? `Measured: ${atTarget.wall.toFixed(0)} s (${atTarget.wall < TARGET.seconds ? 'met' : 'not met'}), ${atTarget.peakMb.toFixed(0)} MB (${atTarget.peakMb < TARGET.megabytes ? 'met' : 'not met'}).`
        : 'Not measured at that size in this run.'
    }`,
    '',
    'The stages run one after the other in one process; the seconds between them (start, preflight, the manifests)',
    'are the difference between the wall time and their sum. Peak memory is the whole process: PGlite, DuckDB and Node.',
    '',
  ].join('\n');
}
