// Running the app's SQL on DuckDB: `:name` markers become DuckDB's `$name`, and values come back in the form
// the warehouse client gives them (64-bit integers as numbers, dates as Dates), so both sources agree.
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
// The warehouse client's own conversion, so that both sources give values in the same form.
import { fromDuckDB } from '../../src/databricks/sql.ts';
import type { SourceParam, SourceRow } from '../source.ts';
import { SourceError } from '../source.ts';

/** `:name` → `$name` outside string literals, quoted identifiers and comments; `::` casts are left alone. */
export function duckdbMarkers(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length;) {
    const c = sql[i] as string;
    if (c === "'" || c === '"') {
      const end = closing(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === ':' && sql[i + 1] === ':') {
      out += '::';
      i += 2;
    } else if (c === ':' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      out += '$';
      i += 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

function closing(sql: string, start: number, quote: string): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  return sql.length;
}

/** Only the markers the statement uses: DuckDB rejects a named parameter the statement does not have. */
function usedParams(sql: string, params: Record<string, SourceParam>): Record<string, SourceParam> {
  const used: Record<string, SourceParam> = {};
  for (const [name, value] of Object.entries(params)) {
    if (new RegExp(`\\$${name}\\b`).test(sql)) used[name] = value;
  }
  return used;
}

/**
 * A few connections to one DuckDB instance, each running one statement at a time, so that concurrent requests
 * run in parallel. Views created on one are seen by all (they live in the database, not the connection).
 */
export class DuckDBPool {
  private readonly idle: DuckDBConnection[] = [];
  private readonly busy = new Set<DuckDBConnection>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly waiting: { resolve: (c: DuckDBConnection) => void; reject: (e: Error) => void }[] = [];
  private readonly all: DuckDBConnection[] = [];
  private closed = false;
  readonly instance: DuckDBInstance;

  private constructor(instance: DuckDBInstance) {
    this.instance = instance;
  }

  static async open(instance: DuckDBInstance, size: number): Promise<DuckDBPool> {
    const pool = new DuckDBPool(instance);
    for (let i = 0; i < size; i++) {
      const connection = await instance.connect();
      pool.all.push(connection);
      pool.idle.push(connection);
    }
    return pool;
  }

  async use<T>(task: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) throw new SourceError('query', 'the DuckDB source is closed');
    const connection =
      this.idle.pop() ??
      (await new Promise<DuckDBConnection>((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.busy.add(connection);
    const run = task(connection);
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
      this.busy.delete(connection);
      const next = this.waiting.shift();
      if (next) next.resolve(connection);
      else this.idle.push(connection);
    }
  }

  async query(sql: string, params: Record<string, SourceParam> = {}): Promise<SourceRow[]> {
    const text = duckdbMarkers(sql);
    return this.use(async (connection) => {
      try {
        const reader = await connection.runAndReadAll(text, usedParams(text, params));
        return reader.getRowObjectsJS().map((row) => fromDuckDB(row) as SourceRow);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new SourceError('query', `DuckDB: ${message}\n  in: ${oneLine(sql)}`, { cause: error });
      }
    });
  }

  /**
   * Drops queued queries, interrupts running ones, waits for them to stop and closes the connections (a query
   * still running in DuckDB's threads would keep the process from exiting).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) {
      waiter.reject(new SourceError('query', 'the DuckDB source closed before the query could run'));
    }
    for (const connection of this.busy) connection.interrupt();
    await Promise.allSettled([...this.running]);
    for (const connection of this.all) connection.closeSync();
    this.all.length = 0;
    this.idle.length = 0;
  }
}

export function oneLine(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
