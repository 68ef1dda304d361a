// A PostgreSQL server through `pg`: an append goes straight into the target, and staging is filled, with COPY …
// FROM STDIN, streamed (pg-copy-streams); the statements are PostgresDialect's, the same as PGlite's.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { SqlTargetConfig } from '../../config/schema.ts';
import { appendPlainValues, csvChunks, type CsvShape } from '../csv-line.ts';
import {
  describeServer,
  NetworkSession,
  opener,
  parseUrl,
  protect,
  type RunResult,
  type SessionOptions,
} from '../network-session.ts';
import { PostgresDialect } from './dialect.ts';
import { findPostgresTable, POSTGRES_EXPORT_SETTINGS, postgresCopy, type PostgresTable } from './export.ts';
import type { LoadTables, RowBatches, SqlValue, StagingTable, TableName } from '../types.ts';

type PostgresTarget = Extract<SqlTargetConfig, { engine: 'postgres' }>;

export class PostgresSession extends NetworkSession<pg.Client, PostgresTable> {
  readonly engine = 'postgres' as const;
  readonly dialect: PostgresDialect;
  private readonly config: pg.ClientConfig;

  constructor(target: PostgresTarget, options: SessionOptions = {}) {
    const config = clientConfig(target);
    super(describeServer('PostgreSQL', { ...config, user: config.user }), options);
    this.config = config;
    this.dialect = new PostgresDialect('postgres', target.schema ?? 'public');
  }

  protected async connect(): Promise<pg.Client> {
    const client = new pg.Client(this.config);
    // An idle connection the server drops is reported here; the next statement reconnects.
    client.on('error', () => this.markLost());
    try {
      await client.connect();
    } catch (e) {
      client.end().catch(() => undefined);
      throw e;
    }
    return client;
  }

  protected async disconnect(client: pg.Client): Promise<void> {
    await client.end();
  }

  protected async run(client: pg.Client, sql: string, params: SqlValue[]): Promise<RunResult> {
    const result = await client.query(sql, params);
    return { rows: result.rows as Record<string, unknown>[], count: result.rowCount ?? 0 };
  }

  protected async startTransaction(client: pg.Client): Promise<void> {
    await client.query('BEGIN');
  }

  protected async endTransaction(client: pg.Client, outcome: 'commit' | 'rollback'): Promise<void> {
    await client.query(outcome === 'commit' ? 'COMMIT' : 'ROLLBACK');
  }

  protected async copy(client: pg.Client, table: StagingTable, rows: RowBatches): Promise<number> {
    const q = (n: string) => this.dialect.quote(n);
    return copyIn(client, `${q(table.name)} (${table.columns.map(q).join(', ')})`, rows);
  }

  async appendRows(t: LoadTables, rows: RowBatches, objectName: string): Promise<number> {
    const plain = appendPlainValues(t.columns, objectName);
    return this.withConnection('bulk load', (client) =>
      copyIn(client, this.dialect.appendTarget(t), rows, { plain }),
    );
  }

  protected findTable(table: TableName): Promise<PostgresTable> {
    return findPostgresTable((q) => this.query(q), table, this.dialect.schema, this.description);
  }

  protected readTable(connection: pg.Client, table: PostgresTable): AsyncIterable<Buffer> {
    return copyOut(connection, table);
  }
}

/** A session on a PostgreSQL server. */
export const openPostgres = opener(PostgresSession);

/** COPY … FROM STDIN of rows written as CSV; returns the rows the server counted. */
async function copyIn(
  client: pg.Client,
  target: string,
  rows: RowBatches,
  shape: CsvShape = {},
): Promise<number> {
  const sink = client.query(copyFrom(`COPY ${target} FROM STDIN WITH (FORMAT csv)`));
  await pipeline(Readable.from(csvChunks(rows, { rows: 0 }, shape)), sink);
  return sink.rowCount;
}

/** COPY … TO STDOUT, streamed: pg-copy-streams reads from the socket only as fast as the consumer takes. */
async function* copyOut(client: pg.Client, table: PostgresTable): AsyncGenerator<Buffer> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    await client.query(POSTGRES_EXPORT_SETTINGS);
    for await (const chunk of client.query(copyTo(postgresCopy(table, { to: 'STDOUT' }))))
      yield chunk as Buffer;
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

interface ServerSettings {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
}

/**
 * Discrete settings override the connection string's (pg lets a connection string override discrete settings,
 * so they are written into the URL). The password is registered as a secret either way.
 */
function clientConfig(target: PostgresTarget): pg.ClientConfig & ServerSettings {
  const discrete: ServerSettings = {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
  };
  protect(target.password);
  if (!target.connection) return { ...definedOnly(discrete), application_name: 'actions-lakehouse' };
  const url = parseUrl(target.connection);
  protect(url.password === '' ? undefined : decodeURIComponent(url.password));
  if (discrete.host) url.hostname = discrete.host;
  if (discrete.port) url.port = String(discrete.port);
  if (discrete.user) url.username = encodeURIComponent(discrete.user);
  if (discrete.password !== undefined) url.password = encodeURIComponent(discrete.password);
  if (discrete.database) url.pathname = `/${encodeURIComponent(discrete.database)}`;
  return {
    connectionString: url.toString(),
    host: url.hostname || undefined,
    port: url.port ? Number(url.port) : undefined,
    user: url.username ? decodeURIComponent(url.username) : undefined,
    database: url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined,
    application_name: 'actions-lakehouse',
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
