// Opens a session on the configured SQL store. Each engine's driver is imported only when it is used.
import path from 'node:path';
import type { SqlTargetConfig } from '../config/schema.ts';
import type { SqlSession } from './types.ts';

export * from './types.ts';

export async function openSqlStore(target: SqlTargetConfig, baseDir = process.cwd()): Promise<SqlSession> {
  switch (target.engine) {
    case 'pglite': {
      const { openPglite } = await import('./pglite.ts');
      return openPglite(path.resolve(baseDir, target.path));
    }
    default:
      throw new Error(`sql.engine ${target.engine}: this build supports only pglite so far`);
  }
}
