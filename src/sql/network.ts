// Opens a session on a network engine. The load action imports this rather than index.ts, so that its bundle
// holds the three network drivers and never PGlite's WASM. Each driver loads only when its engine is opened
// (SQL Server's takes over half a second to import).
import type { SqlTargetConfig } from '../config/schema.ts';
import type { MysqlSessionOptions } from './mysql/session.ts';
import type { SqlSession } from './types.ts';

export type NetworkTarget = Exclude<SqlTargetConfig, { engine: 'pglite' }>;

export async function openNetworkStore(
  target: NetworkTarget,
  options: MysqlSessionOptions = {},
): Promise<SqlSession> {
  switch (target.engine) {
    case 'postgres':
      return (await import('./postgres/session.ts')).openPostgres(target, options);
    case 'mysql':
      return (await import('./mysql/session.ts')).openMysql(target, options);
    case 'sqlserver':
      return (await import('./sqlserver/session.ts')).openSqlServer(target, options);
  }
}
