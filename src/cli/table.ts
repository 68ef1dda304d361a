// `lakehouse table …`: look at Delta tables — the list, history, rows at a version or timestamp (as text, CSV or
// JSON), vacuum.
import { Command, InvalidArgumentError, Option } from 'commander';
import path from 'node:path';
import type { SnapshotOptions } from '../delta/index.ts';
import { count, formatNumber } from '../util/format.ts';
import { textTable } from '../util/table.ts';
import { addGlobalOptions } from './options.ts';

// The Delta reader and DuckDB load when a table command runs, not with every `lakehouse` command.
const delta = () => import('../delta/index.ts');
const catalog = () => import('./table-catalog.ts');

export interface TableCommandOutput {
  write(text: string): void;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected a whole number ≥ 0, found "${value}"`);
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`expected a number of hours ≥ 0, found "${value}"`);
  return n;
}

/**
 * The `table` command. `deltaRoot` gives the folder of the tables (from the sub-command's --config and --profile):
 * a table name such as `gold.item_popularity` is `<root>/gold/item_popularity`, and a name that is no table is
 * told with the tables there are. An argument that looks like a path (has a `/`, or starts with `.`) is used as the
 * folder directly. `table show --version N` needs the root program to call `.enablePositionalOptions()` if it has
 * its own `--version`, or commander gives the option to the root.
 */
export function createTableCommand(
  deltaRoot: (command: Command) => string,
  output: TableCommandOutput = process.stdout,
): Command {
  const locate: Locate = async (name, command) => {
    if (/[/\\]/.test(name) || name.startsWith('.')) return path.resolve(name);
    const root = deltaRoot(command);
    const location = path.join(root, ...name.split('.'));
    const [{ openDeltaTable }, { unknownTable }] = await Promise.all([delta(), catalog()]);
    if (!(await openDeltaTable(location).exists())) throw await unknownTable(name, root);
    return location;
  };
  const table = new Command('table').description('Inspect Delta tables: list, history, time travel, vacuum');
  addList(table, deltaRoot, output);
  addHistory(table, locate, output);
  addShow(table, locate, output);
  addVacuum(table, locate, output);
  for (const sub of table.commands) addGlobalOptions(sub, ['config', 'profile']);
  return table;
}

/** A table name or folder → the table's folder. */
type Locate = (name: string, command: Command) => Promise<string>;

function addList(table: Command, deltaRoot: (command: Command) => string, output: TableCommandOutput): void {
  table
    .command('list')
    .description('List the Delta tables under the profile’s delta folder, with their version and rows')
    .addOption(new Option('--format <format>', 'text or json').choices(['text', 'json']).default('text'))
    .action(async (opts: { format: 'text' | 'json' }, command: Command) => {
      const root = deltaRoot(command);
      const entries = await (await catalog()).tableEntries(root);
      if (opts.format === 'json') return output.write(`${JSON.stringify(entries, null, 2)}\n`);
      if (entries.length === 0) return output.write(`no Delta tables in ${root} yet\n`);
      output.write(`${count(entries.length, 'table')} in ${root}\n`);
      const rows = entries.map((e) => ({
        table: e.name,
        version: e.version,
        rows: e.rows ?? '?',
        files: e.files,
        committed: e.timestamp === undefined ? '' : new Date(e.timestamp).toISOString(),
      }));
      output.write(`${textTable(rows)}\n`);
    });
}

function addHistory(table: Command, locate: Locate, output: TableCommandOutput): void {
  table
    .command('history')
    .description('List the versions of a table, newest first')
    .argument('<table>', 'table name (e.g. gold.item_popularity) or folder')
    .option('--limit <n>', 'show at most n versions', nonNegativeInteger)
    .action(async (name: string, opts: { limit?: number }, command: Command) => {
      const location = await locate(name, command);
      const history = await (await delta()).openDeltaTable(location).history(opts.limit);
      output.write(`${location}\n`);
      const rows = history.map((h) => ({
        version: String(h.version),
        timestamp: new Date(h.timestamp).toISOString(),
        operation: h.operation,
        parameters: Object.entries(h.operationParameters)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' '),
        metrics: Object.entries(h.operationMetrics)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      }));
      output.write(`${textTable(rows, ['version', 'timestamp', 'operation', 'parameters', 'metrics'])}\n`);
    });
}

type ShowFormat = 'text' | 'csv' | 'json';

function safeNumber(value: unknown): unknown {
  return typeof value === 'string' && Number.isSafeInteger(Number(value)) ? Number(value) : value;
}

function addShow(table: Command, locate: Locate, output: TableCommandOutput): void {
  table
    .command('show')
    .description('Show the rows of a table at its latest version, a version, or a timestamp')
    .argument('<table>', 'table name (e.g. gold.item_popularity) or folder')
    .addOption(
      new Option('--version <n>', 'version to show').argParser(nonNegativeInteger).conflicts('timestamp'),
    )
    .option('--timestamp <ts>', 'show the version current at this time (ISO-8601; no zone = UTC)')
    .option(
      '--limit <n>',
      'show at most n rows (default 20 as text; every row as CSV or JSON)',
      nonNegativeInteger,
    )
    .addOption(
      new Option('--format <format>', 'text (a table and a heading), csv or json (the rows alone)')
        .choices(['text', 'csv', 'json'])
        .default('text'),
    )
    .action(
      async (
        name: string,
        opts: { version?: number; timestamp?: string; limit?: number; format: ShowFormat },
        command: Command,
      ) => {
        const limit = opts.limit ?? (opts.format === 'text' ? 20 : undefined);
        const shown = await readRows(await locate(name, command), opts, limit);
        if (opts.format === 'csv') return output.write((await catalog()).csvText(shown.columns, shown.rows));
        if (opts.format === 'json') {
          const objects = shown.rows.map((r) => Object.fromEntries(shown.columns.map((c, i) => [c, r[i]])));
          return output.write(`${JSON.stringify(objects, null, 2)}\n`);
        }
        output.write(`${shown.heading}\n`);
        const rows = shown.rows.map((r) => Object.fromEntries(shown.columns.map((c, i) => [c, cell(r[i])])));
        output.write(`${textTable(rows, shown.columns)}\n`);
        if (limit !== undefined && shown.total > limit)
          output.write(`… ${count(shown.total - limit, 'more row')} (--limit)\n`);
      },
    );
}

interface ShownRows {
  heading: string;
  total: number;
  columns: string[];
  /** As DuckDB gives JSON values (decimals and dates as text), integers as numbers where they fit a double. */
  rows: unknown[][];
}

/** The table's rows at a version or time, the first `limit` of them (all when unset), and a heading. */
async function readRows(
  location: string,
  at: SnapshotOptions,
  limit: number | undefined,
): Promise<ShownRows> {
  const [{ DuckDBInstance, DuckDBTypeId }, { registerDeltaView }] = await Promise.all([
    import('@duckdb/node-api'),
    delta(),
  ]);
  const wideIntegers = new Set([
    DuckDBTypeId.BIGINT,
    DuckDBTypeId.UBIGINT,
    DuckDBTypeId.HUGEINT,
    DuckDBTypeId.UHUGEINT,
  ]);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    const snapshot = await registerDeltaView(conn, 'shown', location, {
      version: at.version,
      timestamp: at.timestamp,
    });
    const total = Number((await conn.runAndReadAll('SELECT count(*) FROM shown')).getRows()[0]![0]);
    const reader = await conn.runAndReadAll(
      `SELECT * FROM shown${limit === undefined ? '' : ` LIMIT ${limit}`}`,
    );
    const when = snapshot.timestamp === undefined ? '' : ` (${new Date(snapshot.timestamp).toISOString()})`;
    const partitions = snapshot.partitionColumns.length
      ? `, partitioned by ${snapshot.partitionColumns.join(', ')}`
      : '';
    // JSON gives 64-bit and 128-bit integers as text (they may not fit a double): numbers again where they fit.
    const wide = reader.columnTypes().map((t) => wideIntegers.has(t.typeId));
    const rows = reader.getRowsJson().map((row) => row.map((v, i) => (wide[i] ? safeNumber(v) : v)));
    return {
      heading: `${location} version ${formatNumber(snapshot.version)}${when}: ${count(total, 'row')} in ${count(snapshot.files.length, 'file')}${partitions}`,
      total,
      columns: reader.columnNames(),
      rows,
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

function addVacuum(table: Command, locate: Locate, output: TableCommandOutput): void {
  table
    .command('vacuum')
    .description('Delete data files no longer referenced and older than the retention')
    .argument('<table>', 'table name (e.g. gold.item_popularity) or folder')
    .option(
      '--retain-hours <h>',
      'keep files unreferenced for less than h hours (default 168)',
      nonNegativeNumber,
    )
    .option('--dry-run', 'list the files without deleting them')
    .option('--force', 'allow a retention under 168 hours')
    .action(async (name: string, _opts: unknown, command: Command) => {
      // With the root's own --dry-run (commander reads root options after subcommands too), the flag lands
      // on the root: read the options merged with the parents' so a dry run never deletes.
      const opts = command.optsWithGlobals<{ retainHours?: number; dryRun?: boolean; force?: boolean }>();
      const location = await locate(name, command);
      const result = await (await delta()).openDeltaTable(location).vacuum({
        retentionHours: opts.retainHours,
        dryRun: opts.dryRun,
        force: opts.force,
      });
      const verb = result.dryRun ? 'would delete' : 'deleted';
      output.write(
        `${location}: ${verb} ${count(result.files.length, 'file')} (retention ${count(result.retentionHours, 'hour')})` +
          (result.version !== undefined ? `, recorded as version ${result.version}` : '') +
          '\n',
      );
      for (const f of result.files) output.write(`  ${f}\n`);
    });
}
