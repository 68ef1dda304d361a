// The incremental transform (issue 15): after a full run, three increments (a new month, a late line for a basket
// already loaded, a replaced object) leave every silver and gold table equal, row for row, to a full refresh of the
// same data, built from scratch in another Delta folder. On DuckDB, through ingest, load and transform as
// `lakehouse run` runs them.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { registerDeltaView } from '../../src/delta/index.ts';
import { runLocalTransform } from '../../src/pipeline/transform-local.ts';
import { project, type Project } from '../faults/helpers.ts';
import { compareDeltaFolders, TWELVE_TABLES } from '../spark/compare.ts';

/** Every table the notebooks keep, but silver.changed_objects, which lists what the last run read. */
export const KEPT_TABLES = [
  ...TWELVE_TABLES,
  'silver.transaction_lines',
  'silver.loaded_objects',
  'silver.changed_baskets',
];

let p: Project;
let sample: string;
beforeAll(async () => {
  p = await project(3000);
  expect((await p.ingest()).verdict.ok).toBe(true);
  expect((await p.load()).verdict.ok).toBe(true);
  expect((await p.transform()).verdict.ok).toBe(true);
  const folder = path.join(p.dir, 'data/sample');
  sample = path.join(folder, (await fsp.readdir(folder)).filter((f) => f.endsWith('.csv')).sort()[0]!);
}, 300_000);
afterAll(async () => {
  if (p) await fsp.rm(p.dir, { recursive: true, force: true });
});

const deltaOf = (root: string) => path.join(p.dir, root);
let builds = 0;

/** A full refresh of the data as loaded now, in a Delta folder of its own (from scratch). */
async function fromScratch(): Promise<string> {
  const r = p.resolved();
  const name = `scratch-${++builds}`;
  const profile = { ...r.profile, delta: deltaOf(name), manifests: deltaOf(`${name}-manifests`) };
  const outcome = await runLocalTransform({ ...r, profile }, {}, p.context());
  expect(outcome.verdict.ok).toBe(true);
  return deltaOf(name);
}

/** Ingests and loads the data folder as it is now, then runs the transform incrementally. */
async function increment(): Promise<void> {
  expect((await p.ingest()).verdict.ok).toBe(true);
  expect((await p.load()).verdict.ok).toBe(true);
  expect((await p.transform()).verdict.ok).toBe(true);
}

async function rowsOf(table: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await registerDeltaView(conn, 't', path.join(deltaOf('.lakehouse/delta'), ...table.split('.')));
    return (await conn.runAndReadAll('SELECT * FROM t ORDER BY ALL')).getRowObjectsJS();
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** The lines of the sample's files (all of them, or one): member, date, item. */
async function sampleLines(file?: string): Promise<string[][]> {
  const folder = path.dirname(sample);
  const files = file ? [file] : (await fsp.readdir(folder)).filter((f) => f.endsWith('.csv'));
  const texts = await Promise.all(
    files.map((f) => fsp.readFile(path.join(folder, path.basename(f)), 'utf8')),
  );
  return texts.flatMap((text) =>
    text
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      // The sample is dirty on purpose (lines the load quarantines): only clean lines.
      .filter(([member, date]) => /^\d+$/.test(member ?? '') && /^\d{4}-\d{2}-\d{2}$/.test(date ?? '')),
  );
}

describe('the incremental transform equals a full refresh', () => {
  it('after a new month', async () => {
    const lines = await sampleLines();
    // The month after the sample's last (dates are YYYY-MM-DD), on the 15th.
    const [y, m] = lines
      .map((l) => l[1]!)
      .sort()
      .at(-1)!
      .split('-')
      .map(Number);
    const next = m === 12 ? `${y! + 1}-01-15` : `${y}-${String(m! + 1).padStart(2, '0')}-15`;
    await fsp.writeFile(
      path.join(path.dirname(sample), 'zz-new-month.csv'),
      `Member_number,Date,itemDescription\n1001,${next},whole milk\n1001,${next},yogurt\n1002,${next},whole milk\n`,
    );
    await increment();
    expect((await rowsOf('silver.changed_objects')).map((o) => o.object_name)).toEqual([
      'transactions/zz-new-month.csv',
    ]);
    const [ny, nm] = next.split('-').map(Number);
    expect(await rowsOf('gold.sales_monthly')).toContainEqual(
      expect.objectContaining({ year: ny, month: nm, items_sold: 3n, baskets: 2n, customers: 2n }),
    );
    expect(await compareDeltaFolders(deltaOf('.lakehouse/delta'), await fromScratch(), KEPT_TABLES)).toEqual(
      [],
    );
  }, 300_000);

  it('after a late line for a basket already loaded', async () => {
    const [member, date] = (await sampleLines(sample))[0]!;
    const basket = (await rowsOf('silver.baskets')).filter(
      (b) => String(b.member_number) === member && (b.txn_date as Date).toISOString().startsWith(date!),
    );
    expect(basket).toHaveLength(1);
    await fsp.writeFile(
      path.join(path.dirname(sample), 'zz-late-line.csv'),
      `Member_number,Date,itemDescription
${member},${date},late item
`,
    );
    await increment();
    expect((await rowsOf('silver.changed_objects')).map((o) => o.object_name)).toEqual([
      'transactions/zz-late-line.csv',
    ]);
    const late = (await rowsOf('silver.transactions')).filter((t) => t.item === 'late item');
    expect(late).toHaveLength(1);
    // The basket grew by one item: its size counts the late line, in every row of the basket.
    const rows = (await rowsOf('silver.transactions')).filter((t) => t.basket_id === late[0]!.basket_id);
    expect(rows.every((t) => t.basket_size === rows.length)).toBe(true);
    expect(rows.length).toBeGreaterThan(1);
    expect(await compareDeltaFolders(deltaOf('.lakehouse/delta'), await fromScratch(), KEPT_TABLES)).toEqual(
      [],
    );
  }, 300_000);

  it('after a replaced object (a new generation with lines changed and removed)', async () => {
    const text = await fsp.readFile(sample, 'utf8');
    const [header, ...lines] = text.trim().split('\n');
    // Every third line dropped, and the first line's item changed.
    const kept = lines.filter((_, i) => i % 3 !== 1);
    kept[0] = kept[0]!.replace(/,[^,]*$/, ',replaced item');
    await fsp.writeFile(sample, `${[header, ...kept].join('\n')}\n`);
    await increment();
    expect((await rowsOf('silver.changed_objects')).map((o) => o.object_name)).toEqual([
      `transactions/${path.basename(sample)}`,
    ]);
    expect((await rowsOf('silver.transactions')).some((t) => t.item === 'replaced item')).toBe(true);
    expect(await compareDeltaFolders(deltaOf('.lakehouse/delta'), await fromScratch(), KEPT_TABLES)).toEqual(
      [],
    );
  }, 300_000);

  it('and a full refresh in place rebuilds the same tables, reading every object', async () => {
    const outcome = await runLocalTransform(p.resolved(), { params: { full_refresh: true } }, p.context());
    expect(outcome.verdict.ok).toBe(true);
    const objects = (await rowsOf('silver.loaded_objects')).map((o) => o.object_name);
    expect((await rowsOf('silver.changed_objects')).map((o) => o.object_name)).toEqual(objects);
    expect(await compareDeltaFolders(deltaOf('.lakehouse/delta'), await fromScratch(), KEPT_TABLES)).toEqual(
      [],
    );
  }, 300_000);
});
