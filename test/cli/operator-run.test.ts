// The operator's view of a real pipeline run, with the exact messages: progress on a terminal (run through a real
// pseudo-terminal) that no log line is written over, with percentages, the time left and a timer per notebook cell;
// plain lines in a log; one number format and agreeing plurals; a dry run that says the transform would be skipped
// where a real run skips it; `table list`, `table show --format`, a wrong table name; one error per cause when 24
// files have the wrong header.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lakehouse, tempProject } from '../helpers/cli.ts';
import { needs, pathProbe, repoRoot } from '../helpers/services.ts';
import { screen } from '../util/terminal.ts';

const haveScript = await needs('script (util-linux), for a pseudo-terminal', pathProbe('/usr/bin/script'));

/** Runs the CLI on a pseudo-terminal, as a person at a terminal would: what the terminal received. */
async function onTerminal(args: string[]): Promise<string> {
  const command = [process.execPath, path.join(repoRoot, 'bin/lakehouse.js'), ...args]
    .map((a) => `'${a}'`)
    .join(' ');
  const typescript = path.join(dir, 'typescript');
  await promisify(execFile)('script', ['-qec', command, typescript], {
    cwd: repoRoot,
    env: { ...process.env, COLUMNS: '250' },
  });
  const text = fs.readFileSync(typescript, 'utf8');
  // What `script` adds around the session, and the terminal's CRLF.
  return text
    .replace(/^Script started.*\n/, '')
    .replace(/\nScript done.*\n?$/, '')
    .replace(/\r\n/g, '\n');
}

let dir: string;
let config: string;
beforeAll(async () => {
  ({ dir, config } = await tempProject(1500));
});
afterAll(() => fsp.rm(dir, { recursive: true, force: true }));

describe('a pipeline run, as an operator sees it', () => {
  it.skipIf(!haveScript)(
    'on a terminal: the progress line never overwrites a log line, and shows percentages and a timer per cell',
    async () => {
      const received = await onTerminal(['-c', config, 'run']);
      const lines = screen(received);
      // Every line a stage logs is whole, on a line of its own, and so is every summary line.
      const uploaded = lines.filter((l) => l.includes('uploaded transactions/'));
      expect(uploaded).toHaveLength(24);
      for (const line of uploaded)
        expect(line).toMatch(/^ {2}uploaded transactions\/transactions-\d{4}-\d\d\.csv: new object$/);
      const loaded = lines.filter((l) => l.includes('loaded  transactions/'));
      expect(loaded).toHaveLength(24);
      for (const line of loaded)
        expect(line).toMatch(
          /^ {2}loaded {2}transactions\/\S+\.csv: [\d,]+ in = [\d,]+ loaded \+ [\d,]+ quarantined/,
        );
      const tables = lines.filter((l) => /^ {2}(silver|gold)\./.test(l));
      // 16 tables, silver.changed_baskets written twice (filled, then emptied at the end); a merged table's first
      // version is 1 (created empty, then merged into), a rebuilt one's 0.
      expect(tables).toHaveLength(17);
      for (const line of tables)
        expect(line).toMatch(/^ {2}(silver|gold)\.\w+\s+version\s+[0-2] {2}[\d,]+ rows?$/);
      expect(lines).toContainEqual(
        expect.stringMatching(/^ {2}silver\.transactions +version {3}1 {2}[\d,]+ rows$/),
      );
      expect(lines).toContain('  gold.sales_year_correlation        version   0  1 row');
      // One number format: the log's sentences group thousands as the tables do.
      expect(lines).toContainEqual(
        expect.stringMatching(/^rows in = rows loaded \+ rows quarantined: 1,\d{3} = 1,\d{3} \+ \d+$/),
      );
      expect(lines).toContainEqual(expect.stringMatching(/^generate: 24 files, 1,500 lines \(/));
      // The first run's seconds of creating the embedded store are said, not silent.
      expect(lines).toContain('load: creating the PGlite store .lakehouse/pglite (the first run only)');
      expect(lines).toContainEqual(expect.stringMatching(/^load: PGlite store created in \d+\.\d s$/));
      expect(lines.some((l) => /^load summary$/.test(l))).toBe(true);
      // The status lines that were drawn (each after a clearing \r ESC[K) had the overall picture.
      const drawn = received.split('\r\x1b[K').map((s) => s.split(/[\r\n]/)[0]!);
      expect(drawn.some((s) => /^ingest: \d+\/24 files, [\d.]+ KB uploaded · \d+%/.test(s))).toBe(true);
      expect(drawn).toContainEqual(
        expect.stringMatching(
          /^transform: 01_extract_clean\.sql cell 3 "Extract the transactions and the load audit from SQL Server" \(2\/\d+\) \d+\.\d s · \d+%/,
        ),
      );
      // The last cells too, each with its timer; the time left needs a run long enough to estimate it (unit tests).
      expect(drawn).toContainEqual(
        expect.stringMatching(
          /^transform: 04_basket_rules\.sql cell 5 "Association rules" \(\d+\/\d+\) \d+\.\d s · \d+%/,
        ),
      );
      // The screen ends clean: no status line left behind.
      expect(lines.filter((l) => /^(ingest|load|transform): .* · \d+%/.test(l))).toEqual([]);
    },
  );

  it('in a log: plain lines, one number format, and a dry run that says the transform would be skipped', async () => {
    if (!haveScript) expect((await lakehouse(['-c', config, 'run'])).code).toBe(0);
    const again = await lakehouse(['-c', config, 'run']);
    for (const control of ['\r', '\x1b']) expect(again.stdout + again.stderr).not.toContain(control);
    expect(again.stdout).toMatch(/^rows in = rows loaded \+ rows quarantined: 0 = 0 \+ 0$/m);
    const last = /transform: skipped: nothing changed since run (\S+) /.exec(again.stdout)![1];
    const dry = await lakehouse(['-c', config, '--dry-run', 'run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(
      `transform (dry run): would skip: nothing changed since run ${last} (same loads, notebooks and parameters); its 16 table versions stand\n`,
    );
    expect(dry.stdout).not.toContain('would write');
    // A dry run after a change of parameter would run the transform, and says what it would write.
    const changed = await lakehouse(['-c', config, '--dry-run', 'transform', '--param', 'min_support=0.01']);
    expect(changed.stdout).toMatch(
      /04_basket_rules\.sql would write gold\.frequent_itemsets, gold\.association_rules/,
    );
  });

  it('lists the tables, shows one as CSV or JSON, and answers a wrong name with the tables there are', async () => {
    const list = await lakehouse(['-c', config, 'table', 'list']);
    expect(list.code, list.stderr).toBe(0);
    const delta = path.join(dir, '.lakehouse/delta');
    const listed = list.stdout.trim().split('\n');
    expect(listed[0]).toBe(`16 tables in ${delta}`);
    expect(listed[1]).toMatch(/^table\s+version\s+rows\s+files\s+committed$/);
    expect(listed.slice(3).map((l) => l.split(/\s+/)[0])).toEqual([
      'gold.association_rules',
      'gold.basket_size_distribution',
      'gold.frequent_itemsets',
      'gold.item_popularity',
      'gold.sales_daily',
      'gold.sales_monthly',
      'gold.sales_year_correlation',
      'gold.sales_yearly',
      'gold.top_customers',
      'silver.baskets',
      'silver.changed_baskets',
      'silver.changed_objects',
      'silver.loaded_objects',
      'silver.transaction_lines',
      'silver.transactions',
      'silver.transactions_enriched',
    ]);
    expect(listed.find((l) => l.startsWith('gold.sales_year_correlation'))).toMatch(
      /^gold\.sales_year_correlation\s+0\s+1\s+1\s+\d{4}-/,
    );

    const csv = await lakehouse(['-c', config, 'table', 'show', 'gold.sales_yearly', '--format', 'csv']);
    const [header, ...rows] = csv.stdout.trimEnd().split('\n');
    expect(header).toBe('year,items_sold,baskets,customers,distinct_items');
    expect(rows.sort()).toEqual([
      expect.stringMatching(/^2014(,\d+){4}$/),
      expect.stringMatching(/^2015(,\d+){4}$/),
    ]);
    const json = JSON.parse(
      (await lakehouse(['table', 'show', 'gold.sales_yearly', '--format', 'json', '-c', config])).stdout,
    ) as {
      year: number;
      items_sold: number;
    }[];
    expect(json.map((r) => r.year).sort()).toEqual([2014, 2015]);
    // 64-bit counts are numbers in JSON, and add up to the rows the CSV shows.
    expect(json.every((r) => typeof r.items_sold === 'number')).toBe(true);
    expect(json.map((r) => String(r.items_sold)).sort()).toEqual(rows.map((r) => r.split(',')[1]).sort());

    const wrong = await lakehouse(['-c', config, 'table', 'show', 'gold.association_rule']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `lakehouse: table gold.association_rule: not found in ${delta}; the tables there: gold.association_rules, gold.basket_size_distribution, gold.frequent_itemsets, gold.item_popularity, gold.sales_daily, gold.sales_monthly, gold.sales_year_correlation, gold.sales_yearly, gold.top_customers, silver.baskets, silver.changed_baskets, silver.changed_objects, silver.loaded_objects, silver.transaction_lines, silver.transactions, silver.transactions_enriched\n`,
    );
  });

  it('tells one error per cause when 24 files have the wrong header: at the preflight, and at the load', async () => {
    const sample = path.join(dir, 'data/sample');
    const files = fs.readdirSync(sample).sort();
    for (const file of files) {
      const text = fs.readFileSync(path.join(sample, file), 'utf8');
      fs.writeFileSync(path.join(sample, file), text.replace(/^Member_number,/, 'Member,'));
    }
    const expected =
      'header has no column "Member_number" (expected Member_number, Date, itemDescription; found Member, Date, itemDescription)';
    const run = await lakehouse(['-c', config, 'run']);
    expect([run.code, run.stderr]).toEqual([
      1,
      `lakehouse: preflight: dataset transactions: 24 files in ${sample}: ${expected}: ${files.slice(0, 3).join(', ')} and 21 more\n`,
    ]);
    // Objects with that header that reach the bucket anyway (ingested under a config that expects it) fail the load
    // with one line for the cause, not one per object.
    const other = path.join(dir, 'other.yml');
    fs.writeFileSync(
      other,
      fs.readFileSync(config, 'utf8').replace('source: Member_number', 'source: Member'),
    );
    expect((await lakehouse(['-c', other, 'ingest'])).code).toBe(0);
    const load = await lakehouse(['-c', config, 'load']);
    expect(load.code).toBe(1);
    const errors = load.stderr.split('\n').filter((l) => l.startsWith('lakehouse:'));
    expect(errors).toEqual([
      `lakehouse: 24 objects failed and were rolled back (the next run loads them): 24 objects (${files
        .slice(0, 3)
        .map((f) => `transactions/${f}`)
        .join(', ')} and 21 more): ${expected} (rolled back: nothing from this object is visible)`,
    ]);
  });
});
