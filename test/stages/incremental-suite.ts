// The incremental transform (issue 15): after a full run, three increments (a new month, a late line for a basket
// already loaded, a replaced object) leave every silver and gold table equal, row for row, to a full refresh of the
// same data, built from scratch in another Delta folder; and a full refresh in place rebuilds the same tables.
// Through ingest, load and transform as `lakehouse run` runs them, on the engine the test file names.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/load.ts';
import type { StageOutcome } from '../../src/pipeline/report.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import { registerDeltaView } from '../../src/delta/index.ts';
import { project, type Project } from '../faults/helpers.ts';
import { compareDeltaFolders, KEPT_TABLES } from '../spark/compare.ts';

type Transform = (
  resolved: ResolvedConfig,
  request: { notebooks?: string[]; params?: Record<string, boolean> },
  ctx: ReturnType<Project['context']>,
) => Promise<StageOutcome<unknown>>;

export interface IncrementalEngine {
  name: string;
  /** lakehouse.yml as the engine needs it (its SQL store, say). */
  edit?: (yaml: string) => string;
  /** Runs the transform, as `lakehouse transform --on <engine>` does. */
  transform: Transform;
  /** The full refresh from scratch each step is compared with (default: transform). */
  scratch?: Transform;
  /** Run only these notebooks (default: the config's); the tables compared are then those they write. */
  notebooks?: string[];
  tables?: string[];
}

export function defineIncrementalSuite(engine: IncrementalEngine, ok: boolean): void {
  describe.skipIf(!ok)(`the incremental transform on ${engine.name} equals a full refresh`, () => {
    defineSteps(engine);
  });
}

function defineSteps(engine: IncrementalEngine): void {
  const request = { notebooks: engine.notebooks };
  const tables = engine.tables ?? KEPT_TABLES;
  let p: Project;
  let sample: string;
  beforeAll(async () => {
    p = await project(3000, { edit: engine.edit });
    expect((await p.ingest()).verdict.ok).toBe(true);
    expect((await p.load()).verdict.ok).toBe(true);
    expect((await engine.transform(p.resolved(), request, p.context())).verdict.ok).toBe(true);
    const folder = path.join(p.dir, 'data/sample');
    sample = path.join(folder, (await fsp.readdir(folder)).filter((f) => f.endsWith('.csv')).sort()[0]!);
  }, 600_000);
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
    const outcome = await (engine.scratch ?? engine.transform)({ ...r, profile }, request, p.context());
    expect(outcome.verdict.ok).toBe(true);
    return deltaOf(name);
  }

  /** Ingests and loads the data folder as it is now, then runs the transform incrementally. */
  async function increment(): Promise<void> {
    expect((await p.ingest()).verdict.ok).toBe(true);
    expect((await p.load()).verdict.ok).toBe(true);
    expect((await engine.transform(p.resolved(), request, p.context())).verdict.ok).toBe(true);
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
    expect(await compareDeltaFolders(deltaOf('.lakehouse/delta'), await fromScratch(), tables)).toEqual([]);
  }, 600_000);

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
    expect(await compareDeltaFolders(deltaOf('.lakehouse/delta'), await fromScratch(), tables)).toEqual([]);
  }, 600_000);

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
    expect(await compareDeltaFolders(deltaOf('.lakehouse/delta'), await fromScratch(), tables)).toEqual([]);
  }, 600_000);

  it('and a full refresh in place rebuilds the same tables, reading every object', async () => {
    // The tables as the increments left them, to compare with the full refresh on the same engine.
    await fsp.cp(deltaOf('.lakehouse/delta'), deltaOf('incremental'), { recursive: true });
    const full = { ...request, params: { full_refresh: true } };
    expect((await engine.transform(p.resolved(), full, p.context())).verdict.ok).toBe(true);
    const objects = (await rowsOf('silver.loaded_objects')).map((o) => o.object_name);
    expect((await rowsOf('silver.changed_objects')).map((o) => o.object_name)).toEqual(objects);
    expect(await compareDeltaFolders(deltaOf('incremental'), deltaOf('.lakehouse/delta'), tables)).toEqual(
      [],
    );
    expect(await compareDeltaFolders(deltaOf('.lakehouse/delta'), await fromScratch(), tables)).toEqual([]);
  }, 600_000);
}
