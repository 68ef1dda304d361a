import type { RowBatches } from './types.ts';

/**
 * One row in the CSV form the engines' bulk paths read: every value quoted, so that an empty string stays an
 * empty string, and NULL written unquoted: as an empty field for PostgreSQL's COPY (FORMAT csv), as the word
 * NULL for MySQL's LOAD DATA (… ENCLOSED BY '"' ESCAPED BY '').
 */
export function csvLine(values: readonly (string | null)[], nullText = ''): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i) line += ',';
    if (v !== null && v !== undefined) line += `"${v.includes('"') ? v.replace(/"/g, '""') : v}"`;
    else line += nullText;
  }
  return line + '\n';
}

/**
 * Characters per chunk handed to a socket: enough to keep the bulk path busy, few enough that the lines of a
 * chunk die young (larger chunks get their lines promoted out of the young generation, and GC time doubles).
 */
const CHUNK_CHARS = 64 * 1024;

/** Rows → CSV text in chunks of about `chunkChars`; `counter.rows` counts the rows written so far. */
export async function* csvChunks(
  rows: RowBatches,
  counter: { rows: number },
  nullText = '',
  chunkChars = CHUNK_CHARS,
): AsyncGenerator<Buffer> {
  let chunk = '';
  for await (const batch of rows)
    for (const row of batch) {
      chunk += csvLine(row, nullText);
      counter.rows++;
      if (chunk.length >= chunkChars) {
        yield Buffer.from(chunk);
        chunk = '';
      }
    }
  if (chunk) yield Buffer.from(chunk);
}
