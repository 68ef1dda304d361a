// What every engine's table export shares: the check of a table name that comes from a notebook, the catalog
// lookup rule (the name as written, then in lower case), the answer when there is no such table, and rows of
// text → CSV. Each engine's export.ts writes its catalog query, its type mapping and how rows are read.
import { csvChunks, csvLine } from './csv-line.ts';
import { checkIdentifier } from './identifiers.ts';
import type { ExportColumn, Statement, TableExport, TableName } from './types.ts';

/** Runs a catalog query on the store. */
export type CatalogQuery = (statement: Statement) => Promise<Record<string, unknown>[]>;

/** A table found in the catalog, with its columns as DuckDB types. */
export interface FoundTable {
  schema: string;
  name: string;
  columns: ExportColumn[];
}

/** Table names come from notebook text: only plain identifiers reach the SQL, quoted besides. */
export function checkTableName(table: TableName): TableName {
  if (table.schema !== undefined) checkIdentifier(table.schema, 'schema');
  checkIdentifier(table.name, 'table');
  return table;
}

export function tableLabel(schema: string | undefined, name: string): string {
  return schema === undefined ? name : `${schema}.${name}`;
}

/** One column of a table as the catalog query returns it (with the table as the catalog spells it). */
export interface CatalogRow {
  table_schema: string;
  table_name: string;
}

/**
 * The catalog rows of a table: the name as written first, then folded to lower case (as PostgreSQL folds
 * unquoted names, and as a notebook written for SQL Server's case-insensitive names may spell them). Where the
 * engine compares names without case, the exact spelling wins; two tables differing only in case are an error.
 * Returns undefined when no table matches.
 */
export async function lookUpTable<R extends CatalogRow>(
  table: { schema?: string; name: string },
  lookup: (schema: string | undefined, name: string) => Promise<R[]>,
): Promise<R[] | undefined> {
  const lower = { schema: table.schema?.toLowerCase(), name: table.name.toLowerCase() };
  const spellings = lower.schema === table.schema && lower.name === table.name ? [table] : [table, lower];
  for (const t of spellings) {
    const rows = await lookup(t.schema, t.name);
    if (!rows.length) continue;
    const exact = rows.filter(
      (r) => r.table_name === t.name && (t.schema === undefined || r.table_schema === t.schema),
    );
    if (exact.length) return exact;
    const found = [...new Set(rows.map((r) => tableLabel(r.table_schema, r.table_name)))];
    if (found.length === 1) return rows;
    throw new Error(
      `table ${tableLabel(t.schema, t.name)}: ${found.join(' and ')} all match; name one with its exact case`,
    );
  }
  return undefined;
}

/**
 * A notebook's table (no schema: `defaultSchema`) as the catalog spells it, with its catalog rows, found by
 * lookUpTable; `columnsQuery` is the engine's catalog query, `where` names the store in the error when there is
 * no such table.
 */
export async function findCatalogTable<R extends CatalogRow>(
  query: CatalogQuery,
  table: TableName,
  defaultSchema: string | undefined,
  where: string,
  columnsQuery: (schema: string | undefined, name: string) => Statement,
): Promise<{ schema: string; name: string; rows: R[] }> {
  checkTableName(table);
  const schema = table.schema ?? defaultSchema;
  const rows = await lookUpTable(
    { schema, name: table.name },
    async (s, n) => (await query(columnsQuery(s, n))) as unknown as R[],
  );
  if (!rows)
    throw new Error(
      `table ${tableLabel(schema, table.name)} does not exist in ${where} (no table or view of that name)`,
    );
  return { schema: rows[0]!.table_schema, name: rows[0]!.table_name, rows };
}

/** The export of a found table: its name as the catalog spells it, its columns, and its rows as CSV. */
export function tableExport(found: FoundTable, csv: AsyncIterable<Buffer>): TableExport {
  return {
    table: { schema: found.schema, name: found.name },
    columns: found.columns.map(({ name, type }) => ({ name, type })),
    csv,
  };
}

export function unmappedType(column: string, engine: string, type: string, supported: string): Error {
  return new Error(
    `column ${column} has ${engine} type ${type}, which the extraction does not map to DuckDB (supported: ${supported})`,
  );
}

/**
 * CSV from rows whose values the engine's SELECT has already turned into text (see each engine's export
 * query), so that the text is the server's own: exact decimals, ISO dates, shortest round-trip doubles.
 */
export async function* textRowsToCsv(
  columns: readonly ExportColumn[],
  rows: AsyncIterable<unknown[]>,
): AsyncGenerator<Buffer> {
  yield Buffer.from(csvLine(columns.map((c) => c.name)));
  yield* csvChunks(asBatches(columns, rows), { rows: 0 });
}

async function* asBatches(
  columns: readonly ExportColumn[],
  rows: AsyncIterable<unknown[]>,
): AsyncGenerator<(string | null)[][]> {
  for await (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      if (value !== null && typeof value !== 'string')
        throw new Error(
          `column ${columns[i]?.name ?? i}: expected text from the export query, found ${typeof value}`,
        );
    }
    yield [row as (string | null)[]];
  }
}
