// What a write must check before it writes a file: the writer version this module supports, column names a
// table without column mapping allows, the table's append-only property, NOT NULL columns and column
// invariants (writer version 2 duties), and that a query reading the table read its latest version.
import type { DuckDBConnection } from '@duckdb/node-api';
import { SUPPORTED_WRITER_VERSION } from '../actions.ts';
import type { StructType } from '../schema.ts';
import { quoteIdent } from '../schema.ts';
import type { Snapshot } from '../snapshot.ts';
import { ConcurrentModificationError } from './commit.ts';

export function checkWritable(snapshot: Snapshot): void {
  if (snapshot.protocol.minWriterVersion > SUPPORTED_WRITER_VERSION) {
    throw new Error(
      `${snapshot.storage.location}: the table needs Delta writer version ${snapshot.protocol.minWriterVersion}; ` +
        `this module writes version ${SUPPORTED_WRITER_VERSION} tables only`,
    );
  }
}

export function checkNames(columns: { name: string }[], where: string): void {
  const seen = new Set<string>();
  for (const c of columns) {
    const key = c.name.toLowerCase();
    if (seen.has(key))
      throw new Error(`${where}: column "${c.name}" appears twice (Delta column names are case-insensitive)`);
    if (/[ ,;{}()\n\t=]/.test(c.name)) {
      throw new Error(
        `${where}: column "${c.name}" has a character (space ,;{}()=) that Delta tables without column mapping do not allow`,
      );
    }
    seen.add(key);
  }
}

/** Writer version 2: a table with delta.appendOnly = true only takes appends. */
export function checkNotAppendOnly(snapshot: Snapshot, operation: string): void {
  if (snapshot.property('delta.appendOnly')?.toLowerCase() === 'true') {
    throw new Error(
      `${snapshot.storage.location} is append-only (delta.appendOnly = true): ${operation} would remove data; only appends are allowed`,
    );
  }
}

/**
 * A query that read this table (at `readVersion`) must not be written over a newer version: it would replace
 * rows it never saw. Checked before any file is written; the commit checks again.
 */
export function checkReadVersion(
  existing: Snapshot | undefined,
  readVersion: number | undefined,
  where: string,
) {
  const current = existing?.version ?? -1;
  if (readVersion === undefined || current === readVersion) return;
  throw new ConcurrentModificationError(
    `${where}: concurrent commit: the query read version ${readVersion}, but the table is at version ` +
      `${current} now. Re-read the table and run the operation again.`,
    readVersion,
    readVersion + 1,
    current,
  );
}

/**
 * Writer version 2: NOT NULL columns and column invariants (field metadata `delta.invariants`, a SQL boolean
 * expression) must hold for every row written. `relation` is SQL giving the rows with the table's column names.
 */
export async function checkInvariants(
  conn: DuckDBConnection,
  relation: string,
  schema: StructType,
  where: string,
): Promise<void> {
  const checks: { sql: string; what: string }[] = [];
  for (const field of schema.fields) {
    if (!field.nullable)
      checks.push({
        sql: `${quoteIdent(field.name)} IS NOT NULL`,
        what: `column "${field.name}" is NOT NULL`,
      });
    const invariant = field.metadata['delta.invariants'];
    if (typeof invariant === 'string') {
      const expression = (JSON.parse(invariant) as { expression?: { expression?: string } }).expression
        ?.expression;
      if (expression)
        checks.push({ sql: `(${expression})`, what: `invariant of column "${field.name}": ${expression}` });
    }
  }
  if (checks.length === 0) return;
  const counts = checks
    .map((c, i) => `count(*) FILTER (WHERE NOT coalesce(${c.sql}, false)) AS v${i}`)
    .join(', ');
  const row = (await conn.runAndReadAll(`SELECT ${counts} FROM (${relation}) AS __delta_rows`)).getRows()[0]!;
  checks.forEach((c, i) => {
    if (Number(row[i]) > 0)
      throw new Error(`${where}: ${Number(row[i])} rows break the ${c.what}; nothing was written`);
  });
}
