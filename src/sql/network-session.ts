// What the three network engines (pg, mysql2, mssql) share: one connection per session, opened lazily and
// reopened with backoff when it was lost — but only outside a transaction. Inside one, a lost connection
// fails the statement (and so the object, which the server rolls back); the next object reconnects.
import { errorMessage } from '../util/log.ts';
import { registerSecret } from '../util/secrets.ts';
import { tableExport, type FoundTable } from './export-common.ts';
import { isTransient, withRetry, type RetryOptions } from './retry.ts';
import type {
  LoadDialect,
  RowBatches,
  SqlEngine,
  SqlSession,
  SqlValue,
  StagingTable,
  Statement,
  TableExport,
  TableName,
} from './types.ts';

export interface SessionOptions {
  /** Rows per bulk batch, where the engine's bulk path works in batches. */
  batchRows?: number;
  retry?: RetryOptions;
}

export interface RunResult {
  rows: Record<string, unknown>[];
  count: number;
}

/** C: the driver's connection; T: a table found for export, as the engine's export.ts describes it. */
export abstract class NetworkSession<C, T extends FoundTable> implements SqlSession {
  abstract readonly engine: SqlEngine;
  abstract readonly dialect: LoadDialect;
  readonly description: string;
  protected readonly options: SessionOptions;
  private connection: C | undefined;
  private lost = false;
  private inTransaction = false;

  constructor(description: string, options: SessionOptions) {
    this.description = description;
    this.options = options;
  }

  protected abstract connect(): Promise<C>;
  protected abstract disconnect(connection: C): Promise<void>;
  protected abstract run(connection: C, sql: string, params: SqlValue[]): Promise<RunResult>;
  protected abstract startTransaction(connection: C): Promise<void>;
  protected abstract endTransaction(connection: C, outcome: 'commit' | 'rollback'): Promise<void>;
  protected abstract copy(connection: C, table: StagingTable, rows: RowBatches): Promise<number>;
  /** The table to export, found in the catalog (a notebook names it). */
  protected abstract findTable(table: TableName): Promise<T>;
  /** The found table's rows as CSV, read over the connection. */
  protected abstract readTable(connection: C, table: T): AsyncIterable<Buffer>;

  /** Opens the connection now (with retries), so that a wrong address or password shows before any work. */
  async open(): Promise<this> {
    await this.withConnection('connecting', async () => undefined);
    return this;
  }

  async query<T = Record<string, unknown>>(statement: Statement | string): Promise<T[]> {
    const { sql, params } = unpack(statement);
    return (await this.withConnection('query', (c) => this.run(c, sql, params))).rows as T[];
  }

  async execute(statement: Statement | string): Promise<number> {
    const { sql, params } = unpack(statement);
    return (await this.withConnection('statement', (c) => this.run(c, sql, params))).count;
  }

  async begin(): Promise<void> {
    await this.withConnection('starting a transaction', (c) => this.startTransaction(c));
    this.inTransaction = true;
  }

  async commit(): Promise<void> {
    await this.finish('commit');
  }

  async rollback(): Promise<void> {
    await this.finish('rollback');
  }

  async bulkLoad(table: StagingTable, rows: RowBatches): Promise<number> {
    return this.withConnection('bulk load', (c) => this.copy(c, table, rows));
  }

  async exportTable(table: TableName): Promise<TableExport> {
    const found = await this.findTable(table);
    return tableExport(
      found,
      this.streamFrom('export', (connection) => this.readTable(connection, found)),
    );
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await this.disconnect(connection).catch(() => undefined);
  }

  /**
   * Streams what `produce` reads over the connection (opened with retries first). A stream that fails or is
   * abandoned midway leaves the connection in an unknown state (mid-COPY, rows unread): the next statement
   * opens a new one.
   */
  protected async *streamFrom<T>(what: string, produce: (c: C) => AsyncIterable<T>): AsyncGenerator<T> {
    if (this.inTransaction)
      throw new Error(`${this.description}: ${what} cannot run inside a transaction (a load is under way)`);
    const connection = await this.withConnection(what, async (c) => c);
    let done = false;
    try {
      yield* produce(connection);
      done = true;
    } finally {
      if (!done) this.markLost();
    }
  }

  private async finish(outcome: 'commit' | 'rollback'): Promise<void> {
    this.inTransaction = false;
    // A lost connection has already rolled back on the server; there is nothing to end.
    if (this.lost && outcome === 'rollback') return;
    await this.withConnection(outcome, (c) => this.endTransaction(c, outcome), true);
  }

  /**
   * Runs `work` on the connection. Outside a transaction a lost or refused connection is reopened and the
   * work retried with backoff; inside one (or when `once`), a failure is final.
   */
  protected async withConnection<T>(what: string, work: (c: C) => Promise<T>, once = false): Promise<T> {
    if (this.inTransaction || once) {
      if (!this.connection || this.lost)
        throw new Error(`${this.description}: the connection was lost during the transaction`);
      return this.guard(what, this.connection, work);
    }
    return withRetry(
      `${what} on ${this.description}`,
      async () => {
        if (!this.connection || this.lost) await this.reconnect();
        return this.guard(what, this.connection!, work);
      },
      this.options.retry,
    );
  }

  private async guard<T>(what: string, connection: C, work: (c: C) => Promise<T>): Promise<T> {
    try {
      return await work(connection);
    } catch (e) {
      if (!isTransient(e)) throw e;
      this.lost = true;
      if (!this.inTransaction) throw e;
      throw new Error(
        `${this.description}: the connection was lost during the transaction (${what}: ${errorMessage(e)}); the server rolls it back`,
        { cause: e },
      );
    }
  }

  private async reconnect(): Promise<void> {
    const old = this.connection;
    this.connection = undefined;
    if (old) await this.disconnect(old).catch(() => undefined);
    this.connection = await this.connect();
    this.lost = false;
  }

  /** Drivers report a dropped idle connection as an event; the next use reconnects. */
  protected markLost(): void {
    this.lost = true;
  }
}

/** The open function of a session class: a new session, connected (with retries) before it is returned. */
export function opener<Target, Options, S extends { open(): Promise<S> }>(
  Session: new (target: Target, options?: Options) => S,
): (target: Target, options?: Options) => Promise<S> {
  return async (target, options) => new Session(target, options).open();
}

function unpack(statement: Statement | string): Statement {
  return typeof statement === 'string' ? { sql: statement, params: [] } : statement;
}

/** A description of a server that is safe to print: engine, user, host, port and database, never a password. */
export function describeServer(
  engine: string,
  p: { user?: string; host?: string; port?: number; database?: string },
): string {
  return `${engine} ${p.user ? `${p.user}@` : ''}${p.host ?? 'localhost'}${p.port ? `:${p.port}` : ''}${p.database ? `/${p.database}` : ''}`;
}

/** Registers the password (wherever it came from) so that no log or error can show it. */
export function protect(password: string | undefined): void {
  registerSecret(password);
}

/** Parses a connection URL without ever putting it (it may hold a password) into an error. */
export function parseUrl(connection: string, example = 'postgres://user:password@host:5432/database'): URL {
  try {
    return new URL(connection);
  } catch {
    throw new Error(
      `sql.connection: expected a URL like ${example} (the value is not shown: it may hold a password)`,
    );
  }
}
