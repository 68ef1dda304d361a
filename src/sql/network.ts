// Opens a session on a network engine. The load action imports this rather than index.ts, so that its bundle
// holds the three network drivers and never PGlite's WASM.
import type { SqlTargetConfig } from '../config/schema.ts';
import type { MysqlSessionOptions } from './mysql/session.ts';
import { openMysql } from './mysql/session.ts';
import { openPostgres } from './postgres/session.ts';
import { openSqlServer } from './sqlserver/session.ts';
import type { SqlSession } from './types.ts';

export type NetworkTarget = Exclude<SqlTargetConfig, { engine: 'pglite' }>;

export async function openNetworkStore(
  target: NetworkTarget,
  options: MysqlSessionOptions = {},
): Promise<SqlSession> {
  switch (target.engine) {
    case 'postgres':
      return openPostgres(target, options);
    case 'mysql':
      return openMysql(target, options);
    case 'sqlserver':
      return openSqlServer(target, options);
  }
}
