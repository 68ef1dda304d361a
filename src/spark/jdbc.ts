// The extraction cells on Spark: `CREATE OR REPLACE TEMPORARY VIEW v USING sqlserver|jdbc OPTIONS (...)` becomes a
// temporary view over Spark's own JDBC data source, read with the official driver of the profile's SQL store.
// Open-source Spark has neither Databricks' `sqlserver` format name nor `secret()` in OPTIONS, so the mapping is
// explicit (notebooks/README.md, "The extraction on Spark"): the connection comes from the profile (and the
// environment, through ${env:NAME}), `dbtable` from the notebook, Spark's JDBC tuning options pass through, and any
// other option is an error. The connection travels to the JVM on its stdin, never in argv or SQL text.
import type { SqlTargetConfig } from '../config/schema.ts';
import { tableFromOptions } from '../notebooks/sql-source.ts';
import { parseUrl } from '../sql/network-session.ts';
import { sqlServerConfig } from '../sql/sqlserver/session.ts';
import { registerSecret } from '../util/secrets.ts';

/** How Spark reaches the SQL store: JDBC URL (no credentials in it), driver class, login, default schema. */
export interface JdbcConnection {
  url: string;
  driver: string;
  user?: string;
  password?: string;
  /** Where the load stage writes: what `dbo.` in a notebook's dbtable stands for. */
  schema: string;
  /** How names are quoted in this store's SQL (Spark puts dbtable into its SELECT as written). */
  quote: (name: string) => string;
}

/** Options the profile supplies, whatever the notebook says (on Databricks they are secret(...) calls). */
export const CONNECTION_OPTIONS = [
  'host',
  'port',
  'database',
  'url',
  'user',
  'password',
  'driver',
  'encrypt',
  'trustservercertificate',
  'hostnameincertificate',
] as const;

/** Spark JDBC read options that mean the same on every store: passed through as written. */
export const PASSED_OPTIONS = [
  'fetchsize',
  'partitioncolumn',
  'lowerbound',
  'upperbound',
  'numpartitions',
  'querytimeout',
  'customschema',
  'pushdownpredicate',
  'pushdownaggregate',
  'pushdownlimit',
] as const;

export class JdbcMappingError extends Error {
  override name = 'JdbcMappingError';
}

/** The profile's SQL store as a JDBC connection; the password is registered so that nothing prints it. */
export function jdbcConnection(target: SqlTargetConfig): JdbcConnection {
  switch (target.engine) {
    case 'pglite':
      throw new JdbcMappingError(
        'sql.engine pglite: the Spark engine reads the SQL store over JDBC, and a PGlite store lives inside the lakehouse process; use a postgres, mysql or sqlserver store for --on spark',
      );
    case 'postgres':
      return urlConnection(target, 'postgresql', 5432, 'org.postgresql.Driver', target.schema ?? 'public');
    case 'mysql':
      return urlConnection(target, 'mysql', 3306, 'org.mariadb.jdbc.Driver', target.schema);
    case 'sqlserver':
      return sqlServerConnection(target);
  }
}

type UrlTarget = Extract<SqlTargetConfig, { engine: 'postgres' | 'mysql' }>;

function urlConnection(
  target: UrlTarget,
  scheme: 'postgresql' | 'mysql',
  defaultPort: number,
  driver: string,
  schema: string | undefined,
): JdbcConnection {
  const url = target.connection ? parseUrl(target.connection) : undefined;
  const decoded = (s: string | undefined) => (s ? decodeURIComponent(s) : undefined);
  const password = target.password ?? decoded(url?.password);
  registerSecret(password);
  const host = target.host ?? (url?.hostname || '127.0.0.1');
  const port = target.port ?? (url?.port ? Number(url.port) : defaultPort);
  const database = target.database ?? decoded(url?.pathname.slice(1));
  const params = new URLSearchParams(url?.search);
  if (scheme === 'mysql') {
    // Spark picks its MySQL dialect (backquoted names, MySQL types) by the jdbc:mysql: prefix; MariaDB's driver
    // accepts that prefix only with permitMysqlScheme. TLS as the load stage reads it from the URL.
    params.set('permitMysqlScheme', '');
    const mode = params.get('ssl-mode') ?? params.get('sslmode');
    const ssl = params.get('ssl') === 'true' || (mode !== null && !/^disabled?$/i.test(mode));
    for (const key of ['ssl', 'ssl-mode', 'sslmode']) params.delete(key);
    if (ssl) params.set('sslMode', /^(required?|preferred)$/i.test(mode ?? '') ? 'trust' : 'verify-full');
  }
  const query = params.toString().replace(/=(&|$)/g, '$1');
  const path = database ? `/${encodeURIComponent(database)}` : '/';
  const quote =
    scheme === 'mysql'
      ? (n: string) => `\`${n.replaceAll('`', '``')}\``
      : (n: string) => `"${n.replaceAll('"', '""')}"`;
  return {
    url: `jdbc:${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}${query ? `?${query}` : ''}`,
    driver,
    user: target.user ?? decoded(url?.username),
    password,
    schema: schema ?? database ?? 'public',
    quote,
  };
}

function sqlServerConnection(target: Extract<SqlTargetConfig, { engine: 'sqlserver' }>): JdbcConnection {
  const { config } = sqlServerConfig(target);
  const auth = config.authentication;
  if (auth?.type !== 'default') {
    throw new JdbcMappingError(
      `sql.authentication: the Spark engine signs in to SQL Server with a SQL login (user and password); ${auth?.type ?? 'this authentication'} needs Entra ID libraries the Spark module does not ship`,
    );
  }
  const { userName, password } = auth.options as { userName?: string; password?: string };
  registerSecret(password);
  // Braces make a value that holds ';' one value in mssql-jdbc's URL syntax.
  const value = (v: string | number | boolean) => `{${String(v).replaceAll('}', '}}')}}`;
  const properties = [
    `serverName=${value(config.server.replace(/^tcp:/i, ''))}`,
    `portNumber=${config.port ?? 1433}`,
    config.database ? `databaseName=${value(config.database)}` : '',
    `encrypt=${config.options?.encrypt ?? true}`,
    `trustServerCertificate=${config.options?.trustServerCertificate ?? false}`,
    'applicationName=actions-lakehouse',
  ];
  return {
    url: `jdbc:sqlserver://;${properties.filter(Boolean).join(';')}`,
    driver: 'com.microsoft.sqlserver.jdbc.SQLServerDriver',
    user: userName,
    password,
    schema: target.schema ?? 'dbo',
    quote: (n) => `[${n.replaceAll(']', ']]')}]`,
  };
}

/** The options of Spark's JDBC source for one extraction statement (the notebook's OPTIONS, mapped). */
export function extractionOptions(
  options: Readonly<Record<string, string>>,
  connection: JdbcConnection,
): Record<string, string> {
  const unknown = Object.keys(options).filter(
    (k) =>
      k !== 'dbtable' &&
      k !== 'query' &&
      !(CONNECTION_OPTIONS as readonly string[]).includes(k) &&
      !(PASSED_OPTIONS as readonly string[]).includes(k),
  );
  if (unknown.length > 0) {
    throw new JdbcMappingError(
      `OPTIONS ${unknown.join(', ')}: not mapped to Spark's JDBC source (the profile supplies ${CONNECTION_OPTIONS.join(', ')}; these pass through: ${PASSED_OPTIONS.join(', ')})`,
    );
  }
  const table = tableFromOptions(options);
  const mapped: Record<string, string> = {
    url: connection.url,
    driver: connection.driver,
    dbtable: `${connection.quote(table.schema ?? connection.schema)}.${connection.quote(table.name)}`,
  };
  if (connection.user !== undefined) mapped.user = connection.user;
  if (connection.password !== undefined) mapped.password = connection.password;
  for (const key of PASSED_OPTIONS) if (options[key] !== undefined) mapped[key] = options[key];
  return mapped;
}
