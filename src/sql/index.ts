// Opens a session on the configured SQL store. Drivers are imported only when used, so that the embedded
// default never loads a network driver.
import path from 'node:path';
import type { SqlTargetConfig } from '../config/schema.ts';
import type { MysqlSessionOptions } from './mysql/session.ts';
import type { PgliteOptions } from './postgres/pglite.ts';
import type { SqlSession } from './types.ts';

export * from './types.ts';
export type { SessionOptions } from './network-session.ts';

/**
 * Options for the network engines (batch size, connection retries; `bulkPath` applies to MySQL only), and `brief`
 * for PGlite.
 */
export type StoreOptions = MysqlSessionOptions & PgliteOptions;

export async function openSqlStore(
  target: SqlTargetConfig,
  baseDir = process.cwd(),
  options: StoreOptions = {},
): Promise<SqlSession> {
  if (target.engine === 'pglite') {
    const { openPglite } = await import('./postgres/pglite.ts');
    return openPglite(path.resolve(baseDir, target.path), { brief: options.brief });
  }
  const { openNetworkStore } = await import('./network.ts');
  return openNetworkStore(target, options);
}
