// Streaming CSV for the load stage. Records are split on bytes (newline and quote are ASCII, so they never occur
// inside a multi-byte UTF-8 character), then each record is checked, decoded, split into fields and typed.
// Nothing is dropped silently: every record becomes a row, a quarantined row with its reason, or a blank line.
// The work goes chunk by chunk (one await per chunk, not per row), and a chunk that is plain ASCII — the common
// case — is decoded once and sliced, instead of record by record.
import { isAscii, isUtf8 } from 'node:buffer';
import type { ColumnConfig } from '../config/schema.ts';
import { parseValue } from './values.ts';

export interface CsvOptions {
  header: boolean;
  delimiter: string;
  /** Also give the raw text of good rows (merge mode quarantines rows superseded by a later duplicate). */
  keepRaw?: boolean;
}

export type CsvEvent =
  | { kind: 'row'; line: number; values: (string | null)[]; raw?: string }
  | { kind: 'bad'; line: number; raw: string; reason: string }
  | { kind: 'blank'; line: number };

/** Longest raw text kept for a quarantined record: enough to see the problem, bounded for huge broken records. */
export const MAX_RAW_CHARS = 10_000;
const NEWLINE = 0x0a;
const QUOTE = 0x22;

/** The records found in one chunk: byte ranges of `buf`, with the line each starts on. */
export interface RecordBatch {
  buf: Buffer;
  starts: number[];
  ends: number[];
  lines: number[];
  /** The last record ended at end of input inside an open quote. */
  unterminated: boolean;
}

/** Splits bytes into records as they arrive, chunk by chunk: newlines inside quoted fields do not end a record. */
export class RecordSplitter {
  private carry: Buffer = Buffer.alloc(0);
  private line = 1;
  private inQuotes = false;
  /** Where the scan resumes inside `carry`: bytes before it were already scanned. */
  private scanned = 0;
  /** The record being scanned has a quote, so it may hold newlines of its own. */
  private quoted = false;

  push(chunk: Buffer): RecordBatch {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const batch: RecordBatch = { buf, starts: [], ends: [], lines: [], unterminated: false };
    let start = 0;
    let i = this.scanned;
    let quote = buf.indexOf(QUOTE, i);
    while (i < buf.length) {
      if (this.inQuotes) {
        // Inside quotes only the next quote matters (a doubled quote closes and reopens).
        if (quote === -1) break;
        this.inQuotes = false;
        i = quote + 1;
        quote = buf.indexOf(QUOTE, i);
        continue;
      }
      const nl = buf.indexOf(NEWLINE, i);
      if (quote !== -1 && (nl === -1 || quote < nl)) {
        this.inQuotes = this.quoted = true;
        i = quote + 1;
        quote = buf.indexOf(QUOTE, i);
        continue;
      }
      if (nl === -1) break;
      batch.starts.push(start);
      batch.ends.push(nl);
      batch.lines.push(this.line);
      this.line += 1 + (this.quoted ? countNewlines(buf, start, nl) : 0);
      this.quoted = false;
      start = i = nl + 1;
    }
    this.carry = Buffer.from(buf.subarray(start));
    this.scanned = buf.length - start;
    return batch;
  }

  /** The last record, when the input does not end with a newline. */
  end(): RecordBatch {
    const buf = this.carry;
    return buf.length
      ? { buf, starts: [0], ends: [buf.length], lines: [this.line], unterminated: this.inQuotes }
      : { buf, starts: [], ends: [], lines: [], unterminated: false };
  }
}

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
  const splitter = new RecordSplitter();
  const reader = new RecordReader(columns, options);
  for await (const chunk of source) yield reader.read(splitter.push(toBuffer(chunk)));
  yield reader.read(splitter.end());
  if (!reader.sawHeader) throw new Error('expected a header line, found an empty file');
}

/** Checks, decodes, splits and types records; remembers the header and the file's line ending. */
class RecordReader {
  private crlf: boolean | undefined;
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
    const { buf, starts, ends, lines } = batch;
    const events: CsvEvent[] = [];
    const count = starts.length;
    if (count === 0) return events;
    const first = starts[0]!;
    const whole = buf.subarray(first, ends[count - 1]);
    // Plain ASCII without NUL (and without a BOM, which is not ASCII): decode once, slice by byte offsets.
    const text = isAscii(whole) && !whole.includes(0) ? whole.toString('latin1') : undefined;
    for (let r = 0; r < count; r++) {
      const unterminated = batch.unterminated && r === count - 1;
      const event = text
        ? this.fromText(lines[r]!, text.slice(starts[r]! - first, ends[r]! - first), unterminated)
        : this.fromBytes(lines[r]!, buf.subarray(starts[r], ends[r]), unterminated);
      if (event) events.push(event);
    }
    return events;
  }

  private fromBytes(line: number, bytes: Buffer, unterminated: boolean): CsvEvent | undefined {
    if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    if (!isUtf8(bytes)) {
      const raw = this.withoutLineEnd(bytes.toString('utf8'));
      return raw === ''
        ? { kind: 'blank', line }
        : bad(line, raw, `invalid UTF-8 at byte ${firstInvalidUtf8(bytes)} of the line`);
    }
    const text = bytes.toString('utf8');
    if (text.includes('\0'))
      return bad(
        line,
        this.withoutLineEnd(text),
        'contains a NUL character, which SQL text columns cannot hold',
      );
    return this.fromText(line, text, unterminated);
  }

  /** The first record decides the line ending: in a CRLF file the \r belongs to the line break; in an LF file a
   * stray \r is data, kept for the notebooks to clean. */
  private withoutLineEnd(text: string): string {
    this.crlf ??= text.endsWith('\r');
    return this.crlf && text.endsWith('\r') ? text.slice(0, -1) : text;
  }

  private fromText(line: number, record: string, unterminated: boolean): CsvEvent | undefined {
    const { columns, options } = this;
    const text = this.withoutLineEnd(record);
    if (text === '') return { kind: 'blank', line };
    if (unterminated)
      return bad(
        line,
        text,
        'a quoted field is never closed (the quote opened here runs to the end of the file)',
      );
    const fields = splitFields(text, options.delimiter);
    if (typeof fields === 'string') return bad(line, text, fields);
    if (!this.positions) {
      this.positions = headerPositions(fields, columns);
      this.fieldCount = fields.length;
      return undefined;
    }
    if (fields.length !== this.fieldCount)
      return bad(line, text, `expected ${this.fieldCount} fields, found ${fields.length}`);
    const values: (string | null)[] = new Array(columns.length);
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c]!;
      const parsed = parseValue(fields[this.positions[c]!]!, column);
      if (typeof parsed === 'object' && parsed !== null)
        return bad(line, text, `${column.source ?? column.name}: ${parsed.error}`);
      values[c] = parsed;
    }
    return options.keepRaw ? { kind: 'row', line, values, raw: clip(text) } : { kind: 'row', line, values };
  }
}

function bad(line: number, raw: string, reason: string): CsvEvent {
  return { kind: 'bad', line, raw: clip(raw), reason };
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

/** RFC 4180 fields; returns a reason string for malformed quoting. */
export function splitFields(text: string, delimiter: string): string[] | string {
  if (!text.includes('"')) return text.split(delimiter);
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q === -1) return `a quoted field starting at character ${i + 1} is never closed`;
        value += text.slice(j, q);
        if (text[q + 1] === '"') {
          value += '"';
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      if (j < text.length && text[j] !== delimiter)
        return `unexpected text after the closing quote at character ${j + 1}`;
      fields.push(value);
      if (j >= text.length) return fields;
      i = j + 1;
    } else {
      const end = text.indexOf(delimiter, i);
      const value = end === -1 ? text.slice(i) : text.slice(i, end);
      if (value.includes('"'))
        return `a quote inside an unquoted field at character ${i + value.indexOf('"') + 1}`;
      fields.push(value);
      if (end === -1) return fields;
      i = end + 1;
    }
  }
}

function countNewlines(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(NEWLINE, start); i !== -1 && i < end; i = buf.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/** 1-based position of the first byte that breaks UTF-8 (lead byte or truncated sequence); called for bad lines only. */
function firstInvalidUtf8(bytes: Buffer): number {
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i]!;
    const length =
      lead < 0x80
        ? 1
        : lead >= 0xc2 && lead < 0xe0
          ? 2
          : lead >= 0xe0 && lead < 0xf0
            ? 3
            : lead >= 0xf0 && lead < 0xf5
              ? 4
              : 0;
    if (length === 0) return i + 1;
    for (let k = 1; k < length; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i + 1;
    // Overlong and surrogate forms pass this check; isUtf8 has already said the line is bad, so check the rest.
    if (length > 1 && !isUtf8(bytes.subarray(i, i + length))) return i + 1;
    i += length;
  }
  return bytes.length;
}

function clip(text: string): string {
  return text.length > MAX_RAW_CHARS ? `${text.slice(0, MAX_RAW_CHARS)}…` : text;
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
}
