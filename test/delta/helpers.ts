import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export async function newConnection(): Promise<DuckDBConnection> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  // Instants print in UTC whatever the machine's zone is.
  await conn.run("SET TimeZone = 'UTC'");
  return conn;
}

/** Rows of `sql` as JSON strings (DuckDB's JSON rendering keeps the type visible: BIGINT as "1", INTEGER as 1), sorted. */
export async function rowsOf(conn: DuckDBConnection, sql: string): Promise<string[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader
    .getRowObjectsJson()
    .map((r) => JSON.stringify(r))
    .sort();
}

export async function scalar(conn: DuckDBConnection, sql: string): Promise<unknown> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowsJson()[0]?.[0];
}

const created: string[] = [];
process.on('exit', () => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  created.push(dir);
  return dir;
}

/** Copies a fixture table to a temporary folder (tests never write under ../shared). */
export function copyTable(from: string): string {
  const to = tempDir('delta-fixture');
  fs.cpSync(from, to, { recursive: true });
  return to;
}
