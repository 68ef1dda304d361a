// The bad records of an object, held while its good rows stream into the target: a connection runs one bulk load
// at a time, so they go to quarantine after it. Held in memory up to SPOOL_MEMORY_CHARS, then in a temporary
// file, so that memory stays bounded however much of an object is bad.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { BulkRow } from './object-rows.ts';

const SPOOL_MEMORY_CHARS = 8 * 1024 * 1024;
/** Rows per batch handed back to the bulk path. */
const BATCH_ROWS = 1000;

export class QuarantineSpool {
  /** Rows added so far. */
  count = 0;
  private held: BulkRow[] = [];
  private chars = 0;
  private file: { dir: string; path: string; fd: number } | undefined;

  add(row: BulkRow): void {
    this.count++;
    if (this.file) return this.write([row]);
    this.held.push(row);
    for (const value of row) this.chars += value?.length ?? 0;
    if (this.chars > SPOOL_MEMORY_CHARS) this.spill();
  }

  /** The rows in the order they were added, in batches; the spool is empty afterwards. */
  async *batches(): AsyncGenerator<BulkRow[]> {
    for (let i = 0; i < this.held.length; i += BATCH_ROWS) yield this.held.slice(i, i + BATCH_ROWS);
    this.held = [];
    const file = this.file;
    if (!file) return;
    fs.closeSync(file.fd);
    this.file = undefined;
    try {
      let batch: BulkRow[] = [];
      for await (const line of readline.createInterface({ input: fs.createReadStream(file.path) })) {
        batch.push(JSON.parse(line) as BulkRow);
        if (batch.length >= BATCH_ROWS) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    } finally {
      fs.rmSync(file.dir, { recursive: true, force: true });
    }
  }

  /** Removes the temporary file, if any (after a failure midway). */
  dispose(): void {
    if (!this.file) return;
    fs.closeSync(this.file.fd);
    fs.rmSync(this.file.dir, { recursive: true, force: true });
    this.file = undefined;
  }

  private spill(): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-quarantine-'));
    const file = path.join(dir, 'records.jsonl');
    this.file = { dir, path: file, fd: fs.openSync(file, 'w') };
    this.write(this.held);
    this.held = [];
    this.chars = 0;
  }

  private write(rows: BulkRow[]): void {
    fs.writeSync(this.file!.fd, rows.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}
