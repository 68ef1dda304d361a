#!/usr/bin/env node
// Benchmark (not a test): writing and reading N rows as a Delta table through src/delta, against DuckDB's
// plain `COPY … TO '….parquet'` and `read_parquet` of the same rows.
//
//   node --import tsx bench/delta.mjs [--sizes=100000,1000000,10000000] [--repeat=3] [--threads=all,1] [--out=bench/results/delta.md]
import { argv, fs, os, path } from 'zx';
import { DuckDBInstance } from '@duckdb/node-api';
import { registerDeltaView, writeDelta } from '../src/delta/index.ts';

const sizes = String(argv.sizes ?? '100000,1000000,10000000')
  .split(',')
  .map(Number);
const repeat = Number(argv.repeat ?? 3);
const out = argv.out ?? path.join(import.meta.dirname, 'results/delta.md');

// DuckDB thread settings to run: `all` (DuckDB's default, one per core) and 1, which makes the CPU time nearly
// independent of other load on the machine.
const threadSettings = String(argv.threads ?? 'all,1').split(',');

const conn = await (await DuckDBInstance.create(':memory:')).connect();
const allThreads = (await conn.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'delta-bench-'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const best = (xs) => Math.min(...xs);
// Wall time, and CPU time of the whole process (DuckDB's worker threads included): on a shared machine the CPU
// time of a step varies much less than its wall time, so it shows the work each side does.
async function time(fn) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await fn();
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}
let runId = 0;
const fresh = () => path.join(work, `run-${runId++}`);

// Grocery-like rows: the shape the pipeline writes.
const source = (n) => `
  SELECT range AS id, (range % 1000)::INTEGER AS item, 'member-' || (range % 50000) AS member,
         DATE '2024-01-01' + (range % 365)::INTEGER AS day, ((range * 7919) % 10000 / 100)::DECIMAL(10,2) AS amount
  FROM range(${n})`;
const READ = 'SELECT sum(id), sum(item), max(member), min(day), sum(amount)';

// Each pair runs a plain-Parquet step and the Delta step doing the same work, alternately.
const pairs = [
  {
    name: 'write',
    what: "`COPY (SELECT * FROM src) TO 'x.parquet'` against `writeDelta(conn, dir, 'SELECT * FROM src', { mode: 'create' })` (describe the query, one `COPY … RETURN_STATS`, statistics per file, commit with put-if-absent)",
    plain: async (ctx) => {
      ctx.plainFile = path.join(fresh(), 'data.parquet');
      await fs.mkdirp(path.dirname(ctx.plainFile));
      await conn.run(`COPY (SELECT * FROM src) TO '${ctx.plainFile}' (FORMAT parquet, COMPRESSION snappy)`);
    },
    delta: async (ctx) => {
      ctx.table = fresh();
      await writeDelta(conn, ctx.table, 'SELECT * FROM src', { mode: 'create' });
    },
  },
  {
    name: 'read',
    what: "an aggregate over every column, from `read_parquet('x.parquet')` against `registerDeltaView` (list and replay the log, read the footers, create the view) and the same aggregate over the view",
    plain: (ctx) => conn.run(`${READ} FROM read_parquet('${ctx.plainFile}')`),
    delta: async (ctx) => {
      await registerDeltaView(conn, 'bench_view', ctx.table);
      await conn.run(`${READ} FROM bench_view`);
    },
  },
  {
    name: 'partitioned write',
    what: "partitioned by month (12 folders): `COPY … (PARTITION_BY (month))` against `writeDelta(…, { partitionBy: ['month'] })`",
    plain: async (ctx) => {
      ctx.partPlain = fresh();
      await conn.run(
        `COPY (SELECT *, month(day) AS month FROM src) TO '${ctx.partPlain}' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (month))`,
      );
    },
    delta: async (ctx) => {
      ctx.partTable = fresh();
      await writeDelta(conn, ctx.partTable, 'SELECT *, month(day) AS month FROM src', {
        mode: 'create',
        partitionBy: ['month'],
      });
    },
  },
  {
    name: 'partitioned read',
    what: "the aggregate plus `WHERE month <= 6`, from `read_parquet('dir/*/*.parquet', hive_partitioning = true)` against the Delta view",
    plain: (ctx) =>
      conn.run(
        `${READ} FROM read_parquet('${ctx.partPlain}/*/*.parquet', hive_partitioning = true) WHERE month <= 6`,
      ),
    delta: async (ctx) => {
      await registerDeltaView(conn, 'bench_part_view', ctx.partTable);
      await conn.run(`${READ} FROM bench_part_view WHERE month <= 6`);
    },
  },
];

// --render=<file> re-renders the report from the JSON lines a previous run printed, without measuring again.
const results = argv.render
  ? (await fs.readFile(argv.render, 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
  : [];
for (const setting of argv.render ? [] : threadSettings) {
  const threads = setting === 'all' ? Number(allThreads) : Number(setting);
  await conn.run(`SET threads = ${threads}`);
  for (const n of sizes) {
    await conn.run(`CREATE OR REPLACE TABLE src AS ${source(n)}`);
    const times = Object.fromEntries(pairs.map((p) => [p.name, { plain: [], delta: [] }]));
    for (let r = 0; r < repeat; r++) {
      const ctx = {};
      for (const pair of pairs) {
        times[pair.name].plain.push(await time(() => pair.plain(ctx)));
        times[pair.name].delta.push(await time(() => pair.delta(ctx)));
      }
    }
    results.push({ threads, n, times, loadavg: os.loadavg() });
    console.log(JSON.stringify(results.at(-1)));
    // Keep the disk small: 10M rows is about 100 MB a copy.
    for (const d of await fs.readdir(work)) await fs.remove(path.join(work, d));
  }
}
await fs.remove(work);

const ms = (x) => `${x.toFixed(0)} ms`;

/** Against the 10 % target: CPU time with one DuckDB thread, the measure this shared machine does not disturb. */
function summary() {
  const single = results.filter((r) => r.threads === 1);
  if (single.length === 0) return [];
  const overhead = (t) => (best(t.delta.map((x) => x.cpu)) / best(t.plain.map((x) => x.cpu)) - 1) * 100;
  return [
    '## Summary (CPU time, one DuckDB thread; target: within 10 %)',
    '',
    `| step | ${single.map((r) => `${r.n.toLocaleString('en')} rows`).join(' | ')} |`,
    `|---|${single.map(() => '---:').join('|')}|`,
    ...pairs.map(
      (p) =>
        `| ${p.name} | ${single
          .map((r) => {
            const o = overhead(r.times[p.name]);
            return `${o.toFixed(1)} % ${o <= 10 ? '(within)' : '(over)'}`;
          })
          .join(' | ')} |`,
    ),
    '',
  ];
}
const pct = (delta, plain) => `${(((delta - plain) / plain) * 100).toFixed(1)} %`;
const lines = [
  '# Delta Lake module: overhead against plain Parquet',
  '',
  `Generated by \`node --import tsx bench/delta.mjs\` on ${new Date().toISOString().slice(0, 10)}: ` +
    `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `Node ${process.version}, DuckDB ${(await conn.runAndReadAll('SELECT version()')).getRows()[0][0]}. ` +
    `${repeat} runs of each step, plain and Delta alternating. Rows: id BIGINT, item INTEGER, member VARCHAR, ` +
    'day DATE, amount DECIMAL(10,2). Wall time (best and median of the runs) and CPU time of the process ' +
    "(best; DuckDB's threads included). Load average during the run: " +
    `${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')} on ${os.cpus().length} cores.`,
  '',
  ...pairs.map((p) => `- **${p.name}**: ${p.what}.`),
  '',
  ...summary(),
  ...[...new Set(results.map((r) => r.threads))].flatMap((threads) => [
    `### DuckDB with ${threads} thread${threads === 1 ? '' : 's'}`,
    '',
    '| step | rows | plain wall (best) | Delta wall (best) | overhead | plain wall (median) | Delta wall (median) | overhead | plain CPU (best) | Delta CPU (best) | overhead |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...pairs.flatMap((p) =>
      results
        .filter((r) => r.threads === threads)
        .map(({ n, times }) => {
          const t = times[p.name];
          const wall = (xs) => xs.map((x) => x.wall);
          const cpu = (xs) => xs.map((x) => x.cpu);
          const cells = [
            [best(wall(t.plain)), best(wall(t.delta))],
            [median(wall(t.plain)), median(wall(t.delta))],
            [best(cpu(t.plain)), best(cpu(t.delta))],
          ].flatMap(([plain, delta]) => [ms(plain), ms(delta), pct(delta, plain)]);
          return `| ${p.name} | ${n.toLocaleString('en')} | ${cells.join(' | ')} |`;
        }),
    ),
    '',
  ]),
  '## Where the overhead comes from',
  '',
  '- The rows go through the same DuckDB `COPY` (write) and the same Parquet scan (read) in both columns, so the',
  '  per-row cost is the same; what Delta adds is a fixed cost per operation. Writing: describe the query, list',
  '  `_delta_log`, `RETURN_STATS` (DuckDB collects the min/max/null counts for the Parquet footer anyway) and one',
  '  small commit file published with link(2). Reading: list the log, parse the commits (or the checkpoint), read',
  '  the Parquet footers once more to type the view (`DESCRIBE … union_by_name`), create the view: about 3–5 ms',
  '  for a one-file table here, measured apart from the query.',
  '- The fixed cost matters for small tables: at 100,000 rows a plain read takes about 10 ms, so 5–10 ms more',
  '  doubles it; a partitioned table adds the footers of more files to read. At 10 million rows it is a few per cent.',
  '- This machine has 2 cores shared with other jobs (see the load average above): wall times of the same step vary',
  '  by ±50 % and more from one run to the next, so wall-time overheads, even best-of, are mostly noise (negative',
  '  ones certainly are). CPU time with one DuckDB thread is the stable measure of the work each side does.',
  '',
];
await fs.outputFile(out, lines.join('\n'));
console.log(`written ${out}`);
