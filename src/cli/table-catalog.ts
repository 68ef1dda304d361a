// The Delta tables under a folder (`<root>/<schema>/<table>/_delta_log`), for `lakehouse table list` and for naming
// the tables that exist when a name matches none; and the rows of a table as CSV or JSON.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { openDeltaTable } from '../delta/index.ts';
import { someOf } from '../util/format.ts';

export interface TableEntry {
  name: string;
  location: string;
  version: number;
  /** Rows at that version, from the files' statistics (undefined when a file has none). */
  rows: number | undefined;
  files: number;
  /** When that version was committed. */
  timestamp: number | undefined;
}

/** `schema.table` names of the Delta tables under `root`, sorted. */
export async function tableNames(root: string): Promise<string[]> {
  const names: string[] = [];
  for (const schema of await folders(root))
    for (const table of await folders(path.join(root, schema)))
      if ((await folders(path.join(root, schema, table))).includes('_delta_log'))
        names.push(`${schema}.${table}`);
  return names.sort();
}

export async function tableEntries(root: string): Promise<TableEntry[]> {
  const entries: TableEntry[] = [];
  for (const name of await tableNames(root)) {
    const location = path.join(root, ...name.split('.'));
    const snapshot = await openDeltaTable(location).snapshot();
    const counts = snapshot.scan().map((f) => f.numRecords);
    entries.push({
      name,
      location,
      version: snapshot.version,
      rows: counts.every((n) => n !== undefined) ? counts.reduce((s, n) => s + n!, 0) : undefined,
      files: counts.length,
      timestamp: snapshot.timestamp,
    });
  }
  return entries;
}

/** The error for a name that is no table: it says which tables there are. */
export async function unknownTable(name: string, root: string): Promise<Error> {
  const names = await tableNames(root);
  if (names.length === 0)
    return new Error(
      `table ${name}: no Delta tables in ${root} yet (the transform writes them: lakehouse transform)`,
    );
  const near = names.filter((n) => n.split('.')[1] === name.split('.').at(-1));
  const hint = near.length ? `did you mean ${near.join(' or ')}? ` : '';
  return new Error(`table ${name}: not found in ${root}; ${hint}the tables there: ${someOf(names, 20)}`);
}

async function folders(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

/** RFC 4180: a header line, then a line per row; fields with a comma, quote or line break are quoted. */
export function csvText(columns: string[], rows: unknown[][]): string {
  const field = (value: unknown) => {
    if (value === null || value === undefined) return '';
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [columns, ...rows].map((row) => row.map(field).join(',')).join('\n') + '\n';
}
