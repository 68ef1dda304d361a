// Opens a session on the configured SQL store. Each engine's driver is imported only when it is used, so that
// the embedded default never loads a network driver and the load action's bundle never loads PGlite.
import path from 'node:path';
import type { SqlTargetConfig } from '../config/schema.ts';
import type { MysqlSessionOptions } from './mysql.ts';
import type { SqlSession } from './types.ts';

export * from './types.ts';
export type { SessionOptions } from './network-session.ts';

/** Options for the network engines; `bulkPath` applies to MySQL only. */
export type StoreOptions = MysqlSessionOptions;

export async function openSqlStore(
  target: SqlTargetConfig,
  baseDir = process.cwd(),
  options: StoreOptions = {},
): Promise<SqlSession> {
  switch (target.engine) {
    case 'pglite': {
      const { openPglite } = await import('./pglite.ts');
      return openPglite(path.resolve(baseDir, target.path));
    }
    case 'postgres': {
      const { openPostgres } = await import('./postgres.ts');
      return openPostgres(target, options);
    }
    case 'mysql': {
      const { openMysql } = await import('./mysql.ts');
      return openMysql(target, options);
    }
    case 'sqlserver': {
      const { openSqlServer } = await import('./sqlserver.ts');
      return openSqlServer(target, options);
    }
  }
}
