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

/** Bytes per chunk handed to a socket: large enough to keep the bulk path busy, small enough to stay bounded. */
const CHUNK_BYTES = 256 * 1024;

/** Rows → CSV text in chunks of about CHUNK_BYTES; `counter.rows` counts the rows written so far. */
export async function* csvChunks(
  rows: AsyncIterable<(string | null)[]>,
  counter: { rows: number },
  nullText = '',
): AsyncGenerator<Buffer> {
  let parts: string[] = [];
  let length = 0;
  for await (const row of rows) {
    const line = csvLine(row, nullText);
    parts.push(line);
    length += line.length;
    counter.rows++;
    if (length >= CHUNK_BYTES) {
      yield Buffer.from(parts.join(''));
      parts = [];
      length = 0;
    }
  }
  if (parts.length) yield Buffer.from(parts.join(''));
}
