// The SQL engines the load suite runs against, each in a namespace of its own (a PostgreSQL schema, a MariaDB
// database, a SQL Server schema, a PGlite folder) so that test files can run side by side on shared servers.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SqlTargetConfig } from '../../src/config/schema.ts';
import { openSqlStore, type StoreOptions } from '../../src/sql/index.ts';
import type { SqlSession } from '../../src/sql/types.ts';
import { needsMariaDB, needsPostgres } from './services.ts';

export interface EngineUnderTest {
  name: string;
  /** Whether the engine is there; when not, the reason has been printed (or, under CI, thrown). */
  available(): Promise<boolean>;
  /** The target config, in `namespace`. */
  target(namespace: string): SqlTargetConfig;
  /** Options for openSqlStore (e.g. MySQL's bulk path). */
  options?: StoreOptions;
  /** Empties `namespace` so that a test file starts from nothing. */
  reset(namespace: string): Promise<unknown>;
}

export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const MARIADB = { host: '127.0.0.1', port: 3306, user: 'root', database: 'test' };
/** The variable the SQL Server tests read (the CI job sets it; see .github/workflows/ci.yml). */
export const SQLSERVER_ENV = 'SQLSERVER_CONNECTION_STRING';

export function pgliteEngine(): EngineUnderTest & { dir: string } {
  const dir = path.join(os.tmpdir(), `lakehouse-pglite-${process.pid}-${Date.now()}`);
  return {
    name: 'PGlite',
    dir,
    available: async () => true,
    target: (namespace) => ({ engine: 'pglite', path: path.join(dir, namespace) }),
    reset: async (namespace) => fsp.rm(path.join(dir, namespace), { recursive: true, force: true }),
  };
}

export const postgresEngine: EngineUnderTest = {
  name: 'PostgreSQL',
  available: needsPostgres,
  target: (schema) => ({ engine: 'postgres', connection: POSTGRES_URL, schema }),
  reset: (schema) =>
    withSession(postgresEngine.target('public'), (s) =>
      s.execute(`DROP SCHEMA IF EXISTS ${s.dialect.quote(schema)} CASCADE`),
    ),
};

export const mariadbEngine: EngineUnderTest = {
  name: 'MariaDB',
  available: needsMariaDB,
  target: (schema) => ({ engine: 'mysql', ...MARIADB, schema }),
  reset: (schema) =>
    withSession({ engine: 'mysql', ...MARIADB }, (s) =>
      s.execute(`DROP DATABASE IF EXISTS ${s.dialect.quote(schema)}`),
    ),
};

export const sqlserverEngine: EngineUnderTest = {
  name: 'SQL Server',
  // No SQL Server runs on the development machines: without the variable the suite is skipped (also under
  // CI=true, where only the GitHub job with the SQL Server service container sets it).
  available: async () => {
    if (process.env[SQLSERVER_ENV]) return true;
    console.warn(
      `skipping the SQL Server tests: ${SQLSERVER_ENV} is not set (the GitHub CI job "sqlserver" sets it for a SQL Server service container)`,
    );
    return false;
  },
  target: (schema) => ({
    engine: 'sqlserver',
    connection: process.env[SQLSERVER_ENV],
    schema,
    authentication: 'sql',
    encrypt: true,
    trustServerCertificate: true,
  }),
  reset: (schema) =>
    withSession(sqlserverEngine.target(schema), async (s) => {
      // SQL Server drops a schema only once it is empty.
      const tables = await s.query<{ name: string }>({
        sql: 'SELECT t.name FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id WHERE s.name = @p1',
        params: [schema],
      });
      for (const t of tables) await s.execute(`DROP TABLE ${s.dialect.table(t.name)}`);
      return 0;
    }),
};

export async function withSession<T>(
  target: SqlTargetConfig,
  work: (s: SqlSession) => Promise<T>,
): Promise<T> {
  const session = await openSqlStore(target);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

/** Rows as plain comparable values, whatever the driver: numbers, ISO dates, booleans as 0/1. */
export function normalize(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        v instanceof Date
          ? v.toISOString()
          : typeof v === 'boolean' || typeof v === 'bigint'
            ? Number(v)
            : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)
              ? Number(v)
              : v,
      ]),
    ),
  );
}
