// Streaming CSV for the load stage. Records are split on bytes (records.ts), then each record is checked,
// decoded, split into fields and typed. Nothing is dropped silently: every record becomes a row, a quarantined
// record with its reason and the bytes that arrived, or a blank line. The work goes chunk by chunk (one await
// per chunk, not per row), and a chunk that is plain ASCII — the common case — is decoded once and sliced,
// instead of record by record.
import { isAscii, isUtf8 } from 'node:buffer';
import type { ColumnConfig } from '../config/schema.ts';
import { displayText, firstInvalidUtf8 } from './display.ts';
import { splitFields, splitPlainFields } from './fields.ts';
import { RecordSplitter, type RecordBatch } from './records.ts';
import { parseValue } from './values.ts';

export { splitFields } from './fields.ts';
export { MAX_RECORD_BYTES } from './records.ts';

export interface CsvOptions {
  header: boolean;
  delimiter: string;
  /** Also give the raw text of good rows (merge mode quarantines rows superseded by a later duplicate). */
  keepRaw?: boolean;
  /** The line-length limit (default MAX_RECORD_BYTES). */
  maxRecordBytes?: number;
}

export type CsvEvent =
  | { kind: 'row'; line: number; values: (string | null)[]; raw?: string }
  | {
      kind: 'bad';
      /** The record's first and last line (a quoted field may span lines). */
      line: number;
      lastLine: number;
      /** The bytes that arrived (the line ending excluded). */
      raw: Buffer;
      /** The same, readable: NUL and bytes that are not UTF-8 written as \xHH. */
      text: string;
      reason: string;
    }
  | { kind: 'blank'; line: number };

/** Turns records into typed rows, quarantined rows and blank lines, mapping columns by header name. */
export async function* readCsv(
  source: AsyncIterable<Buffer | string>,
  columns: readonly ColumnConfig[],
  options: CsvOptions,
): AsyncGenerator<CsvEvent> {
  for await (const batch of readCsvBatches(source, columns, options)) yield* batch;
}

/** As readCsv, one batch of events per chunk of input. */
export async function* readCsvBatches(
  source: AsyncIterable<Buffer | string>,
  columns: readonly ColumnConfig[],
  options: CsvOptions,
): AsyncGenerator<CsvEvent[]> {
  const splitter = new RecordSplitter({
    delimiter: options.delimiter,
    fieldCount: options.header ? undefined : columns.length,
    maxRecordBytes: options.maxRecordBytes,
  });
  const reader = new RecordReader(columns, options);
  for await (const chunk of source) yield reader.read(splitter.push(toBuffer(chunk)));
  yield reader.read(splitter.end());
  if (!reader.sawHeader) throw new Error('expected a header line, found an empty file');
}

/** Checks, decodes, splits and types records; remembers the header. */
class RecordReader {
  private positions: number[] | undefined;
  private fieldCount: number;
  private readonly columns: readonly ColumnConfig[];
  private readonly options: CsvOptions;

  constructor(columns: readonly ColumnConfig[], options: CsvOptions) {
    this.columns = columns;
    this.options = options;
    this.positions = options.header ? undefined : columns.map((_, i) => i);
    this.fieldCount = columns.length;
  }

  get sawHeader(): boolean {
    return this.positions !== undefined;
  }

  read(batch: RecordBatch): CsvEvent[] {
    const { buf, starts, ends, lines, lastLines, setApart } = batch;
    const events: CsvEvent[] = [];
    const count = starts.length;
    if (count === 0) return events;
    const first = starts[0]!;
    const whole = buf.subarray(first, ends[count - 1]);
    // Plain ASCII without NUL (and without a BOM, which is not ASCII): decode once, slice by byte offsets.
    const text = isAscii(whole) && !whole.includes(0) ? whole.toString('latin1') : undefined;
    // Without a quote anywhere in the chunk, fields are cut from its text directly.
    const plain = text !== undefined && !text.includes('"');
    for (let r = 0; r < count; r++) {
      const line = lines[r]!;
      const apart = setApart.size ? setApart.get(r) : undefined;
      const outcome = apart
        ? apart.reason
        : plain
          ? this.fromPlainText(line, text, starts[r]! - first, ends[r]! - first)
          : text
            ? this.fromText(line, text.slice(starts[r]! - first, ends[r]! - first))
            : this.fromBytes(line, buf.subarray(starts[r], ends[r]));
      if (typeof outcome === 'string') {
        const raw = apart?.bytes ?? Buffer.from(buf.subarray(starts[r], ends[r]));
        events.push({
          kind: 'bad',
          line,
          lastLine: lastLines[r]!,
          raw,
          text: displayText(raw),
          reason: outcome,
        });
      } else if (outcome) events.push(outcome);
    }
    return events;
  }

  /** A row or a blank line, the reason the record is bad, or undefined for the header. */
  private fromBytes(line: number, bytes: Buffer): CsvEvent | string | undefined {
    if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    if (!isUtf8(bytes)) return `invalid UTF-8 at byte ${firstInvalidUtf8(bytes)} of the line`;
    const text = bytes.toString('utf8');
    if (text.includes('\0')) return 'contains a NUL character, which SQL text columns cannot hold';
    return this.fromText(line, text);
  }

  private fromText(line: number, text: string): CsvEvent | string | undefined {
    if (text === '') return { kind: 'blank', line };
    const fields = splitFields(text, this.options.delimiter);
    if (typeof fields === 'string') return fields;
    return this.fromFields(line, fields, text);
  }

  /** As fromText, for the record at text[start, end) of a chunk without quotes. */
  private fromPlainText(
    line: number,
    text: string,
    start: number,
    end: number,
  ): CsvEvent | string | undefined {
    if (start === end) return { kind: 'blank', line };
    const fields = splitPlainFields(text, start, end, this.options.delimiter);
    return this.fromFields(line, fields, this.options.keepRaw ? text.slice(start, end) : '');
  }

  /** The header's positions, or a typed row; `text` is the record's (only kept with keepRaw). */
  private fromFields(line: number, fields: string[], text: string): CsvEvent | string | undefined {
    const { columns, options } = this;
    if (!this.positions) {
      this.positions = headerPositions(fields, columns);
      this.fieldCount = fields.length;
      return undefined;
    }
    if (fields.length !== this.fieldCount)
      return `expected ${this.fieldCount} fields, found ${fields.length}`;
    const values: (string | null)[] = new Array(columns.length);
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c]!;
      const parsed = parseValue(fields[this.positions[c]!]!, column);
      if (typeof parsed === 'object' && parsed !== null)
        return `${column.source ?? column.name}: ${parsed.error}`;
      values[c] = parsed;
    }
    return options.keepRaw ? { kind: 'row', line, values, raw: text } : { kind: 'row', line, values };
  }
}

function headerPositions(header: string[], columns: readonly ColumnConfig[]): number[] {
  const names = header.map((h) => h.trim());
  return columns.map((c) => {
    const wanted = c.source ?? c.name;
    const index = names.indexOf(wanted);
    if (index === -1)
      throw new Error(
        `header has no column "${wanted}" (expected ${columns.map((x) => x.source ?? x.name).join(', ')}; found ${names.join(', ')})`,
      );
    return index;
  });
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
}
