// Streaming CSV for the load stage. Records are split on bytes (newline and quote are ASCII, so they never occur
// inside a multi-byte UTF-8 character), then each record is checked, decoded, split into fields and typed.
// Nothing is dropped silently: every record becomes a row, a quarantined row with its reason, or a blank line.
import { isUtf8 } from 'node:buffer';
import type { ColumnConfig } from '../config/schema.ts';
import { parseValue } from './types.ts';

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
const CR = 0x0d;

interface RawRecord {
  line: number;
  bytes: Buffer;
  /** The record ended at end of input inside an open quote. */
  unterminated: boolean;
}

/** Splits a byte stream into records: newlines inside quoted fields do not end a record. */
export async function* splitRecords(source: AsyncIterable<Buffer | string>): AsyncGenerator<RawRecord> {
  let carry: Buffer = Buffer.alloc(0);
  let line = 1;
  let inQuotes = false;
  // Where the scan resumes inside `carry`; bytes before it have already been scanned for quotes.
  let scanned = 0;
  for await (const chunk of source) {
    const buf: Buffer = carry.length ? Buffer.concat([carry, toBuffer(chunk)]) : toBuffer(chunk);
    let start = 0;
    let i = scanned;
    while (i < buf.length) {
      const nl = buf.indexOf(NEWLINE, i);
      const quote = buf.indexOf(QUOTE, i);
      if (!inQuotes && (quote === -1 || (nl !== -1 && nl < quote))) {
        if (nl === -1) {
          i = buf.length;
          break;
        }
        yield { line, bytes: buf.subarray(start, nl), unterminated: false };
        line += 1 + countNewlines(buf, start, nl);
        start = i = nl + 1;
      } else if (inQuotes) {
        // Inside quotes only the next quote matters (a doubled quote toggles twice).
        if (quote === -1) {
          i = buf.length;
          break;
        }
        inQuotes = false;
        i = quote + 1;
      } else {
        inQuotes = true;
        i = quote + 1;
      }
    }
    carry = Buffer.from(buf.subarray(start));
    scanned = i - start;
  }
  if (carry.length) yield { line, bytes: carry, unterminated: inQuotes };
}

/** Turns records into typed rows, quarantined rows and blank lines, mapping columns by header name. */
export async function* readCsv(
  source: AsyncIterable<Buffer | string>,
  columns: readonly ColumnConfig[],
  options: CsvOptions,
): AsyncGenerator<CsvEvent> {
  let crlf: boolean | undefined;
  let positions: number[] | undefined = options.header ? undefined : columns.map((_, i) => i);
  let fieldCount = columns.length;
  for await (const record of splitRecords(source)) {
    let bytes = record.bytes;
    if (record.line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
      bytes = bytes.subarray(3);
    // The first record decides the line ending: in a CRLF file the \r belongs to the line break; in an LF file a
    // stray \r is data, kept for the notebooks to clean.
    crlf ??= bytes[bytes.length - 1] === CR;
    if (crlf && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, -1);
    if (bytes.length === 0) {
      yield { kind: 'blank', line: record.line };
      continue;
    }
    const bad = (reason: string): CsvEvent => ({
      kind: 'bad',
      line: record.line,
      raw: rawText(bytes),
      reason,
    });
    if (!isUtf8(bytes)) {
      yield bad(`invalid UTF-8 at byte ${firstInvalidUtf8(bytes)} of the line`);
      continue;
    }
    if (bytes.includes(0)) {
      yield bad('contains a NUL character, which SQL text columns cannot hold');
      continue;
    }
    if (record.unterminated) {
      yield bad('a quoted field is never closed (the quote opened here runs to the end of the file)');
      continue;
    }
    const fields = splitFields(bytes.toString('utf8'), options.delimiter);
    if (typeof fields === 'string') {
      yield bad(fields);
      continue;
    }
    if (!positions) {
      positions = headerPositions(fields, columns);
      fieldCount = fields.length;
      continue;
    }
    if (fields.length !== fieldCount) {
      yield bad(`expected ${fieldCount} fields, found ${fields.length}`);
      continue;
    }
    const values: (string | null)[] = [];
    let reason: string | undefined;
    for (let c = 0; c < columns.length && !reason; c++) {
      const column = columns[c]!;
      const parsed = parseValue(fields[positions[c]!]!, column);
      if (typeof parsed === 'object' && parsed !== null)
        reason = `${column.source ?? column.name}: ${parsed.error}`;
      else values.push(parsed);
    }
    if (reason) yield bad(reason);
    else
      yield options.keepRaw
        ? { kind: 'row', line: record.line, values, raw: rawText(bytes) }
        : { kind: 'row', line: record.line, values };
  }
  if (!positions) throw new Error('expected a header line, found an empty file');
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

function rawText(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.length > MAX_RAW_CHARS ? `${text.slice(0, MAX_RAW_CHARS)}…` : text;
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
}
