// SQL Server (Cloud SQL for SQL Server, Azure SQL) through `mssql` (tedious). Staging is filled through the TDS
// bulk-copy API (`request.bulk`) in batches of `batchRows`; every statement of a load runs on the transaction's
// one connection, which is also what keeps the #staging table visible from one statement to the next.
import sql from 'mssql';
import type { SqlTargetConfig } from '../../config/schema.ts';
import {
  describeServer,
  NetworkSession,
  opener,
  protect,
  type RunResult,
  type SessionOptions,
} from '../network-session.ts';
import { textRowsToCsv } from '../export-common.ts';
import { SqlServerDialect } from './dialect.ts';
import { findSqlServerTable, sqlServerExportQuery, type SqlServerTable } from './export.ts';
import type { RowBatches, SqlValue, StagingTable, TableName } from '../types.ts';

export type SqlServerTarget = Extract<SqlTargetConfig, { engine: 'sqlserver' }>;

interface Connection {
  pool: sql.ConnectionPool;
  transaction?: sql.Transaction;
}

/** Rows the export's stream buffers before it pauses the request. */
const EXPORT_BUFFER_ROWS = 1000;
/** A long statement (a MERGE of a large object) must not hit mssql's 15-second default. */
const REQUEST_TIMEOUT_MS = 30 * 60 * 1000;

export class SqlServerSession extends NetworkSession<Connection, SqlServerTable> {
  readonly engine = 'sqlserver' as const;
  readonly dialect: SqlServerDialect;
  private readonly config: sql.config;

  constructor(target: SqlServerTarget, options: SessionOptions = {}) {
    const { config, description } = sqlServerConfig(target);
    super(description, options);
    this.config = config;
    this.dialect = new SqlServerDialect(target.schema ?? 'dbo');
  }

  protected async connect(): Promise<Connection> {
    const pool = new sql.ConnectionPool(this.config);
    pool.on('error', () => this.markLost());
    await pool.connect();
    return { pool };
  }

  protected async disconnect(connection: Connection): Promise<void> {
    await connection.pool.close();
  }

  protected async run(connection: Connection, text: string, params: SqlValue[]): Promise<RunResult> {
    const request = this.request(connection);
    params.forEach((value, i) => request.input(`p${i + 1}`, sqlType(value), value));
    const result = await request.query(text);
    return {
      rows: (result.recordset ?? []) as Record<string, unknown>[],
      count: result.rowsAffected.reduce((a, b) => a + b, 0),
    };
  }

  protected async startTransaction(connection: Connection): Promise<void> {
    const transaction = new sql.Transaction(connection.pool);
    await transaction.begin();
    connection.transaction = transaction;
    // Any error aborts the whole transaction, not just the statement that raised it.
    await new sql.Request(transaction).batch('SET XACT_ABORT ON');
  }

  protected async endTransaction(connection: Connection, outcome: 'commit' | 'rollback'): Promise<void> {
    const transaction = connection.transaction;
    connection.transaction = undefined;
    if (transaction) await (outcome === 'commit' ? transaction.commit() : transaction.rollback());
  }

  protected async copy(connection: Connection, staging: StagingTable, rows: RowBatches): Promise<number> {
    const batchRows = this.options.batchRows ?? 10_000;
    let table = this.bulkTable(staging);
    let total = 0;
    const flush = async () => {
      if (!table.rows.length) return;
      const result = await this.request(connection).bulk(table);
      if (result.rowsAffected !== table.rows.length)
        throw new Error(
          `bulk copy wrote ${result.rowsAffected} rows into staging, expected ${table.rows.length}`,
        );
      total += table.rows.length;
      table = this.bulkTable(staging);
    };
    for await (const batch of rows)
      for (const row of batch) {
        table.rows.add(Number(row[0]), ...row.slice(1));
        if (table.rows.length >= batchRows) await flush();
      }
    await flush();
    return total;
  }

  protected findTable(table: TableName): Promise<SqlServerTable> {
    return findSqlServerTable((q) => this.query(q), table, this.dialect.schema, this.description);
  }

  protected readTable(connection: Connection, table: SqlServerTable): AsyncIterable<Buffer> {
    return exportRows(connection, table);
  }

  /** The staging table as the bulk-copy API sees it: the line number, then text columns (NVARCHAR(MAX)). */
  private bulkTable(staging: StagingTable): sql.Table {
    const table = new sql.Table(`#${staging.name}`);
    table.create = false;
    staging.columns.forEach((name, i) =>
      i === 0
        ? table.columns.add(name, sql.BigInt, { nullable: false })
        : table.columns.add(name, sql.NVarChar(sql.MAX), { nullable: true }),
    );
    return table;
  }

  private request(connection: Connection): sql.Request {
    return connection.transaction ? new sql.Request(connection.transaction) : connection.pool.request();
  }
}

/** A session on SQL Server. */
export const openSqlServer = opener(SqlServerSession);

/**
 * The rows as CSV. The request streams, paused while the stream's buffer is full; a stream destroyed early
 * lets the request run to its end (dropping the rows), so the connection goes back to the pool clean.
 */
async function* exportRows(connection: Connection, table: SqlServerTable): AsyncGenerator<Buffer> {
  const request = connection.pool.request();
  request.arrayRowMode = true;
  const rows = request.toReadableStream({ highWaterMark: EXPORT_BUFFER_ROWS });
  // In stream mode the request reports its errors through the stream; the promise only settles.
  request.query(sqlServerExportQuery(table)).catch(() => undefined);
  yield* textRowsToCsv(table.columns, rows);
}

function sqlType(value: SqlValue): sql.ISqlType | (() => sql.ISqlType) {
  if (typeof value === 'number') return Number.isInteger(value) ? sql.BigInt : sql.Float;
  if (typeof value === 'bigint') return sql.BigInt;
  if (typeof value === 'boolean') return sql.Bit;
  if (value instanceof Date) return sql.DateTime2(7);
  return sql.NVarChar(typeof value === 'string' && value.length > 4000 ? sql.MAX : 4000);
}

const AUTHENTICATION_TYPES = {
  sql: 'default',
  'azure-ad-default': 'azure-active-directory-default',
  'azure-ad-password': 'azure-active-directory-password',
  'azure-ad-service-principal': 'azure-active-directory-service-principal-secret',
} as const;

type ParsedConnectionString = sql.config & {
  authentication_type?: string;
  clientId?: string;
  clientSecret?: string;
  tenantId?: string;
};

/**
 * The mssql config from a connection string (ADO.NET form: `Server=tcp:host,1433;Database=…;User Id=…;
 * Password=…;Encrypt=true`) and/or discrete settings, which win. Azure AD: `authentication` picks the flow;
 * the service principal's secret is `password`. The description names server, database and user only.
 */
export function sqlServerConfig(target: SqlServerTarget): { config: sql.config; description: string } {
  const parsed: ParsedConnectionString = target.connection
    ? (sql.ConnectionPool.parseConnectionString(target.connection) as ParsedConnectionString)
    : { server: '' };
  const server = target.host ?? parsed.server;
  if (!server)
    throw new Error('sql: expected a SQL Server host (sql.host, or Server=… in sql.connection), found none');
  const user = target.user ?? parsed.user;
  const password = target.password ?? parsed.password;
  const clientId = target.clientId ?? parsed.clientId;
  const tenantId = target.tenantId ?? parsed.tenantId;
  protect(password);
  protect(parsed.password);
  protect(parsed.clientSecret);
  const type = target.authentication
    ? AUTHENTICATION_TYPES[target.authentication]
    : (connectionStringAuthentication(target.connection) ?? parsed.authentication_type ?? 'default');
  const authentication = authenticationFor(type, {
    user,
    password,
    clientId,
    tenantId,
    clientSecret: parsed.clientSecret,
  });
  const database = target.database ?? parsed.database;
  const port = target.port ?? parsed.port ?? 1433;
  const config: sql.config = {
    server,
    port,
    database,
    authentication,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: 30_000,
    // One connection: the load is one transaction at a time, and #staging lives on one connection.
    pool: { max: 1, min: 0, idleTimeoutMillis: 60_000 },
    options: {
      ...parsed.options,
      encrypt: target.encrypt ?? parsed.options?.encrypt ?? true,
      trustServerCertificate:
        target.trustServerCertificate ?? parsed.options?.trustServerCertificate ?? false,
      appName: 'actions-lakehouse',
    },
  };
  const who = type === 'default' || type === 'azure-active-directory-password' ? user : clientId;
  return { config, description: describeServer('SQL Server', { user: who, host: server, port, database }) };
}

/** ADO.NET's Authentication= names that mssql's parser does not know (it maps only Integrated and Password). */
const ADO_AUTHENTICATION: Record<string, string> = {
  'sql password': 'default',
  'active directory default': 'azure-active-directory-default',
  'active directory password': 'azure-active-directory-password',
  'active directory service principal': 'azure-active-directory-service-principal-secret',
};

function connectionStringAuthentication(connection: string | undefined): string | undefined {
  const value = connection && /(?:^|;)\s*authentication\s*=\s*([^;]*)/i.exec(connection)?.[1];
  return value ? ADO_AUTHENTICATION[value.trim().toLowerCase()] : undefined;
}

function authenticationFor(
  type: string,
  p: { user?: string; password?: string; clientId?: string; tenantId?: string; clientSecret?: string },
): sql.config['authentication'] {
  const missing = (what: string, authentication: string) =>
    new Error(`sql: authentication ${authentication} needs ${what}, found none`);
  switch (type) {
    case 'default':
      return { type: 'default', options: { userName: p.user, password: p.password } };
    case 'azure-active-directory-default':
      return { type: 'azure-active-directory-default', options: { clientId: p.clientId } };
    case 'azure-active-directory-password':
      if (!p.clientId) throw missing('clientId (the Entra ID application id)', 'azure-ad-password');
      if (!p.user || !p.password) throw missing('user and password', 'azure-ad-password');
      return {
        type: 'azure-active-directory-password',
        options: {
          userName: p.user,
          password: p.password,
          clientId: p.clientId,
          tenantId: p.tenantId ?? 'common',
        },
      };
    case 'azure-active-directory-service-principal-secret': {
      const secret = p.password ?? p.clientSecret;
      if (!p.clientId) throw missing('clientId (the application id)', 'azure-ad-service-principal');
      if (!p.tenantId) throw missing('tenantId', 'azure-ad-service-principal');
      if (!secret) throw missing('the client secret (sql.password)', 'azure-ad-service-principal');
      return {
        type: 'azure-active-directory-service-principal-secret',
        options: { clientId: p.clientId, tenantId: p.tenantId, clientSecret: secret },
      };
    }
    default:
      throw new Error(
        `sql: authentication ${type} from the connection string is not supported (expected SQL login or Active Directory Default/Password/Service Principal)`,
      );
  }
}
