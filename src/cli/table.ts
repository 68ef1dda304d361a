// `lakehouse table …`: look at Delta tables — history, rows at a version or timestamp, vacuum.
import { Command, InvalidArgumentError, Option } from 'commander';
import { DuckDBInstance } from '@duckdb/node-api';
import path from 'node:path';
import { openDeltaTable, registerDeltaView } from '../delta/index.ts';
import type { SnapshotOptions } from '../delta/index.ts';
import { textTable } from '../util/table.ts';

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
 * The `table` command. `resolveTable` maps a table name such as `gold.item_popularity` to its folder; an
 * argument that looks like a path (has a `/`, or starts with `.`) is used as the folder directly.
 * `table show --version N` needs the root program to call `.enablePositionalOptions()` if it has its own
 * `--version`, or commander gives the option to the root.
 */
export function createTableCommand(
  resolveTable: (name: string) => string,
  output: TableCommandOutput = process.stdout,
): Command {
  const locate: Locate = (name) =>
    /[/\\]/.test(name) || name.startsWith('.') ? path.resolve(name) : resolveTable(name);
  const table = new Command('table').description('Inspect Delta tables: history, time travel, vacuum');
  addHistory(table, locate, output);
  addShow(table, locate, output);
  addVacuum(table, locate, output);
  return table;
}

/** A table name or folder → the table's folder. */
type Locate = (name: string) => string;

function addHistory(table: Command, locate: Locate, output: TableCommandOutput): void {
  table
    .command('history')
    .description('List the versions of a table, newest first')
    .argument('<table>', 'table name (e.g. gold.item_popularity) or folder')
    .option('--limit <n>', 'show at most n versions', nonNegativeInteger)
    .action(async (name: string, opts: { limit?: number }) => {
      const location = locate(name);
      const history = await openDeltaTable(location).history(opts.limit);
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

function addShow(table: Command, locate: Locate, output: TableCommandOutput): void {
  table
    .command('show')
    .description('Show the rows of a table at its latest version, a version, or a timestamp')
    .argument('<table>', 'table name (e.g. gold.item_popularity) or folder')
    .addOption(
      new Option('--version <n>', 'version to show').argParser(nonNegativeInteger).conflicts('timestamp'),
    )
    .option('--timestamp <ts>', 'show the version current at this time (ISO-8601; no zone = UTC)')
    .option('--limit <n>', 'show at most n rows', nonNegativeInteger, 20)
    .action(async (name: string, opts: { version?: number; timestamp?: string; limit: number }) => {
      const location = locate(name);
      const instance = await DuckDBInstance.create(':memory:');
      const conn = await instance.connect();
      try {
        await conn.run("SET TimeZone = 'UTC'");
        const at: SnapshotOptions = { version: opts.version, timestamp: opts.timestamp };
        const snapshot = await registerDeltaView(conn, 'shown', location, at);
        const total = (await conn.runAndReadAll('SELECT count(*) FROM shown')).getRows()[0]![0];
        const reader = await conn.runAndReadAll(`SELECT * FROM shown LIMIT ${opts.limit}`);
        const when =
          snapshot.timestamp === undefined ? '' : ` (${new Date(snapshot.timestamp).toISOString()})`;
        output.write(
          `${location} version ${snapshot.version}${when}: ${String(total)} rows in ${snapshot.files.length} files` +
            (snapshot.partitionColumns.length
              ? `, partitioned by ${snapshot.partitionColumns.join(', ')}`
              : '') +
            '\n',
        );
        const columns = reader.columnNames();
        const rows = reader
          .getRowsJson()
          .map((r) => Object.fromEntries(columns.map((c, i) => [c, cell(r[i])])));
        output.write(`${textTable(rows, columns)}\n`);
        if (Number(total) > opts.limit) output.write(`… ${Number(total) - opts.limit} more rows (--limit)\n`);
      } finally {
        conn.closeSync();
        instance.closeSync();
      }
    });
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
      const location = locate(name);
      const result = await openDeltaTable(location).vacuum({
        retentionHours: opts.retainHours,
        dryRun: opts.dryRun,
        force: opts.force,
      });
      const verb = result.dryRun ? 'would delete' : 'deleted';
      output.write(
        `${location}: ${verb} ${result.files.length} files (retention ${result.retentionHours} hours)` +
          (result.version !== undefined ? `, recorded as version ${result.version}` : '') +
          '\n',
      );
      for (const f of result.files) output.write(`  ${f}\n`);
    });
}
