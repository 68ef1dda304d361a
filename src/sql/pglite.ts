// The embedded SQL store: PGlite (PostgreSQL compiled to WASM) persisted in a project folder. One process at a
// time may open a folder (PGlite is single-user), so a lock file guards it and names the holder.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PostgresDialect } from './postgres-dialect.ts';
import type { RowBatches, SqlSession, StagingTable, Statement } from './types.ts';
import { csvLine } from './csv-line.ts';

/** Rows per COPY batch: PGlite copies from an in-memory blob, so batches keep memory bounded. */
const COPY_BATCH_BYTES = 16 * 1024 * 1024;

export async function openPglite(dataDir: string): Promise<PgliteSession> {
  const folder = path.resolve(dataDir);
  await fsp.mkdir(path.dirname(folder), { recursive: true });
  const release = await lockFolder(folder);
  try {
    const db = await PGlite.create(folder);
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
  private readonly release: () => void;

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
  }

  async commit(): Promise<void> {
    await this.db.exec('COMMIT');
  }

  async rollback(): Promise<void> {
    await this.db.exec('ROLLBACK');
  }

  async bulkLoad(table: StagingTable, rows: RowBatches): Promise<number> {
    const target = `${this.dialect.quote(table.name)} (${table.columns.map((c) => this.dialect.quote(c)).join(', ')})`;
    let parts: string[] = [];
    let bytes = 0;
    let total = 0;
    const flush = async () => {
      if (!parts.length) return;
      await this.db.query(`COPY ${target} FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob: new Blob(parts) });
      parts = [];
      bytes = 0;
    };
    for await (const batch of rows)
      for (const row of batch) {
        const line = csvLine(row);
        parts.push(line);
        bytes += line.length;
        total++;
        if (bytes >= COPY_BATCH_BYTES) await flush();
      }
    await flush();
    return total;
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
