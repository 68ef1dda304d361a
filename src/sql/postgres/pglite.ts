// The embedded SQL store: PGlite (PostgreSQL compiled to WASM) persisted in a project folder. One process at a
// time may open a folder (PGlite is single-user), so a lock file guards it and names the holder.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as PgliteModule from '@electric-sql/pglite';
import { PostgresDialect } from './dialect.ts';
import type {
  LoadTables,
  RowBatches,
  SqlSession,
  StagingTable,
  Statement,
  TableExport,
  TableName,
} from '../types.ts';
import { appendPlainValues, csvChunks, type CsvShape } from '../csv-line.ts';
import { tableExport } from '../export-common.ts';
import {
  findPostgresTable,
  POSTGRES_EXPORT_SETTINGS,
  postgresCopy,
  postgresRelation,
  type PostgresTable,
} from './export.ts';

/** Bytes per COPY: PGlite copies from an in-memory blob, so batches keep memory bounded. */
const COPY_BATCH_BYTES = 16 * 1024 * 1024;
/** Table pages (8 kB) per COPY … TO blob when exporting: PGlite holds each blob in memory. */
const EXPORT_BLOCKS_PER_COPY = 2048;

// PGlite's CommonJS build, through require: the CLI runs under tsx (bin/lakehouse.js), which rewrites every ES
// module holding a dynamic import() and builds a source map of it; for PGlite's 375 kB ES build that cost each
// command on the embedded store about 0.35 s of CPU. require does not go through tsx's hooks.
const { PGlite } = createRequire(import.meta.url)('@electric-sql/pglite') as typeof PgliteModule;
type PGlite = PgliteModule.PGlite;

export interface PgliteOptions {
  /** A few small queries, as `status` runs: PostgreSQL starts with small shared buffers (BRIEF_START). */
  brief?: boolean;
}

/**
 * PostgreSQL's start for a brief session: 16 MB of shared buffers instead of the data folder's 128 MB, which PGlite
 * zeroes at every start (about 0.5 s of CPU, most of its open; bench/status.mjs) and a few small queries never fill.
 */
const BRIEF_START = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

export async function openPglite(dataDir: string, options: PgliteOptions = {}): Promise<PgliteSession> {
  const folder = path.resolve(dataDir);
  await fsp.mkdir(path.dirname(folder), { recursive: true });
  const release = await lockFolder(folder);
  try {
    const db = await PGlite.create(folder, options.brief ? { startParams: BRIEF_START } : {});
    return new PgliteSession(db, folder, release);
  } catch (e) {
    release();
    throw new Error(`PGlite at ${folder}: could not open the database: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

export class PgliteSession implements SqlSession {
  readonly engine = 'pglite' as const;
  readonly dialect = new PostgresDialect('pglite');
  readonly description: string;
  readonly db: PGlite;
  /** Table pages per COPY when exporting a table (smaller in tests, to export in many parts). */
  exportBlocksPerCopy = EXPORT_BLOCKS_PER_COPY;
  private readonly release: () => void;
  /** An export runs in a transaction of its own, which must not end a load's. */
  private inTransaction = false;

  constructor(db: PGlite, folder: string, release: () => void) {
    this.db = db;
    this.description = `PGlite at ${folder}`;
    this.release = release;
  }

  async query<T>(statement: Statement | string): Promise<T[]> {
    const { sql, params } = typeof statement === 'string' ? { sql: statement, params: [] } : statement;
    return (await this.db.query<T>(sql, params)).rows;
  }

  async execute(statement: Statement | string): Promise<number> {
    const { sql, params } = typeof statement === 'string' ? { sql: statement, params: [] } : statement;
    return (await this.db.query(sql, params)).affectedRows ?? 0;
  }

  async begin(): Promise<void> {
    await this.db.exec('BEGIN');
    this.inTransaction = true;
  }

  async commit(): Promise<void> {
    this.inTransaction = false;
    await this.db.exec('COMMIT');
  }

  async rollback(): Promise<void> {
    this.inTransaction = false;
    await this.db.exec('ROLLBACK');
  }

  async bulkLoad(table: StagingTable, rows: RowBatches): Promise<number> {
    const q = (n: string) => this.dialect.quote(n);
    return this.copyIn(`${q(table.name)} (${table.columns.map(q).join(', ')})`, rows);
  }

  /**
   * Into an empty target, the object-name index is built after the COPY instead of row by row. Safe here only:
   * PGlite has one session (a lock file keeps other processes out), so no other load or reader waits on the
   * DROP INDEX's lock, and a rollback brings the index back.
   */
  async appendRows(t: LoadTables, rows: RowBatches, objectName: string): Promise<number> {
    const [{ empty } = { empty: false }] = await this.query<{ empty: boolean }>(
      this.dialect.targetIsEmpty(t),
    );
    const index = this.dialect.objectIndexStatements(t);
    if (empty) await this.execute(index.drop);
    const plain = appendPlainValues(t.columns, objectName);
    const copied = await this.copyIn(this.dialect.appendTarget(t), rows, { plain });
    if (empty) await this.execute(index.create);
    return copied;
  }

  /**
   * COPY from blobs of about COPY_BATCH_BYTES each; returns the rows PGlite counted. A blob is made of the
   * small chunks csvChunks yields (bytes outside the JavaScript heap) rather than of one long string, which
   * would be promoted to the old generation and make the garbage collector work for it.
   */
  private async copyIn(target: string, rows: RowBatches, shape: CsvShape = {}): Promise<number> {
    let total = 0;
    let parts: Buffer[] = [];
    let bytes = 0;
    const copy = async () => {
      const blob = new Blob(parts as Uint8Array<ArrayBuffer>[]);
      parts = [];
      bytes = 0;
      const result = await this.db.query(`COPY ${target} FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob });
      total += result.affectedRows ?? 0;
    };
    for await (const chunk of csvChunks(rows, { rows: 0 }, shape)) {
      parts.push(chunk);
      bytes += chunk.length;
      if (bytes >= COPY_BATCH_BYTES) await copy();
    }
    if (bytes) await copy();
    return total;
  }

  async exportTable(table: TableName): Promise<TableExport> {
    const found = await findPostgresTable((q) => this.query(q), table, this.dialect.schema, this.description);
    return tableExport(found, this.copyOut(found));
  }

  /**
   * COPY … TO '/dev/blob' returns the whole result in memory, so a plain table is copied a range of pages at a
   * time, all in one snapshot (REPEATABLE READ), so that no row is read twice or missed.
   */
  private async *copyOut(table: PostgresTable): AsyncGenerator<Buffer> {
    if (this.inTransaction)
      throw new Error(`${this.description}: export cannot run inside a transaction (a load is under way)`);
    await this.db.exec('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    let done = false;
    try {
      await this.db.query(POSTGRES_EXPORT_SETTINGS);
      for (const [i, blocks] of (await this.pageRanges(table)).entries()) {
        const copy = postgresCopy(table, { to: "'/dev/blob'", header: i === 0, blocks });
        const blob = (await this.db.query(copy)).blob;
        if (!blob) throw new Error(`${this.description} returned no data for ${copy}`);
        yield Buffer.from(await blob.arrayBuffer());
      }
      done = true;
    } finally {
      await this.db.exec(done ? 'COMMIT' : 'ROLLBACK');
    }
  }

  /** Page ranges covering a plain table (the last one open-ended); one unbounded copy for anything else. */
  private async pageRanges(table: PostgresTable): Promise<({ from: number; to?: number } | undefined)[]> {
    if (table.kind !== 'r') return [undefined];
    const [size] = await this.query<{ blocks: number | bigint }>({
      sql: `SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint AS blocks`,
      params: [postgresRelation(table)],
    });
    const blocks = Number(size!.blocks);
    const ranges: { from: number; to?: number }[] = [];
    for (let from = 0; from + this.exportBlocksPerCopy < blocks; from += this.exportBlocksPerCopy)
      ranges.push({ from, to: from + this.exportBlocksPerCopy });
    ranges.push({ from: ranges.at(-1)?.to ?? 0 });
    return ranges;
  }

  async close(): Promise<void> {
    try {
      await this.db.close();
    } finally {
      this.release();
    }
  }
}

/** Takes `<folder>.lock`; a lock left by a process that no longer runs is taken over. */
async function lockFolder(folder: string): Promise<() => void> {
  const lock = `${folder}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(fs.readFileSync(lock, 'utf8'));
      if (holder === process.pid)
        throw new Error(`PGlite at ${folder} is already open in this process; close it first`, { cause: e });
      if (holder && isAlive(holder))
        throw new Error(
          `PGlite at ${folder} is in use by process ${holder} (another lakehouse command?); wait for it to finish`,
          { cause: e },
        );
      fs.rmSync(lock, { force: true });
    }
  }
  throw new Error(`PGlite at ${folder}: could not take the lock ${lock}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
