// Time travel and history through `lakehouse table …`, invoked as the CLI would, with output captured.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { createTableCommand } from '../../src/cli/table.ts';
import { writeDelta } from '../../src/delta/index.ts';
import { newConnection, tempDir } from './helpers.ts';

describe('lakehouse table', () => {
  let warehouse: string;
  const resolveTable = (name: string) => path.join(warehouse, ...name.split('.'));

  async function run(...args: string[]): Promise<string> {
    let out = '';
    const command = createTableCommand(() => warehouse, { write: (s) => void (out += s) });
    await command.parseAsync(args, { from: 'user' });
    return out;
  }

  beforeAll(async () => {
    warehouse = tempDir('delta-cli');
    const conn = await newConnection();
    const location = resolveTable('gold.item_popularity');
    await writeDelta(conn, location, `SELECT * FROM (VALUES ('milk', 3), ('bread', 2)) v(item, n)`, {
      mode: 'create',
    });
    await new Promise((r) => setTimeout(r, 15));
    await writeDelta(conn, location, `SELECT 'eggs' AS item, 7 AS n`, { mode: 'append' });
    await new Promise((r) => setTimeout(r, 15));
    await writeDelta(conn, location, `SELECT 'tea' AS item, 1 AS n`, { mode: 'overwrite' });
  });

  it('lists the history newest first with operations and metrics', async () => {
    const out = await run('history', 'gold.item_popularity');
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe(resolveTable('gold.item_popularity'));
    expect(lines[1]).toMatch(/^version\s+timestamp\s+operation\s+parameters\s+metrics$/);
    expect(lines.slice(3).map((l) => l.trim().split(/\s+/).slice(0, 3))).toEqual([
      ['2', expect.stringMatching(/^\d{4}-\d\d-\d\dT/), 'WRITE'],
      ['1', expect.any(String), 'WRITE'],
      ['0', expect.any(String), 'CREATE'],
    ]);
    expect(lines[3]).toMatch(/mode=Overwrite .*numOutputRows=1/);
    expect((await run('history', 'gold.item_popularity', '--limit', '1')).trim().split('\n')).toHaveLength(4);
  });

  it('shows the rows at the latest version, at a version and at a timestamp', async () => {
    const latest = await run('show', 'gold.item_popularity');
    expect(latest).toMatch(/version 2 \(.*\): 1 row in 1 file\n/);
    expect(latest).toMatch(/item\s+n\n─+\s+─+\ntea\s+1\n$/);

    const v1 = await run('show', 'gold.item_popularity', '--version', '1');
    expect(v1).toMatch(/version 1 .*: 3 rows in 2 files/);
    expect(v1.split('\n').slice(3).sort().join('\n').trim()).toMatch(/^bread\s+2\neggs\s+7\nmilk\s+3$/);

    const history = await run('history', 'gold.item_popularity');
    const v0time = history
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.startsWith('0 '))!
      .split(/\s+/)[1]!;
    expect(await run('show', 'gold.item_popularity', '--timestamp', v0time)).toMatch(/version 0 .*: 2 rows/);
    expect(await run('show', 'gold.item_popularity', '--version', '1', '--limit', '1')).toMatch(
      /… 2 more rows/,
    );
  });

  it('keeps its --version option under a root program that has its own --version (positional options)', async () => {
    let out = '';
    const program = new Command('lakehouse').version('9.9.9').enablePositionalOptions();
    program.addCommand(createTableCommand(() => warehouse, { write: (s) => void (out += s) }));
    await program.parseAsync(['table', 'show', 'gold.item_popularity', '--version', '0'], { from: 'user' });
    expect(out).toMatch(/version 0 .*: 2 rows/);
  });

  it('honours --dry-run when the root program has its own --dry-run (never deletes by mistake)', async () => {
    let out = '';
    const program = new Command('lakehouse').option('-n, --dry-run', 'change nothing', false);
    program.addCommand(createTableCommand(() => warehouse, { write: (s) => void (out += s) }));
    const args = ['table', 'vacuum', 'gold.item_popularity', '--retain-hours', '0', '--force', '--dry-run'];
    await program.parseAsync(args, { from: 'user' });
    expect(out).toMatch(/would delete 2 files/);
  });

  it('lists the tables with their version, rows and files, as text or JSON', async () => {
    const text = await run('list');
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe(`1 table in ${warehouse}`);
    expect(lines[1]).toMatch(/^table\s+version\s+rows\s+files\s+committed$/);
    expect(lines[3]).toMatch(/^gold\.item_popularity\s+2\s+1\s+1\s+\d{4}-\d\d-\d\dT/);
    const json = JSON.parse(await run('list', '--format', 'json')) as {
      name: string;
      version: number;
      rows: number;
    }[];
    expect(json.map((t) => [t.name, t.version, t.rows])).toEqual([['gold.item_popularity', 2, 1]]);
    let none = '';
    await createTableCommand(() => tempDir('delta-cli-empty'), { write: (s) => void (none += s) }).parseAsync(
      ['list'],
      {
        from: 'user',
      },
    );
    expect(none).toMatch(/^no Delta tables in .*delta-cli-empty.* yet\n$/);
  });

  it('shows the rows as CSV or JSON, every row unless --limit', async () => {
    expect(await run('show', 'gold.item_popularity', '--version', '1', '--format', 'csv')).toMatch(
      /^item,n\n(\w+,\d\n){3}$/,
    );
    const rows = JSON.parse(
      await run('show', 'gold.item_popularity', '--version', '1', '--format', 'json'),
    ) as {
      item: string;
      n: number;
    }[];
    expect(rows.sort((a, b) => a.item.localeCompare(b.item))).toEqual([
      { item: 'bread', n: 2 },
      { item: 'eggs', n: 7 },
      { item: 'milk', n: 3 },
    ]);
    const limited = await run(
      'show',
      'gold.item_popularity',
      '--version',
      '1',
      '--format',
      'csv',
      '--limit',
      '1',
    );
    expect(limited.trim().split('\n')).toHaveLength(2);
  });

  it('accepts a folder path instead of a name', async () => {
    const folder = path.relative(process.cwd(), resolveTable('gold.item_popularity'));
    expect(await run('show', folder.startsWith('.') ? folder : `./${folder}`)).toMatch(/version 2/);
  });

  it('reports errors that name the table and what was expected', async () => {
    await expect(run('show', 'gold.item_popularity', '--version', '9')).rejects.toThrow(
      /version 9 does not exist; the latest version is 2/,
    );
    await expect(run('history', 'gold.missing')).rejects.toThrow(
      `table gold.missing: not found in ${warehouse}; the tables there: gold.item_popularity`,
    );
    await expect(run('show', 'silver.item_popularity')).rejects.toThrow(
      `table silver.item_popularity: not found in ${warehouse}; did you mean gold.item_popularity? the tables there: gold.item_popularity`,
    );
    // A folder that is no table still says so.
    await expect(run('history', `${warehouse}/gold`)).rejects.toThrow(/gold is not a Delta table/);
    await expect(run('vacuum', 'gold.item_popularity', '--retain-hours', '1')).rejects.toThrow(
      /safe minimum of 168 hours/,
    );
  });

  it('vacuums: dry run lists, then --force deletes the unreferenced files', async () => {
    const location = resolveTable('gold.item_popularity');
    const dry = await run('vacuum', 'gold.item_popularity', '--retain-hours', '0', '--force', '--dry-run');
    expect(dry).toMatch(/would delete 2 files \(retention 0 hours\)/);
    const files = dry
      .split('\n')
      .filter((l) => l.startsWith('  '))
      .map((l) => l.trim());
    for (const f of files) expect(fs.existsSync(path.join(location, f))).toBe(true);
    expect(await run('vacuum', 'gold.item_popularity', '--retain-hours', '0', '--force')).toMatch(
      /deleted 2 files .*recorded as version 3/,
    );
    for (const f of files) expect(fs.existsSync(path.join(location, f))).toBe(false);
    expect(await run('show', 'gold.item_popularity')).toMatch(/tea\s+1/);
  });
});
