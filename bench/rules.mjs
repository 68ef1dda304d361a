#!/usr/bin/env node
// Association-rule mining as the data grows: synthetic grocery baskets from 100 thousand to 10
// million transactions go through PGlite and the four notebooks on DuckDB; each stage's time and
// peak memory are recorded, and the frequent-itemset mining is compared with the node-fpgrowth
// package and, where Java and the built Spark module are present, with Spark MLlib's FPGrowth
// (spark/src/main/java/lakehouse/spark/FpGrowthBench.java) on the same baskets: the itemsets must be
// identical (same sets, same basket counts) or the bench fails; the times are side by side.
// Results: bench/results/rules.md.
//
//   node bench/rules.mjs                      all sizes (about ten minutes on 2 cores)
//   node bench/rules.mjs 100000 1000000       chosen sizes
//
// Each size runs in its own process, so that one size's memory does not weigh on the next.
import { spawnSync } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import console from 'node:console';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { $, fs, path } from 'zx';

const repo = path.resolve(import.meta.dirname, '..');
const work = path.join(repo, 'bench/.work');
const resultsFile = path.join(repo, 'bench/results/rules.md');
const DEFAULT_SIZES = [100_000, 300_000, 1_000_000, 1_900_000, 3_000_000, 10_000_000];
const MIN_SUPPORT = 0.001;
const REPEAT = 5;
const PARAMS = {
  dataset: 'bench',
  min_support: MIN_SUPPORT,
  max_len: 0,
  metric: 'lift',
  min_threshold: 0.8,
  confidence_above: 0.1,
  // Each size runs in a fresh store, so every run is a full one whatever this says.
  full_refresh: false,
};

// ---------------------------------------------------------------- synthetic baskets

// Basket sizes (lines per basket) and item popularity shaped like the grocery dataset: most
// baskets hold two lines, 167 items whose popularity falls off like the real ones, items drawn
// independently (a line may repeat an item, as in the real data). Deterministic for a seed.
const LINES_PER_BASKET = [
  [2, 10080],
  [3, 2698],
  [4, 1390],
  [5, 344],
  [6, 175],
  [7, 80],
  [8, 145],
  [9, 50],
  [11, 1],
];
const ITEM_COUNT = 167;
const BASKETS_PER_MEMBER = 3.84;

const { mulberry32: random } = await (
  await import('tsx/esm/api')
).tsImport('../src/util/random.ts', import.meta.url);

function cumulative(weights) {
  const total = weights.reduce((s, w) => s + w, 0);
  let sum = 0;
  return weights.map((w) => (sum += w) / total);
}

function pick(cdf, u) {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] >= u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

async function generateTransactions(file, transactions, seed = 42) {
  const rand = random(seed);
  const sizeCdf = cumulative(LINES_PER_BASKET.map(([, n]) => n));
  const itemCdf = cumulative(
    Array.from({ length: ITEM_COUNT }, (_, i) => (i + 2) ** -0.65 * Math.exp(-i / 80)),
  );
  const items = Array.from({ length: ITEM_COUNT }, (_, i) => `item ${String(i).padStart(3, '0')}`);
  const start = Date.UTC(2014, 0, 1);
  const dates = Array.from({ length: 729 }, (_, d) =>
    new Date(start + d * 86_400_000).toISOString().slice(0, 10),
  );
  const meanLines =
    LINES_PER_BASKET.reduce((s, [k, n]) => s + k * n, 0) / LINES_PER_BASKET.reduce((s, [, n]) => s + n, 0);
  const members = Math.max(1, Math.round(transactions / meanLines / BASKETS_PER_MEMBER));
  const out = fs.createWriteStream(file);
  let chunk = 'Member_number,Date,itemDescription\n';
  let written = 0;
  while (written < transactions) {
    const member = 1000 + Math.floor(rand() * members);
    const date = dates[Math.floor(rand() * dates.length)];
    const lines = Math.min(LINES_PER_BASKET[pick(sizeCdf, rand())][0], transactions - written);
    for (let i = 0; i < lines; i++) chunk += `${member},${date},${items[pick(itemCdf, rand())]}\n`;
    written += lines;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
      chunk = '';
    }
  }
  out.end(chunk);
  await new Promise((resolve, reject) => out.on('finish', resolve).on('error', reject));
  return written;
}

// ---------------------------------------------------------------- measuring one size

/** Peak resident memory since the last reset (Linux: VmHWM, reset through /proc/self/clear_refs). */
function resetPeak() {
  fs.writeFileSync('/proc/self/clear_refs', '5');
}
function peakMiB() {
  const kb = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
  return Math.round(kb / 1024);
}

async function timed(fn) {
  resetPeak();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await fn();
  const { user, system } = process.cpuUsage(cpu);
  return {
    value,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (user + system) / 1e6,
    peakMiB: peakMiB(),
  };
}

async function stage(stages, name, fn) {
  const { value, ...measured } = await timed(fn);
  stages.push({ name, ...measured });
  return value;
}

/** The fastest of `times` runs: the machine is shared, and the minimum is the least disturbed. */
async function fastest(times, fn) {
  let best;
  for (let i = 0; i < times; i++) {
    const run = await timed(fn);
    if (!best || run.seconds < best.seconds) best = run;
  }
  return best;
}

/** The itemsets of a file written by FpGrowthBench (items, then the count, tab-separated), keyed as the SQL's. */
function readItemsets(file) {
  return new Map(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const fields = line.split('\t');
        return [fields.slice(0, -1).join(' & '), Number(fields.at(-1))];
      }),
  );
}

/**
 * Spark MLlib's FPGrowth on the same baskets, in a JVM started as the Spark engine is (src/spark/engine.ts), mining
 * REPEAT times in one session; or why it cannot run here ({ skipped }). A JVM that fails is an error.
 */
async function runMllib(dir, baskets, load) {
  const { sparkModule, javaLaunch } = await load('src/spark/engine.ts');
  let module;
  try {
    module = sparkModule();
  } catch (e) {
    return { skipped: e.message };
  }
  if (!fs.readdirSync(module.lib).some((f) => f.startsWith('spark-mllib_')))
    return { skipped: 'the Spark module was built without MLlib: rerun `(cd spark && mvn -q package)`' };
  const input = path.join(dir, 'baskets.tsv');
  const output = path.join(dir, 'mllib-itemsets.tsv');
  await fs.writeFile(input, baskets.map((items) => `${items.join('\t')}\n`).join(''));
  const args = [input, String(MIN_SUPPORT), String(PARAMS.max_len), String(REPEAT), output];
  const java = javaLaunch(module, 'lakehouse.spark.FpGrowthBench', { local: true, heap: '4g', args });
  const loadAtStart = os.loadavg()[0];
  const started = performance.now();
  const run = spawnSync(java.command, java.args, { env: java.env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - started) / 1000;
  if (run.error?.code === 'ENOENT')
    return { skipped: `no Java (\`${java.command}\` not found; Spark needs Java 17)` };
  if (run.error || run.status !== 0)
    throw new Error(
      `FpGrowthBench failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stderr.split('\n').slice(-20).join('\n')}`,
    );
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1));
  const best = result.miningMs.indexOf(Math.min(...result.miningMs));
  return {
    spark: result.spark,
    master: result.master,
    jvmSeconds: seconds,
    sessionSeconds: result.sessionMs / 1000,
    loadSeconds: result.loadMs / 1000,
    firstSeconds: result.miningMs[0] / 1000,
    seconds: result.miningMs[best] / 1000,
    cpuSeconds: result.miningCpuMs[best] / 1000,
    itemsets: readItemsets(output),
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
  };
}

/** The keys where two itemset maps differ (a set missing from one side, or another count). */
function differing(a, b) {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
}

async function measure(transactions) {
  const { tsImport } = await import('tsx/esm/api');
  const load = (p) => tsImport(path.join(repo, p), import.meta.url);
  const { runNotebooks } = await load('src/notebooks/runner.ts');
  const { createDuckDBTableStore } = await load('src/notebooks/table-store.ts');
  const { createStoreSource } = await load('src/notebooks/sql-source.ts');
  const { PgliteSession } = await load('src/sql/postgres/pglite.ts');
  const { PGlite } = await import('@electric-sql/pglite');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const { FPGrowth } = await import('node-fpgrowth');
  const { readNotebook } = await load('src/notebooks/parser.ts');
  const { classifyStatement } = await load('src/notebooks/statements.ts');
  const { renderForDuckDB } = await load('src/notebooks/params.ts');
  const loadAtStart = os.loadavg()[0];

  const dir = path.join(work, `rules-${transactions}`);
  await fs.remove(dir);
  await fs.mkdirp(dir);
  const csv = path.join(dir, 'transactions.csv');
  const stages = [];
  try {
    await stage(stages, 'generate CSV', () => generateTransactions(csv, transactions));
    const db = await stage(stages, 'PGlite: create store', () => PGlite.create(path.join(dir, 'pglite')));
    await stage(stages, 'PGlite: load (COPY FROM)', async () => {
      await db.exec(`
        CREATE TABLE transactions (
          member_number BIGINT NOT NULL, txn_date DATE NOT NULL, item TEXT NOT NULL,
          _source_object TEXT NOT NULL DEFAULT 'bench/transactions.csv',
          _source_line BIGINT GENERATED BY DEFAULT AS IDENTITY (START WITH 2));
        CREATE TABLE lakehouse_load_audit (
          dataset TEXT, bucket TEXT, object_name TEXT, generation BIGINT, md5 TEXT,
          rows_loaded BIGINT, rows_quarantined BIGINT, loaded_at TIMESTAMPTZ DEFAULT now());`);
      await db.query(
        `COPY transactions (member_number, txn_date, item) FROM '/dev/blob' WITH (FORMAT csv, HEADER)`,
        [],
        {
          blob: await openAsBlob(csv),
        },
      );
      await db.exec(`INSERT INTO lakehouse_load_audit (dataset, bucket, object_name, generation, md5, rows_loaded, rows_quarantined)
                     SELECT 'bench', 'file://bench', 'bench/transactions.csv', 1, '-', count(*), 0 FROM transactions`);
    });

    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const options = {
      conn,
      tables: createDuckDBTableStore(conn),
      source: createStoreSource(new PgliteSession(db, path.join(dir, 'pglite'), () => undefined), {
        tempDir: dir,
      }),
      params: PARAMS,
    };
    const notebooks = ['01_extract_clean', '02_enrich', '03_gold_sales', '04_basket_rules'];
    const cells = {};
    for (const name of notebooks) {
      const result = await stage(stages, `notebook ${name}`, () =>
        runNotebooks({ ...options, notebooks: [path.join(repo, 'notebooks', `${name}.sql`)] }),
      );
      for (const cell of result.notebooks[0].cells)
        cells[cell.title ?? `${name} #${cell.index}`] = cell.seconds;
    }
    await db.close();

    const scalar = async (sql) => Number((await conn.runAndReadAll(sql)).getRows()[0][0]);
    const counts = {
      transactions,
      baskets: await scalar('SELECT count(*) FROM silver.baskets'),
      items: await scalar('SELECT count(DISTINCT item) FROM silver.transactions'),
      itemsets: await scalar('SELECT count(*) FROM gold.frequent_itemsets'),
      triples: await scalar('SELECT count(*) FROM gold.frequent_itemsets WHERE length = 3'),
      longest: await scalar('SELECT max(length) FROM gold.frequent_itemsets'),
      rules: await scalar('SELECT count(*) FROM gold.association_rules'),
    };
    const ours = new Map(
      (
        await conn.runAndReadAll(
          `SELECT array_to_string(itemsets, ' & '), basket_count FROM gold.frequent_itemsets`,
        )
      )
        .getRows()
        .map(([items, n]) => [items, Number(n)]),
    );

    // Frequent itemsets again, alone: the notebook cell's own statement, rendered as the runner does.
    const nb = await readNotebook(path.join(repo, 'notebooks/04_basket_rules.sql'));
    const cell = nb.cells.find((c) => c.title === 'Frequent itemsets of any length');
    const itemsetsSql = renderForDuckDB(classifyStatement(cell.statements[0].tokens).query, PARAMS);
    const runItemsets = () => conn.run(`CREATE OR REPLACE TABLE bench_itemsets AS ${itemsetsSql}`);
    const sql = await fastest(REPEAT, runItemsets);
    // One thread too: node-fpgrowth uses one, and a shared machine disturbs a single thread least.
    await conn.run('SET threads = 1');
    const sqlOneThread = await fastest(REPEAT, runItemsets);
    await conn.run('RESET threads');

    // The same baskets for node-fpgrowth: each basket's distinct items.
    const baskets = (
      await conn.runAndReadAll('SELECT list(item) FROM silver.transactions GROUP BY basket_id')
    )
      .getRows()
      .map(([items]) => items.items);
    conn.closeSync();
    instance.closeSync();
    // node-fpgrowth recurses along its tree; on big inputs it can exhaust even the enlarged stack.
    let fpgrowth;
    let fpgrowthError;
    try {
      fpgrowth = await fastest(REPEAT, () => new FPGrowth(MIN_SUPPORT).exec(baskets));
    } catch (e) {
      fpgrowthError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    const found = fpgrowth?.value ?? [];
    const theirs = new Map(found.map((s) => [[...s.items].sort().join(' & '), s.support]));
    const longer = found.filter((s) => s.items.length > 3).length;
    const differences = fpgrowth ? differing(ours, theirs) : [];
    const { itemsets: mllibItemsets, ...mllib } = await runMllib(dir, baskets, load);
    if (mllibItemsets) {
      const against = (other) => differing(ours, other).slice(0, 5);
      Object.assign(mllib, {
        itemsetCount: mllibItemsets.size,
        differencesFromSql: against(mllibItemsets),
        differencesFromFpgrowth: fpgrowth ? differing(theirs, mllibItemsets).slice(0, 5) : [],
      });
      mllib.sameItemsets =
        mllib.differencesFromSql.length === 0 && mllib.differencesFromFpgrowth.length === 0;
    }
    return {
      counts,
      stages,
      cells,
      comparison: {
        sqlItemsetsSeconds: sql.seconds,
        sqlItemsetsCpuSeconds: sql.cpuSeconds,
        sqlItemsetsPeakMiB: sql.peakMiB,
        sqlOneThreadSeconds: sqlOneThread.seconds,
        sqlOneThreadCpuSeconds: sqlOneThread.cpuSeconds,
        fpgrowthError,
        fpgrowthSeconds: fpgrowth?.seconds,
        fpgrowthCpuSeconds: fpgrowth?.cpuSeconds,
        fpgrowthPeakMiB: fpgrowth?.peakMiB,
        fpgrowthItemsets: found.length,
        fpgrowthLongerThanThree: longer,
        sameItemsets: fpgrowth ? differences.length === 0 : undefined,
        differences: differences.slice(0, 5),
        mllib,
      },
      loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
      machine: {
        cpus: os.cpus().length,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
      },
    };
  } finally {
    await fs.remove(dir);
  }
}

// ---------------------------------------------------------------- report

const fmt = (s) => (s < 10 ? s.toFixed(2) : s.toFixed(1));
const n = (x) => x.toLocaleString('en');
const ratio = (c) => c.fpgrowthSeconds / c.sqlItemsetsSeconds;
const oneThreadRatio = (c) => c.fpgrowthSeconds / c.sqlOneThreadSeconds;
/** The range of ratios, "0.7–2.2×", or one figure when they are all the same. */
const span = (values) =>
  `${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}×`.replace(/^(.*)–\1×$/, '$1×');

function summaryLine(r) {
  const c = r.comparison;
  const theirs = c.fpgrowthError
    ? `node-fpgrowth failed (${c.fpgrowthError})`
    : `node-fpgrowth ${fmt(c.fpgrowthSeconds)} s (${ratio(c).toFixed(1)}×; SQL on 1 thread ${fmt(c.sqlOneThreadSeconds)} s, ${oneThreadRatio(c).toFixed(1)}×), same itemsets: ${c.sameItemsets}`;
  return `  ${n(r.counts.baskets)} baskets: SQL itemsets ${fmt(c.sqlItemsetsSeconds)} s, ${theirs}, load ${r.loadAverage.start.toFixed(1)}\n  ${mllibLine(c.mllib)}`;
}

function mllibLine(m) {
  if (m.skipped) return `MLlib FPGrowth skipped: ${m.skipped}`;
  return `MLlib FPGrowth (Spark ${m.spark}, ${m.master}) ${fmt(m.seconds)} s best, ${fmt(m.firstSeconds)} s first, session start ${fmt(m.sessionSeconds)} s, ${n(m.itemsetCount)} itemsets, same itemsets: ${m.sameItemsets}, load ${m.loadAverage.start.toFixed(1)}–${m.loadAverage.end.toFixed(1)}`;
}

/** Why the bench fails: itemsets that differ between the SQL, node-fpgrowth and MLlib. */
function mismatches(results) {
  return results.flatMap((r) => {
    const c = r.comparison;
    const at = `${n(r.counts.transactions)} transactions`;
    return [
      ...(c.sameItemsets === false
        ? [`${at}: SQL and node-fpgrowth differ: ${c.differences.join('; ')}`]
        : []),
      ...(c.mllib.sameItemsets === false
        ? [
            `${at}: MLlib FPGrowth differs: from the SQL ${c.mllib.differencesFromSql.join('; ') || 'no'}, from node-fpgrowth ${c.mllib.differencesFromFpgrowth.join('; ') || 'no'}`,
          ]
        : []),
    ];
  });
}

function report(results) {
  const m = results[0].machine;
  const columns = results.map((r) => n(r.counts.transactions));
  const lines = [
    '# Benchmark: association-rule mining as the data grows',
    '',
    ...headline(results),
    `Produced by \`node bench/rules.mjs\` on ${m.cpus} cores, ${m.memoryGiB} GB, Node ${m.node}, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    'Synthetic grocery baskets (deterministic generator in the script): basket sizes as in the real',
    'dataset (two-thirds of baskets hold two lines), 167 items with the real popularity curve, items',
    'drawn independently, about 3.8 baskets per member over two years. Each size runs in a fresh',
    'process: the CSV goes into PGlite with `COPY FROM`, then the four notebooks run on DuckDB (plain',
    `DuckDB tables) with \`min_support = ${MIN_SUPPORT}\`, \`metric = lift\`, \`min_threshold = 0.8\`, \`confidence_above = 0.1\`.`,
    '',
    'The machine is shared with other work: the load average during each size is listed, and the',
    `mining comparison keeps the fastest of ${REPEAT} runs of each side.`,
    '',
    '## Frequent itemsets: SQL on DuckDB vs node-fpgrowth, on the same baskets',
    '',
    'SQL: the statement of the notebook cell "Frequent itemsets of any length" (reads',
    "`silver.transactions`, codes the items, counts items and pairs by joins, triples by joining each basket's frequent",
    'pairs that share their first item, lists the longer sets with a fold over the baskets that hold four items each in',
    "three of the basket's frequent triples, the only baskets that can hold one, and counts them). node-fpgrowth:",
    '`new FPGrowth(0.001).exec(baskets)` on the same baskets as arrays of item names already in memory',
    '(building them is not timed). "Same itemsets": identical itemsets with identical basket counts;',
    'neither side has a length limit (itemsets longer than three items, where there are any, are compared too).',
    "CPU = user + system time of the process. The SQL runs with DuckDB's default two threads and again",
    'with one (node-fpgrowth is single-threaded; one thread is also the least disturbed by other work).',
    '',
    '| transactions | baskets | itemsets (triples) | SQL, 2 threads: s (CPU s) | SQL, 1 thread: s | SQL µs per basket: 2 threads / 1 thread | node-fpgrowth: s (CPU s) | speed-up: 2 threads / 1 thread | same itemsets | load avg |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|',
  ];
  for (const r of results) {
    const c = r.comparison;
    const sql = `${fmt(c.sqlItemsetsSeconds)} (${fmt(c.sqlItemsetsCpuSeconds)}) | ${fmt(c.sqlOneThreadSeconds)}`;
    const micros = (seconds) => ((seconds / r.counts.baskets) * 1e6).toFixed(2);
    const perBasket = `${micros(c.sqlItemsetsSeconds)} / ${micros(c.sqlOneThreadSeconds)}`;
    const theirs = c.fpgrowthError
      ? `failed: ${c.fpgrowthError} | – | –`
      : `${fmt(c.fpgrowthSeconds)} (${fmt(c.fpgrowthCpuSeconds)}) | ${ratio(c).toFixed(1)}× / ${oneThreadRatio(c).toFixed(1)}× | ${c.sameItemsets ? 'yes' : `no: ${c.differences.join('; ')}`}`;
    lines.push(
      `| ${n(r.counts.transactions)} | ${n(r.counts.baskets)} | ${n(r.counts.itemsets)} (${r.counts.triples}) | ${sql} | ${perBasket} | ${theirs} | ${r.loadAverage.start.toFixed(1)}–${r.loadAverage.end.toFixed(1)} |`,
    );
  }
  const large = results.filter((r) => r.counts.transactions >= 1_000_000 && !r.comparison.fpgrowthError);
  if (large.length > 0) {
    const twoThreads = large.map((r) => ratio(r.comparison));
    lines.push(
      '',
      `From 1 million transactions up, the SQL's speed-up over node-fpgrowth (node-fpgrowth's time ÷ the SQL's) is ${span(twoThreads)} ` +
        `with two threads and ${span(large.map((r) => oneThreadRatio(r.comparison)))} with one; ` +
        (Math.min(...twoThreads) >= 10 ? 'the 10× aim is met.' : 'the aim was 10×.'),
    );
  }
  lines.push('', ...mllibSection(results));
  lines.push('', '## Every stage: wall time, CPU time and peak resident memory of the process', '');
  lines.push(
    'Peak memory is the whole process (PGlite, DuckDB and JavaScript), reset at the start of each stage.',
    '',
  );
  lines.push(`| stage | ${columns.join(' | ')} |`);
  lines.push(`|---|${results.map(() => '---:').join('|')}|`);
  const stageNames = [
    ...results[0].stages.map((s) => s.name),
    'frequent itemsets: SQL (best run)',
    'frequent itemsets: node-fpgrowth (best run)',
  ];
  for (const name of stageNames) {
    const cells = results.map((r) => {
      const c = r.comparison;
      const s =
        name === 'frequent itemsets: SQL (best run)'
          ? {
              seconds: c.sqlItemsetsSeconds,
              cpuSeconds: c.sqlItemsetsCpuSeconds,
              peakMiB: c.sqlItemsetsPeakMiB,
            }
          : name === 'frequent itemsets: node-fpgrowth (best run)'
            ? { seconds: c.fpgrowthSeconds, cpuSeconds: c.fpgrowthCpuSeconds, peakMiB: c.fpgrowthPeakMiB }
            : r.stages.find((x) => x.name === name);
      if (s.seconds === undefined) return 'failed';
      return `${fmt(s.seconds)} s (CPU ${fmt(s.cpuSeconds)}) · ${n(s.peakMiB)} MiB`;
    });
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  lines.push('', '## Notebook cells: wall time (s), first run', '');
  lines.push(`| cell | ${columns.join(' | ')} |`);
  lines.push(`|---|${results.map(() => '---:').join('|')}|`);
  for (const name of Object.keys(results[0].cells)) {
    lines.push(`| ${name} | ${results.map((r) => fmt(r.cells[name] ?? 0)).join(' | ')} |`);
  }
  lines.push('');
  return lines.join('\n');
}

/** The figures in two sentences, with the 10× aim of issue 14 (SQL against node-fpgrowth) and MLlib beside them. */
function headline(results) {
  const mined = results.filter((r) => !r.comparison.fpgrowthError);
  const sizes = `${[...new Set([results[0], results.at(-1)].map((r) => n(r.counts.transactions)))].join('–')} transactions`;
  const loads = results.flatMap((r) => [r.loadAverage.start, r.loadAverage.end]);
  const load = `load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${results[0].machine.cpus} cores`;
  const twoThreads = mined.map((r) => ratio(r.comparison));
  const met = twoThreads.length > 0 && Math.min(...twoThreads) >= 10;
  const fp = mined.length
    ? `the SQL's speed-up over node-fpgrowth is ${span(twoThreads)} with two threads (${span(mined.map((r) => oneThreadRatio(r.comparison)))} with one)`
    : 'node-fpgrowth failed at every size';
  const withMllib = results.filter((r) => !r.comparison.mllib.skipped);
  const ml = withMllib.length
    ? `Spark MLlib FPGrowth (local, best of ${REPEAT} in one session, session start not counted) takes ${span(withMllib.map((r) => r.comparison.mllib.seconds / r.comparison.sqlItemsetsSeconds))} the SQL's time`
    : `Spark MLlib FPGrowth was not run (${results[0].comparison.mllib.skipped})`;
  const same = results.every(
    (r) => r.comparison.sameItemsets !== false && r.comparison.mllib.sameItemsets !== false,
  );
  return [
    `> **${met ? 'Target met' : 'Below target'} (issue 14: SQL at least 10× faster than node-fpgrowth):** at ${sizes}, ${fp}; ${ml}.`,
    `> Itemsets ${same ? 'identical' : 'NOT identical'} across the miners that ran. Measured under a ${load}.`,
    '',
  ];
}

function mllibSection(results) {
  const lines = [
    '## Frequent itemsets: Spark MLlib FPGrowth on the same baskets',
    '',
    '`org.apache.spark.ml.fpm.FPGrowth` with `minSupport = ' +
      MIN_SUPPORT +
      '` and no length limit (MLlib has none), run by',
    '`spark/src/main/java/lakehouse/spark/FpGrowthBench.java` in one local JVM started as the Spark engine is',
    `(\`local[*]\`): the baskets are read from a file (one a line) into a cached DataFrame, then fit + collecting the itemsets runs ${REPEAT}`,
    'times in the same session; "best" is the fastest of them, "first" the first (a cold JVM). Session start and reading',
    'the baskets are listed apart and not in the mining time. CPU is the whole JVM (every thread). "Same itemsets" compares',
    "MLlib's itemsets and basket counts with both the SQL's and node-fpgrowth's; a difference fails the bench.",
    '',
  ];
  if (results.every((r) => r.comparison.mllib.skipped))
    return [...lines, `Not run here: ${results[0].comparison.mllib.skipped}.`];
  lines.push(
    '| transactions | baskets | MLlib best: s (CPU s) | MLlib first: s | session start / read baskets / whole JVM: s | SQL, 2 threads / 1 thread: s | node-fpgrowth: s | MLlib time ÷ SQL time: 2 threads / 1 thread | same itemsets | load avg during MLlib |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|',
  );
  for (const r of results) {
    const c = r.comparison;
    const m = c.mllib;
    if (m.skipped) {
      lines.push(
        `| ${n(r.counts.transactions)} | ${n(r.counts.baskets)} | skipped: ${m.skipped} |${' – |'.repeat(7)}`,
      );
      continue;
    }
    const same = m.sameItemsets
      ? `yes (${n(m.itemsetCount)})`
      : `no: ${[...m.differencesFromSql, ...m.differencesFromFpgrowth].join('; ')}`;
    lines.push(
      `| ${n(r.counts.transactions)} | ${n(r.counts.baskets)} | ${fmt(m.seconds)} (${fmt(m.cpuSeconds)}) | ${fmt(m.firstSeconds)} | ${fmt(m.sessionSeconds)} / ${fmt(m.loadSeconds)} / ${fmt(m.jvmSeconds)} | ${fmt(c.sqlItemsetsSeconds)} / ${fmt(c.sqlOneThreadSeconds)} | ${c.fpgrowthError ? 'failed' : fmt(c.fpgrowthSeconds)} | ${(m.seconds / c.sqlItemsetsSeconds).toFixed(1)}× / ${(m.seconds / c.sqlOneThreadSeconds).toFixed(1)}× | ${same} | ${m.loadAverage.start.toFixed(1)}–${m.loadAverage.end.toFixed(1)} |`,
    );
  }
  return lines;
}

// ---------------------------------------------------------------- main (last: it uses everything above)

if (process.argv[2] === '--worker') {
  const result = await measure(Number(process.argv[3]));
  console.log(`RESULT ${JSON.stringify(result)}`);
} else {
  const sizes = process.argv.slice(2).map(Number);
  const results = [];
  for (const size of sizes.length ? sizes : DEFAULT_SIZES) {
    console.error(`${size.toLocaleString('en')} transactions …`);
    // An unlimited stack rlimit lets V8's larger --stack-size take effect (node-fpgrowth recurses deeply).
    const worker = `ulimit -s unlimited && exec node --max-old-space-size=16384 --stack-size=1000000 ${path.join(repo, 'bench/rules.mjs')} --worker ${size}`;
    const out = await $`bash -c ${worker}`;
    const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    results.push(JSON.parse(line.slice('RESULT '.length)));
    console.error(summaryLine(results.at(-1)));
    await fs.outputFile(resultsFile, report(results)); // after each size: a later failure keeps these
  }
  console.error(`written ${path.relative(process.cwd(), resultsFile)}`);
  const wrong = mismatches(results);
  if (wrong.length) {
    console.error(`the miners disagree on the frequent itemsets:\n${wrong.join('\n')}`);
    process.exit(1);
  }
}
