// A small client for a Databricks SQL warehouse over @databricks/sql (Thrift over HTTPS): one connection and one
// session reused for every query, opened on first use and reopened when the warehouse forgets it; a timeout on
// every query; errors that say where and why but never carry the token.
//
// Values come back as DuckDB's JavaScript values do on the app's local path (`getRowObjectsJS()`), with 64-bit
// integers as numbers, so that both paths give identical rows:
//   - TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE: number (BIGINT beyond 2^53 loses precision);
//   - DECIMAL: number (as DuckDB gives; exact text is not kept, so keep money in cents if it must be exact);
//   - DATE: a Date at midnight UTC; TIMESTAMP: a Date in UTC, to the millisecond (microseconds truncated toward
//     zero, as DuckDB does);
//   - STRING: string; BOOLEAN: boolean; NULL: null;
//   - ARRAY, STRUCT, MAP: parsed JSON as Spark writes it (numbers, strings, booleans; dates inside them stay text).
// `fromDuckDB` applies the same rule to DuckDB's values, for the local path (both in ./sql-values.ts).
import { DBSQLClient } from '@databricks/sql';
import type { LogLevel } from '@databricks/sql';

import {
  columnTypes,
  normalizeRows,
  WarehouseError,
  type WarehouseParam,
  type WarehouseRow,
} from './sql-values.ts';

export * from './sql-values.ts';

type Session = Awaited<ReturnType<DBSQLClient['openSession']>>;

export interface WarehouseConfig {
  /** The workspace host name, e.g. adb-123.4.azuredatabricks.net (a leading https:// is dropped). */
  host: string;
  /** The warehouse's HTTP path, e.g. /sql/1.0/warehouses/abc123. */
  httpPath: string;
  token: string;
  /** Defaults to 443. */
  port?: number;
  /** Defaults to true; false accepts any certificate (only for a local test server). */
  checkServerCertificate?: boolean;
  /** Each query, connecting included, must finish within this (default 30 000 ms); then it is cancelled. */
  queryTimeoutMs?: number;
  /** Initial catalog and schema of the session (Unity Catalog names). */
  catalog?: string;
  schema?: string;
}

export interface Warehouse {
  /** Runs one statement; `:name` markers in `sql` take the values of `params` (bound, never spliced). */
  query<T = WarehouseRow>(sql: string, params?: Record<string, WarehouseParam>): Promise<T[]>;
  close(): Promise<void>;
}

const ENV_NAMES = ['DATABRICKS_HOST', 'DATABRICKS_HTTP_PATH', 'DATABRICKS_TOKEN'] as const;

/** Reads DATABRICKS_HOST, DATABRICKS_HTTP_PATH and DATABRICKS_TOKEN; an empty value counts as missing. */
export function warehouseConfigFromEnv(
  env: Record<string, string | undefined> = process.env,
): WarehouseConfig {
  const missing = ENV_NAMES.filter((name) => !env[name]?.trim());
  if (missing.length > 0) {
    const list = missing.join(', ');
    throw new Error(
      `missing environment variable${missing.length > 1 ? 's' : ''} ${list}: ` +
        `a Databricks SQL warehouse needs ${ENV_NAMES.join(', ')}`,
    );
  }
  return {
    host: (env.DATABRICKS_HOST as string).trim(),
    httpPath: (env.DATABRICKS_HTTP_PATH as string).trim(),
    token: (env.DATABRICKS_TOKEN as string).trim(),
  };
}

const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CLOSE_WAIT_MS = 5000;

/** Where and how to reach the warehouse, checked, with the token's scrubber for every message. */
interface Endpoint {
  host: string;
  port: number;
  path: string;
  timeoutMs: number;
  /** The warehouse's address, for messages. */
  where: string;
  scrub: (text: string) => string;
}

type Connection = { client: DBSQLClient; session: Session };

export function openWarehouse(config: WarehouseConfig): Warehouse {
  const endpoint = endpointOf(config);
  const { where, timeoutMs, scrub } = endpoint;
  const sessions = sessionCache(() => openSession(config, endpoint));
  let closed = false;

  const run = (sql: string, params: Record<string, WarehouseParam>) =>
    withTimeout(
      timeoutMs,
      `query did not finish within ${timeoutMs} ms on ${where}: ${snippet(sql)}`,
      (signal) => runStatement(sessions.connect, sql, params, signal, timeoutMs),
    );

  return {
    async query<T = WarehouseRow>(sql: string, params: Record<string, WarehouseParam> = {}): Promise<T[]> {
      if (closed) throw new WarehouseError('closed', `the connection to ${where} is closed`);
      const badName = Object.keys(params).find((name) => !PARAMETER_NAME.test(name));
      if (badName !== undefined) {
        throw new WarehouseError(
          'query',
          `parameter name ${JSON.stringify(badName)} is not an identifier (${where})`,
        );
      }
      try {
        return (await runAgainOnLostSession(() => run(sql, params), sessions.disconnect)) as T[];
      } catch (error) {
        throw describeFailure(error, where, sql, scrub, sessions.disconnect);
      }
    },
    async close() {
      closed = true;
      await sessions.disconnect();
    },
  };
}

function endpointOf(config: WarehouseConfig): Endpoint {
  const host = config.host.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
  const port = config.port ?? 443;
  const path = config.httpPath.startsWith('/') ? config.httpPath : `/${config.httpPath}`;
  const where = `https://${host}${port === 443 ? '' : `:${port}`}${path}`;
  if (!host) throw new Error('openWarehouse: host is empty');
  if (!config.token) throw new Error(`openWarehouse: no token for ${where}`);
  const timeoutMs = config.queryTimeoutMs ?? 30_000;
  return { host, port, path, timeoutMs, where, scrub: scrubber(config.token) };
}

/** Connects a new client and opens a session on it; the client is closed again if either step fails. */
async function openSession(config: WarehouseConfig, endpoint: Endpoint): Promise<Connection> {
  const { host, port, path, timeoutMs, scrub } = endpoint;
  const client = new DBSQLClient({
    logger: { log: (level: LogLevel, message: string) => logDriver(level, scrub(message)) },
  });
  try {
    await client.connect({
      host,
      port,
      path,
      token: config.token,
      checkServerCertificate: config.checkServerCertificate ?? true,
      telemetryEnabled: false,
      // Longer than a query may take, so that a late answer still arrives and its statement can be cancelled.
      socketTimeout: timeoutMs + 60_000,
      retryMaxAttempts: 3,
      retryDelayMin: 200,
      retryDelayMax: 2000,
      retriesTimeout: timeoutMs,
    });
    const session = await client.openSession({
      initialCatalog: config.catalog,
      initialSchema: config.schema,
      // A SQL warehouse ignores the per-statement timeout; this is its own setting.
      configuration: { STATEMENT_TIMEOUT: String(Math.ceil(timeoutMs / 1000)) },
    });
    return { client, session };
  } catch (error) {
    void client.close().catch(() => undefined);
    throw error;
  }
}

/** One session shared by every query: opened on first use, forgotten when opening fails or on disconnect. */
function sessionCache(open: () => Promise<Connection>): {
  connect: () => Promise<Connection>;
  disconnect: () => Promise<void>;
} {
  let connection: Promise<Connection> | undefined;
  function connect(): Promise<Connection> {
    const attempt = (connection ??= open());
    attempt.catch(() => {
      if (connection === attempt) connection = undefined;
    });
    return attempt;
  }
  // Drops the session so the next query opens a new one (after a restart the warehouse forgets sessions).
  function disconnect(): Promise<void> {
    const current = connection;
    connection = undefined;
    if (!current) return Promise.resolve();
    const closing = current.then(({ client }) => client.close()).catch(() => undefined);
    return Promise.race([
      closing,
      new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref()),
    ]);
  }
  return { connect, disconnect };
}

/** Runs one statement on the shared session, cancelling it on the warehouse when `signal` aborts. */
async function runStatement(
  connect: () => Promise<Connection>,
  sql: string,
  params: Record<string, WarehouseParam>,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<WarehouseRow[]> {
  const { session } = await connect();
  if (signal.aborted) throw signal.reason;
  const operation = await session.executeStatement(sql, {
    namedParameters: params,
    queryTimeout: Math.ceil(timeoutMs / 1000),
  });
  const cancel = () => void operation.cancel().catch(() => undefined);
  if (signal.aborted) cancel();
  signal.addEventListener('abort', cancel, { once: true });
  try {
    const rows = (await operation.fetchAll()) as Record<string, unknown>[];
    return normalizeRows(rows, await columnTypes(operation));
  } finally {
    signal.removeEventListener('abort', cancel);
    void operation.close().catch(() => undefined);
  }
}

/** Rejects with a `timeout` WarehouseError after `timeoutMs`, aborting the signal `run` was given. */
async function withTimeout<T>(
  timeoutMs: number,
  message: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new WarehouseError('timeout', message);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const running = run(controller.signal);
  running.catch(() => undefined);
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A lost session means the statement never ran: open a new session and try once more. */
async function runAgainOnLostSession<T>(run: () => Promise<T>, disconnect: () => Promise<void>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof WarehouseError || !isLostSession(error)) throw error;
    await disconnect();
    return run();
  }
}

function isLostSession(error: unknown): boolean {
  return /Invalid SessionHandle/i.test(errorMessage(error));
}

function describeFailure(
  error: unknown,
  where: string,
  sql: string,
  scrub: (text: string) => string,
  disconnect: () => Promise<void>,
): WarehouseError {
  if (error instanceof WarehouseError) return error;
  const message = scrub(errorMessage(error));
  const status = httpStatus(error);
  const code = (error as { errorCode?: unknown }).errorCode;
  if (status === 401 || status === 403) {
    void disconnect();
    return new WarehouseError(
      'unauthorized',
      `${where} rejected the access token (HTTP ${status}): check the token (DATABRICKS_TOKEN) and its access to the warehouse`,
    );
  }
  if (code === 'TIMEOUT') {
    return new WarehouseError('timeout', `query timed out on ${where}: ${message}\n  in: ${snippet(sql)}`);
  }
  if (isStatementError(error)) {
    return new WarehouseError('query', `query failed on ${where}: ${message}\n  in: ${snippet(sql)}`);
  }
  void disconnect();
  const detail = status !== undefined ? `HTTP ${status}` : message;
  return new WarehouseError(
    'unreachable',
    `cannot reach the Databricks SQL warehouse at ${where}: ${detail}`,
  );
}

// The warehouse answered about the statement itself (a SQL error), as opposed to the connection failing.
function isStatementError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  const code = (error as { errorCode?: unknown } | null)?.errorCode;
  return name === 'Status Error' || code === 'ERROR' || name === 'ParameterError';
}

function httpStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number') return status;
  const match = /bad HTTP status code: (\d{3})/.exec(errorMessage(error));
  return match ? Number(match[1]) : undefined;
}

function errorMessage(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error && typeof error.message === 'string') {
    return error.message || String((error as { name?: unknown }).name ?? 'unknown error');
  }
  return String(error);
}

function snippet(sql: string): string {
  const oneLine = sql.replace(/\s+/g, ' ').trim();
  return oneLine.length > 160 ? `${oneLine.slice(0, 157)}...` : oneLine;
}

function scrubber(token: string): (text: string) => string {
  // A very short token could match ordinary text; real tokens are long.
  if (token.length < 6) return (text) => text;
  return (text) => text.split(token).join('[redacted]');
}

function logDriver(level: LogLevel, message: string): void {
  const name = String(level);
  if (name === 'error' || name === 'warn') console.warn(`@databricks/sql ${name}: ${message}`);
}
