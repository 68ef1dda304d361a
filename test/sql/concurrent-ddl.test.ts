// Creating the load tables from several sessions at the same moment, on a fresh schema: CREATE … IF NOT EXISTS
// races in the catalog, and each engine's duplicate-object error must be taken for what it is (someone else
// created it), not a failure.
import { describe, it } from 'vitest';
import { openSqlStore } from '../../src/sql/index.ts';
import { ensureLoadTables } from '../../src/sql/tables.ts';
import { loadTables } from '../../src/stages/load.ts';
import { groceriesDataset } from '../helpers/datasets.ts';
import { mariadbEngine, postgresEngine } from '../helpers/sql-engines.ts';

for (const engine of [postgresEngine, mariadbEngine])
  describe(`table creation on ${engine.name}`, () => {
    it('succeeds in every one of four sessions creating the tables at once', async (ctx) => {
      if (!(await engine.available())) return ctx.skip();
      const tables = loadTables(groceriesDataset());
      const schema = 'lh_concurrent_ddl';
      for (let round = 0; round < 3; round++) {
        await engine.reset(schema);
        const sessions = await Promise.all([1, 2, 3, 4].map(() => openSqlStore(engine.target(schema))));
        try {
          await Promise.all(sessions.map((s) => ensureLoadTables(s, tables)));
        } finally {
          await Promise.all(sessions.map((s) => s.close()));
        }
      }
    });
  });
