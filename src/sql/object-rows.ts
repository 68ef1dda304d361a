// Reading one bucket object for the load: its bytes MD5-checked as they pass, parsed and typed (src/csv/reader.ts)
// into good rows, bad records and blank lines, counted as they go, and turned into the rows a bulk path takes.
// Both ways of loading (plan.ts: staging every record; append.ts: good rows straight into the target) read
// through here, so they count and check alike.
import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BucketObject } from '../bucket/types.ts';
import { readCsvBatches, type CsvEvent, type CsvOptions } from '../csv/reader.ts';
import type { LoadTables } from './types.ts';

export type GoodRow = Extract<CsvEvent, { kind: 'row' }>;
export type BadRecord = Extract<CsvEvent, { kind: 'bad' }>;
export type BulkRow = (string | null)[];

export interface ReadCounts {
  /** Records that are rows, good or bad (blank lines are not). */
  rows: number;
  badRows: number;
  blankLines: number;
  /** Bad records by kind of problem. */
  problems: Record<string, number>;
}

export interface ObjectSource {
  object: BucketObject;
  open(): Promise<Readable>;
  csv: CsvOptions;
  onRows?(rows: number): void;
}

/** How the records of an object become bulk rows: undefined leaves a record out of the bulk load. */
export interface RowShapes {
  good(row: GoodRow): BulkRow | undefined;
  bad(record: BadRecord): BulkRow | undefined;
}

export function newCounts(): ReadCounts {
  return { rows: 0, badRows: 0, blankLines: 0, problems: {} };
}

/**
 * The object's records as bulk rows, one batch per chunk read (so that no row costs an await of its own).
 * Counts into `counts`; at the end, throws when the bytes read are not the bytes listed.
 */
export async function* objectRows(
  source: ObjectSource,
  tables: LoadTables,
  shapes: RowShapes,
  counts: ReadCounts,
  keepRaw = false,
): AsyncGenerator<BulkRow[]> {
  const stream = await source.open();
  const hash = crypto.createHash('md5');
  async function* bytes(): AsyncGenerator<Buffer> {
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  }
  for await (const events of readCsvBatches(bytes(), tables.columns, { ...source.csv, keepRaw })) {
    const batch: BulkRow[] = [];
    for (const event of events) {
      if (event.kind === 'blank') {
        counts.blankLines++;
        continue;
      }
      counts.rows++;
      let row: BulkRow | undefined;
      if (event.kind === 'row') row = shapes.good(event);
      else {
        counts.badRows++;
        const kind = problemKind(event.reason);
        counts.problems[kind] = (counts.problems[kind] ?? 0) + 1;
        row = shapes.bad(event);
      }
      if (row) batch.push(row);
    }
    source.onRows?.(counts.rows);
    if (batch.length) yield batch;
  }
  checkContent(source.object, hash.digest('base64'));
}

/** A bad record as a staging row: line, reason, its text as shown, its bytes in hex, no values. */
export function stagedBadRecord(record: BadRecord, columns: number): BulkRow {
  const row: BulkRow = [String(record.line), record.reason, record.text, record.raw.toString('hex')];
  for (let i = 0; i < columns; i++) row.push(null);
  return row;
}

/** The bytes read must be the bytes listed: otherwise the object changed underneath the load. */
function checkContent(object: BucketObject, md5: string): void {
  const expected = object.contentEncoding === 'gzip' ? object.metadata['source-md5'] : object.md5;
  if (expected && expected !== md5)
    throw new Error(
      `object ${object.name} changed while it was being read (MD5 ${md5}, expected ${expected} of generation ${object.generation})`,
    );
}

export function problemKind(reason: string): string {
  if (reason.startsWith('expected') && reason.includes('fields')) return 'wrong field count';
  if (reason.startsWith('invalid UTF-8')) return 'invalid UTF-8';
  if (reason.includes('quote')) return 'malformed quoting';
  if (reason.includes('NUL')) return 'NUL character';
  if (reason.startsWith('duplicate key')) return 'duplicate key';
  if (reason.startsWith('longer than the line-length limit')) return 'line too long';
  const column = /^([^:]+):/.exec(reason)?.[1];
  return column ? `bad value in ${column}` : reason;
}
