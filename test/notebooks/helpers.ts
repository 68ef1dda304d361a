// Shared set-up for the notebook tests: a PGlite store shaped as the load stage leaves it
// (`transactions` with lineage, `lakehouse_load_audit`), and a DuckDB connection.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { PGlite } from '@electric-sql/pglite';
import { createStoreSource, type SqlSource } from '../../src/notebooks/sql-source.ts';
import { PgliteSession } from '../../src/sql/postgres/pglite.ts';
import { repoRoot, sharedDir } from '../helpers/services.ts';

export const groceriesDir = path.join(sharedDir, 'data/groceries');
export const notebooksDir = path.join(repoRoot, 'notebooks');
export const allNotebooks = fs
  .readdirSync(notebooksDir)
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => path.join(notebooksDir, f));

export const DATASET = 'groceries';
export const OBJECT_NAME = 'groceries/transactions.csv';

/** The original analysis (Apriori_rules.csv): support ≥ 0.001, lift ≥ 0.8, then confidence > 0.1. */
export const APRIORI_PARAMS = {
  dataset: DATASET,
  full_refresh: false,
  min_support: 0.001,
  max_len: 0,
  metric: 'lift',
  min_threshold: 0.8,
  confidence_above: 0.1,
} as const;

export async function openDuckDB(): Promise<{ conn: DuckDBConnection; close: () => void }> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  return {
    conn,
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

export async function createLoadedStore(): Promise<PGlite> {
  const db = new PGlite();
  await db.exec(`
    CREATE TABLE transactions (
      member_number BIGINT NOT NULL, txn_date DATE NOT NULL, item TEXT NOT NULL,
      _source_object TEXT, _source_line BIGINT);
    CREATE TABLE lakehouse_load_audit (
      dataset TEXT NOT NULL, bucket TEXT NOT NULL, object_name TEXT NOT NULL, generation BIGINT NOT NULL,
      md5 TEXT NOT NULL, rows_loaded BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL,
      loaded_at TIMESTAMPTZ NOT NULL DEFAULT now());`);
  return db;
}

/** The SQL store session around an in-memory PGlite (closing the session closes the database). */
export function pgliteSession(db: PGlite): PgliteSession {
  return new PgliteSession(db, '(in memory)', () => undefined);
}

/** Extraction from an in-memory PGlite, as the runner reads the configured store. */
export function pgliteSource(db: PGlite): SqlSource {
  return createStoreSource(pgliteSession(db));
}

/** Loads CSV text (header Member_number,Date,itemDescription) as one object, values untouched, and audits it. */
export async function loadCsv(
  db: PGlite,
  csv: string,
  objectName = OBJECT_NAME,
  dataset = DATASET,
): Promise<number> {
  await db.exec(`
    CREATE TEMP TABLE staging (line BIGINT GENERATED ALWAYS AS IDENTITY, member_number BIGINT, txn_date DATE, item TEXT)`);
  await db.query(
    `COPY staging (member_number, txn_date, item) FROM '/dev/blob' WITH (FORMAT csv, HEADER)`,
    [],
    {
      blob: new Blob([csv]),
    },
  );
  // Line 1 is the header.
  const inserted = await db.query(
    `INSERT INTO transactions SELECT member_number, txn_date, item, $1, line + 1 FROM staging`,
    [objectName],
  );
  await db.exec(`DROP TABLE staging`);
  const rows = inserted.affectedRows ?? 0;
  await db.query(
    `INSERT INTO lakehouse_load_audit (dataset, bucket, object_name, generation, md5, rows_loaded, rows_quarantined)
     VALUES ($1, 'file://test', $2, 1, 'md5', $3, 0)`,
    [dataset, objectName, rows],
  );
  return rows;
}

/** Parses the mlxtend CSV exports: frozenset({'a', 'b'}) sets and numeric metric columns. */
export function readRulesCsv(file: string): Array<Record<string, string>> {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const columns = splitCsvLine(header!);
  return lines.map((l) => Object.fromEntries(splitCsvLine(l).map((v, i) => [columns[i]!, v])));
}

function splitCsvLine(line: string): string[] {
  const values: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      const end = line.indexOf('"', i + 1);
      values.push(line.slice(i + 1, end));
      i = end + 2;
    } else {
      const end = line.indexOf(',', i) === -1 ? line.length : line.indexOf(',', i);
      values.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return values;
}

export function frozenset(text: string): string[] {
  const m = /^frozenset\(\{(.*)\}\)$/.exec(text);
  if (!m) throw new Error(`not a frozenset: ${text}`);
  return [...m[1]!.matchAll(/'([^']*)'/g)].map((x) => x[1]!);
}
