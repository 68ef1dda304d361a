// The fault suite: `lakehouse load` and `lakehouse transform` killed with SIGKILL at a random moment of their work
// (a seeded moment, so that a failure can be replayed), then run again to the end. The SQL tables (target, audit,
// quarantine) and every Delta table must then equal, row for row, those of a clean run on the same data.
// Each engine's test file calls defineKillSuite; the seeds are LAKEHOUSE_FAULT_SEEDS (default 1,2,3).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDeltaView } from '../../src/delta/index.ts';
import { openSqlStore } from '../../src/sql/index.ts';
import type { SqlSession } from '../../src/sql/types.ts';
import { mulberry32 } from '../../src/util/random.ts';
import { repoRoot } from '../helpers/services.ts';
import { normalize } from '../helpers/sql-engines.ts';
import { project, type Project } from './helpers.ts';

/** Sample rows: a few thousand, in 24 monthly files (enough for the notebooks' association rules). */
const ROWS = 2500;
const SEEDS = (process.env.LAKEHOUSE_FAULT_SEEDS ?? '1,2,3').split(',').map(Number);
/** What the stages print a line for: the sample's monthly objects, and the notebooks' table versions. */
const OBJECTS = 24;
const TABLE_VERSIONS = 12;

/** A line from the first (the stage starting) to the `count`-th of the work. */
function line(random: () => number, count: number): number {
  return 1 + Math.floor(random() * count);
}

export interface FaultEngine {
  name: string;
  available(): Promise<boolean>;
  /** lakehouse.yml's `sql:` value for a store of its own named `name`, and a way to empty it first. */
  sql(name: string): string;
  reset(name: string): Promise<unknown>;
  /**
   * Run the seeds side by side. Right for a server, whose work is in its own process; not for PGlite, whose
   * WASM runs on this process's thread, so that seeds side by side only wait on each other (and delay the kills).
   */
  concurrent: boolean;
}

interface Snapshot {
  sql: Record<string, unknown[]>;
  delta: Record<string, unknown[]>;
}

export function defineKillSuite(engine: FaultEngine, prefix: string): void {
  const state: { available?: boolean; reference?: Snapshot } = {};
  const folders: string[] = [];

  const open = async (name: string) => {
    await engine.reset(name);
    const p = await project(ROWS, {
      edit: (yaml) => yaml.replace('{ engine: pglite, path: .lakehouse/pglite }', engine.sql(name)),
    });
    folders.push(p.dir);
    expect((await p.ingest()).verdict.ok).toBe(true);
    return p;
  };

  beforeAll(async () => {
    state.available = await engine.available();
    if (!state.available) return;
    const clean = await open(`${prefix}_clean`);
    expect((await clean.load()).verdict.ok).toBe(true);
    expect((await clean.transform()).verdict.ok).toBe(true);
    state.reference = await snapshot(clean);
  });
  afterAll(async () => {
    for (const f of folders) await fsp.rm(f, { recursive: true, force: true });
  });

  describe(`kill -9 on ${engine.name}`, () => {
    (engine.concurrent ? it.concurrent : it).each(SEEDS)(
      'seed %i: load and transform killed midway, then run again, equal a clean run',
      async (seed) => {
        if (!state.available) return;
        const random = mulberry32(seed);
        const p = await open(`${prefix}_${seed}`);
        // The moment: after one of the lines the stage prints as it works (an object loaded, a table version
        // written), and a little more: inside the next object's transaction or the next table's commit.
        const killedLoad = await killMidway(p, 'load', line(random, OBJECTS), random() * 30);
        expect((await p.load()).verdict.ok).toBe(true);
        const killedTransform = await killMidway(
          p,
          'transform',
          line(random, TABLE_VERSIONS),
          random() * 300,
        );
        expect((await p.transform()).verdict.ok).toBe(true);
        console.info(`${engine.name} seed ${seed}: load ${killedLoad}; transform ${killedTransform}`);
        const after = await snapshot(p);
        expect(after.sql, `load killed: ${killedLoad}`).toEqual(state.reference!.sql);
        for (const table of Object.keys(state.reference!.delta))
          expect(after.delta[table], `${table}; transform killed: ${killedTransform}`).toEqual(
            state.reference!.delta[table],
          );
        expect(Object.keys(after.delta)).toEqual(Object.keys(state.reference!.delta));
      },
      // The seeds share the machine, and each runs the pipeline twice over.
      300_000,
    );
  });
}

/**
 * Starts `lakehouse <stage>` and kills it (SIGKILL) `delayMs` after it prints its `afterLine`-th line of output;
 * says how it ended: killed, and after what, or finished first.
 */
function killMidway(
  p: Project,
  stage: 'load' | 'transform',
  afterLine: number,
  delayMs: number,
): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/lakehouse.js'), '-c', p.config, stage], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.split('\n').length > afterLine) timer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const lines = output.trim().split('\n');
      resolve(
        `${signal ?? `exit ${code}`} (${Math.round(delayMs)} ms after line ${afterLine}), ${lines.length} lines; last: ${lines.at(-1)}`,
      );
    });
  });
}

/** What a run leaves: the SQL tables without run ids, times and generations; every Delta table's rows. */
async function snapshot(p: Project): Promise<Snapshot> {
  const resolved = p.resolved();
  const session = await openSqlStore(resolved.profile.sql, resolved.root);
  try {
    return { sql: await sqlTables(session), delta: await deltaTables(path.join(p.dir, '.lakehouse/delta')) };
  } finally {
    await session.close();
  }
}

async function sqlTables(session: SqlSession): Promise<Record<string, unknown[]>> {
  const t = (name: string) => session.dialect.table(name);
  const rows = async (sql: string) =>
    normalize(await session.query(sql)).map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v]),
      ),
    );
  return {
    transactions: await rows(
      `SELECT member_number, txn_date, item, _source_object, _source_line FROM ${t('transactions')} ORDER BY _source_object, _source_line`,
    ),
    audit: await rows(
      `SELECT dataset, target_table, bucket, object_name, md5, size, rows_in, rows_loaded, rows_quarantined, rows_replaced, blank_lines FROM ${t('lakehouse_load_audit')} ORDER BY object_name`,
    ),
    quarantine: await rows(
      `SELECT dataset, bucket, object_name, line_number, raw_text, raw_bytes, reason FROM ${t('lakehouse_quarantine')} ORDER BY object_name, line_number`,
    ),
  };
}

const RUN_RECORD_TABLE = 'silver.changed_objects';

async function deltaTables(root: string): Promise<Record<string, unknown[]>> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const tables: Record<string, unknown[]> = {};
    for (const schema of fs.readdirSync(root).sort())
      for (const name of fs.readdirSync(path.join(root, schema)).sort()) {
        const location = path.join(root, schema, name);
        if (!fs.existsSync(path.join(location, '_delta_log'))) continue;
        // What the last run found changed: a rerun after a kill finds less than a clean run did (the killed run
        // had merged some objects already), so it records that run's work, not the data.
        if (`${schema}.${name}` === RUN_RECORD_TABLE) continue;
        await registerDeltaView(conn, `t_${schema}_${name}`, location);
        // Generations are the bucket's, and the clean run has a bucket of its own: they are left out here as they
        // are from the load audit above.
        const columns = `${schema}.${name}` === 'silver.loaded_objects' ? '* EXCLUDE (generation)' : '*';
        const reader = await conn.runAndReadAll(`SELECT ${columns} FROM t_${schema}_${name} ORDER BY ALL`);
        tables[`${schema}.${name}`] = JSON.parse(
          JSON.stringify(reader.getRowObjectsJS(), comparable),
        ) as unknown[];
      }
    return tables;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/**
 * A value as compared: 64-bit integers as text, and doubles to 12 significant digits, because DuckDB sums and
 * correlates in parallel, in an order that may change the last bits from one run to the next.
 */
function comparable(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isInteger(value)) return Number(value.toPrecision(12));
  return value;
}
