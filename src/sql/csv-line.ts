import type { ColumnConfig } from '../config/schema.ts';
import type { RowBatches } from './types.ts';

/** How the bulk CSV is written: NULL's text, and which values need no quotes (by position in the row). */
export interface CsvShape {
  nullText?: string;
  plain?: readonly boolean[];
}

/**
 * One row in the CSV form the engines' bulk paths read: values quoted, so that an empty string stays an empty
 * string, and NULL written unquoted: as an empty field for PostgreSQL's COPY (FORMAT csv), as the word NULL for
 * MySQL's LOAD DATA (… ENCLOSED BY '"' ESCAPED BY ''). A value `plain` marks goes without quotes (fewer bytes
 * for the engine to read).
 */
export function csvLine(values: readonly (string | null)[], shape: CsvShape = {}): string {
  const { nullText = '', plain } = shape;
  let line = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i) line += ',';
    if (v === null || v === undefined) line += nullText;
    else if (plain?.[i]) line += v;
    else line += `"${v.includes('"') ? v.replace(/"/g, '""') : v}"`;
  }
  return line + '\n';
}

/** A text that reads back the same without quotes: not empty, not the word NULL, no quote, comma, CR, LF or backslash. */
export function isPlainText(text: string): boolean {
  return text !== '' && text !== 'NULL' && !/[",\r\n\\]/.test(text);
}

/**
 * Which values of an append's rows go unquoted: the typed columns' (the parser normalises them to digits,
 * signs, dots, dashes, colons and letters, never empty), the object name where it is plain text (when the rows
 * carry it), and the line number. Text columns stay quoted: any text may need it.
 */
export function appendPlainValues(columns: readonly ColumnConfig[], objectName?: string): boolean[] {
  const plain = columns.map((c) => c.type !== 'string');
  if (objectName !== undefined) plain.push(isPlainText(objectName));
  plain.push(true);
  return plain;
}

/**
 * Characters per chunk handed to a socket: enough to keep the bulk path busy, few enough that the lines of a
 * chunk die young (larger chunks get their lines promoted out of the young generation, and GC time doubles).
 */
const CHUNK_CHARS = 64 * 1024;

/** Rows → CSV text in chunks of about CHUNK_CHARS; `counter.rows` counts the rows written so far. */
export async function* csvChunks(
  rows: RowBatches,
  counter: { rows: number },
  shape: CsvShape = {},
): AsyncGenerator<Buffer> {
  let chunk = '';
  for await (const batch of rows)
    for (const row of batch) {
      chunk += csvLine(row, shape);
      counter.rows++;
      if (chunk.length >= CHUNK_CHARS) {
        yield Buffer.from(chunk);
        chunk = '';
      }
    }
  if (chunk) yield Buffer.from(chunk);
}
