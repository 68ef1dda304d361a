// Compares the Delta tables two engines wrote, table by table, through the project's own Delta module: the same
// columns with the same types, and the same rows (as multisets); doubles agree within 1e-9 (relative to their size
// above 1), everything else exactly.
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { openDeltaTable, registerDeltaView } from '../../src/delta/index.ts';

export const TWELVE_TABLES = [
  'silver.transactions',
  'silver.baskets',
  'silver.transactions_enriched',
  'gold.sales_daily',
  'gold.sales_monthly',
  'gold.sales_yearly',
  'gold.sales_year_correlation',
  'gold.item_popularity',
  'gold.top_customers',
  'gold.basket_size_distribution',
  'gold.frequent_itemsets',
  'gold.association_rules',
];

/** The incremental run's bookkeeping (notebook 01): the lines with their lineage, the objects they came from. */
export const STATE_TABLES = ['silver.transaction_lines', 'silver.loaded_objects', 'silver.changed_baskets'];

/** Every table the notebooks keep; silver.changed_objects, which lists what one run read, aside. */
export const KEPT_TABLES = [...TWELVE_TABLES, ...STATE_TABLES];

/** The tables a run writes, in order (the bookkeeping included; silver.changed_baskets twice). */
export const RUN_TABLES = [
  'silver.changed_objects',
  'silver.changed_baskets',
  'silver.transaction_lines',
  'silver.loaded_objects',
  ...TWELVE_TABLES.slice(0, 10),
  'silver.changed_baskets',
  ...TWELVE_TABLES.slice(10),
];

export interface TableDifference {
  table: string;
  /** Column name: type, as each side's Delta schema has it, when they differ. */
  schema?: { left: string[]; right: string[] };
  rows?: { left: number; right: number };
  /** Up to five rows of each side that the other lacks. */
  onlyLeft?: unknown[];
  onlyRight?: unknown[];
}

async function columns(location: string, version: number | undefined): Promise<string[]> {
  const snapshot = await openDeltaTable(location).snapshot({ version });
  return snapshot.schema.fields.map((f) => `${f.name}: ${JSON.stringify(f.type)}`);
}

type Row = Record<string, unknown>;

async function sortedRows(conn: DuckDBConnection, view: string): Promise<Row[]> {
  const reader = await conn.runAndReadAll(`SELECT * FROM ${view} ORDER BY ALL`);
  return reader.getRowObjectsJS() as Row[];
}

const sameValue = (a: unknown, b: unknown): boolean => {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b) || !Number.isFinite(a) || !Number.isFinite(b))
      return Object.is(a, b);
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  return JSON.stringify(a, big) === JSON.stringify(b, big);
};
const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
const sameRow = (a: Row, b: Row) => Object.keys(a).every((k) => sameValue(a[k], b[k]));

/** Rows of `left` without a partner in `right`: rows sorted alike on both sides, matched in one pass with a window. */
function unmatched(left: Row[], right: Row[]): Row[] {
  const used = new Set<number>();
  const missing: Row[] = [];
  for (let i = 0; i < left.length; i++) {
    let found = -1;
    // Doubles that differ in the last bits may sort a row a little apart from its partner.
    for (let j = Math.max(0, i - 50); j < Math.min(right.length, i + 50); j++) {
      if (!used.has(j) && sameRow(left[i]!, right[j]!)) {
        found = j;
        break;
      }
    }
    if (found === -1) missing.push(left[i]!);
    else used.add(found);
  }
  return missing;
}

/** Every difference between the tables under two Delta folders (at their latest versions unless given). */
export async function compareDeltaFolders(
  left: string,
  right: string,
  tables: readonly string[] = TWELVE_TABLES,
  versions: { left?: number; right?: number } = {},
): Promise<TableDifference[]> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  const differences: TableDifference[] = [];
  try {
    for (const table of tables) {
      const [l, r] = [left, right].map((root) => path.join(root, ...table.split('.')));
      const schema = { left: await columns(l!, versions.left), right: await columns(r!, versions.right) };
      if (JSON.stringify(schema.left) !== JSON.stringify(schema.right)) {
        differences.push({ table, schema });
        continue;
      }
      await registerDeltaView(conn, 'left_table', l!, { version: versions.left });
      await registerDeltaView(conn, 'right_table', r!, { version: versions.right });
      const [lr, rr] = [await sortedRows(conn, 'left_table'), await sortedRows(conn, 'right_table')];
      const onlyLeft = unmatched(lr, rr);
      const onlyRight = unmatched(rr, lr);
      if (lr.length !== rr.length || onlyLeft.length || onlyRight.length)
        differences.push({
          table,
          rows: { left: lr.length, right: rr.length },
          onlyLeft: onlyLeft.slice(0, 5),
          onlyRight: onlyRight.slice(0, 5),
        });
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return differences;
}
