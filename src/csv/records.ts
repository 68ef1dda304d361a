// Splitting bytes into records, chunk by chunk. Records end at the file's own line ending: the first line break
// decides between LF (a CR just before it is dropped: CRLF) and CR alone. A quote opens a quoted field only at
// the start of a field, and a line break inside a quoted field is part of it — unless the quote is broken: the
// record it makes does not parse, or the quote is still open at the end of the file or at the line-length limit.
// Then the lines up to the next line that parses as a record on its own are set apart as one bad record, whole,
// and splitting starts again at that line, so that one bad quote never takes the good rows after it along.
// Newline, CR and quote are ASCII, so they never occur inside a multi-byte UTF-8 character.
import { splitFields } from './fields.ts';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** The line-length limit: a record longer than this is bad, and a quote still open after it is broken. */
export const MAX_RECORD_BYTES = 1024 * 1024;

export interface SplitterOptions {
  delimiter: string;
  /** Fields in a record; learnt from the first record (the header) when undefined. */
  fieldCount?: number;
  maxRecordBytes?: number;
}

/** A record found bad while splitting: why, and its bytes where they are not a range of the batch's buffer. */
export interface SetApart {
  reason: string;
  bytes?: Buffer;
}

/** The records found in one chunk: byte ranges of `buf` (line ending excluded), with their first and last line. */
export interface RecordBatch {
  buf: Buffer;
  starts: number[];
  ends: number[];
  lines: number[];
  lastLines: number[];
  /** Records set apart while splitting, by index. */
  setApart: Map<number, SetApart>;
}

interface RecordScan {
  /** The separator ending the record, or -1 when the bytes end first. */
  end: number;
  /** The record has a quoted field. */
  quoted: boolean;
  /** A quoted field is still open where the bytes end. */
  open: boolean;
}

export class RecordSplitter {
  private carry: Buffer = Buffer.alloc(0);
  private line = 1;
  private separator: number | undefined;
  private crlf = false;
  private fieldCount: number | undefined;
  private readonly delimiter: Buffer;
  private readonly delimiterText: string;
  private readonly maxBytes: number;
  /** A line over the limit, skipped to its end: its first bytes. */
  private overlong: { kept: Buffer } | undefined;
  /** The next quote at or after `quoteFrom` in the buffer being split (-1: none), so quotes are searched once. */
  private quoteAt = -1;
  private quoteFrom = Infinity;

  constructor(options: SplitterOptions) {
    this.delimiterText = options.delimiter;
    this.delimiter = Buffer.from(options.delimiter);
    this.fieldCount = options.fieldCount;
    this.maxBytes = options.maxRecordBytes ?? MAX_RECORD_BYTES;
  }

  push(chunk: Buffer): RecordBatch {
    return this.split(this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk, false);
  }

  /** The records left at the end of the input (the last one may have no line break after it). */
  end(): RecordBatch {
    return this.split(this.carry, true);
  }

  private split(buf: Buffer, final: boolean): RecordBatch {
    const batch: RecordBatch = { buf, starts: [], ends: [], lines: [], lastLines: [], setApart: new Map() };
    this.quoteFrom = Infinity;
    let start = 0;
    while (start < buf.length) {
      let next: number | undefined;
      if (this.overlong) next = this.skipOverlong(batch, start, final);
      else {
        this.separator ??= this.detectSeparator(buf, final);
        next = this.separator === undefined ? undefined : this.nextRecord(batch, start, final);
      }
      if (next === undefined) break;
      start = next;
    }
    this.carry = Buffer.from(buf.subarray(start));
    return batch;
  }

  /** The first line break decides: LF, CRLF (split at LF, the CR dropped) or CR alone. */
  private detectSeparator(buf: Buffer, final: boolean): number | undefined {
    const lf = buf.indexOf(LF);
    const cr = buf.indexOf(CR);
    if (cr === -1 || (lf !== -1 && lf < cr)) {
      // No break yet: wait for one, unless the bytes end or the first line is already over the limit.
      return lf !== -1 || final || buf.length > this.maxBytes ? LF : undefined;
    }
    if (cr + 1 === buf.length && !final) return undefined;
    this.crlf = buf[cr + 1] === LF;
    return this.crlf ? LF : CR;
  }

  /** Finds the record at `start`; returns where the next one starts, or undefined when more bytes are needed. */
  private nextRecord(batch: RecordBatch, start: number, final: boolean): number | undefined {
    const { buf } = batch;
    const scan = this.scanRecord(buf, start, final);
    const end = scan.end === -1 ? buf.length : scan.end;
    if (end - start > this.maxBytes)
      return this.breaks(buf, start, end) > 0
        ? this.recover(batch, start, end, 'limit')
        : this.beginOverlong(buf, start);
    if (scan.end === -1 && !final) return undefined;
    if (scan.open) return this.recover(batch, start, end, 'end of file');
    const breaks = scan.quoted ? this.breaks(buf, start, end) : 0;
    if (breaks > 0 && !this.isRecord(buf, start, end)) return this.recover(batch, start, end, 'no parse');
    this.emit(batch, start, end, breaks);
    return end + 1;
  }

  /** Where the record at `start` ends, following quoted fields (a quote elsewhere is data, for the parser). */
  private scanRecord(buf: Buffer, start: number, final: boolean): RecordScan {
    const separator = this.separator!;
    let quoted = false;
    for (let i = start; ;) {
      const end = buf.indexOf(separator, i);
      let quote = this.nextQuote(buf, i);
      while (quote !== -1 && (end === -1 || quote < end) && !this.opensField(buf, start, quote))
        quote = this.nextQuote(buf, quote + 1);
      if (quote === -1 || (end !== -1 && end < quote)) return { end, quoted, open: false };
      quoted = true;
      const close = this.closingQuote(buf, quote + 1, final);
      if (close === -1) return { end: -1, quoted, open: true };
      i = close + 1;
    }
  }

  private nextQuote(buf: Buffer, from: number): number {
    if (from < this.quoteFrom || (this.quoteAt !== -1 && this.quoteAt < from)) {
      this.quoteAt = buf.indexOf(QUOTE, from);
      this.quoteFrom = from;
    }
    return this.quoteAt;
  }

  private opensField(buf: Buffer, start: number, quote: number): boolean {
    const d = this.delimiter;
    return (
      quote === start ||
      (quote - start >= d.length && buf.compare(d, 0, d.length, quote - d.length, quote) === 0)
    );
  }

  /** The quote that closes a field whose text starts at `from` ("" inside is one quote), or -1 if the bytes end first. */
  private closingQuote(buf: Buffer, from: number, final: boolean): number {
    for (let q = this.nextQuote(buf, from); q !== -1; q = this.nextQuote(buf, q + 2)) {
      if (q + 1 === buf.length) return final ? q : -1;
      if (buf[q + 1] !== QUOTE) return q;
    }
    return -1;
  }

  /**
   * A broken quote from `start`: the lines up to the first that parses as a record on its own (within the
   * line-length limit) are one bad record, and splitting starts again at that line. Why the quote is broken:
   * the record it makes does not parse, it is open at the end of the file, or the record runs past the limit.
   */
  private recover(
    batch: RecordBatch,
    start: number,
    end: number,
    why: 'no parse' | 'end of file' | 'limit',
  ): number {
    const { buf } = batch;
    const separator = this.separator!;
    let lastBreak = -1;
    for (let b = buf.indexOf(separator, start); b !== -1 && b < Math.min(end, start + this.maxBytes);) {
      lastBreak = b;
      const next = buf.indexOf(separator, b + 1);
      // A line still arriving cannot be judged (the end of the file ends the last line).
      if (next === -1 && why !== 'end of file') break;
      if (this.isRecord(buf, b + 1, next === -1 ? buf.length : next))
        return this.setApart(batch, start, b, 'is not closed where its record should end');
      b = next;
    }
    if (why === 'no parse') {
      // Its quotes close, and no line in it is a record: one bad record, and the parser says why.
      this.emit(batch, start, end, this.breaks(buf, start, end));
      return end + 1;
    }
    if (why === 'end of file') {
      const stop = buf[end - 1] === separator ? end - 1 : end;
      return this.setApart(batch, start, stop, 'is never closed', true);
    }
    if (lastBreak === -1) return this.beginOverlong(buf, start);
    return this.setApart(
      batch,
      start,
      lastBreak,
      `runs past the line-length limit of ${this.maxBytes} bytes`,
    );
  }

  /** Sets [start, end) apart as a broken quote's span; returns where splitting starts again. */
  private setApart(batch: RecordBatch, start: number, end: number, what: string, toEnd = false): number {
    const first = this.line;
    const last = first + this.breaks(batch.buf, start, end);
    const next = toEnd ? ', to the end of the file' : `, the next record starts on line ${last + 1}`;
    batch.setApart.set(batch.starts.length, {
      reason: `a quoted field opened on line ${first} ${what}: lines ${first}..${last} quarantined${next}`,
    });
    this.emit(batch, start, end, last - first);
    return end + 1;
  }

  private beginOverlong(buf: Buffer, start: number): number {
    this.overlong = { kept: Buffer.from(buf.subarray(start, start + this.maxBytes)) };
    return start + this.maxBytes;
  }

  /** Drops the rest of an over-long line; at its end, records it with the bytes kept. */
  private skipOverlong(batch: RecordBatch, start: number, final: boolean): number | undefined {
    const end = batch.buf.indexOf(this.separator!, start);
    if (end === -1 && !final) return batch.buf.length;
    const { kept } = this.overlong!;
    this.overlong = undefined;
    const at = end === -1 ? batch.buf.length : end;
    batch.setApart.set(batch.starts.length, {
      reason: `longer than the line-length limit of ${this.maxBytes} bytes (the first ${this.maxBytes} are kept)`,
      bytes: kept,
    });
    this.emit(batch, at, at, 0);
    return at + 1;
  }

  /** Adds the record [start, end) spanning `breaks` line breaks. */
  private emit(batch: RecordBatch, start: number, end: number, breaks: number): void {
    const stop = this.crlf && end > start && batch.buf[end - 1] === CR ? end - 1 : end;
    if (this.fieldCount === undefined && stop > start) {
      const header = splitFields(batch.buf.toString('utf8', start, stop), this.delimiterText);
      if (typeof header !== 'string') this.fieldCount = header.length;
    }
    batch.starts.push(start);
    batch.ends.push(stop);
    batch.lines.push(this.line);
    batch.lastLines.push(this.line + breaks);
    this.line += breaks + 1;
  }

  /** Whether [start, end) is one line with the record's number of fields. */
  private isRecord(buf: Buffer, start: number, end: number): boolean {
    const stop = this.crlf && end > start && buf[end - 1] === CR ? end - 1 : end;
    if (stop === start) return false;
    const fields = splitFields(buf.toString('utf8', start, stop), this.delimiterText);
    return typeof fields !== 'string' && (this.fieldCount === undefined || fields.length === this.fieldCount);
  }

  private breaks(buf: Buffer, start: number, end: number): number {
    let n = 0;
    for (
      let i = buf.indexOf(this.separator!, start);
      i !== -1 && i < end;
      i = buf.indexOf(this.separator!, i + 1)
    )
      n++;
    return n;
  }
}
