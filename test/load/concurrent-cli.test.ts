// Two `lakehouse load` processes started together on a fresh schema (PostgreSQL) or database (MariaDB): both exit
// 0, the tables are created once without a catalog error, and every object is loaded exactly once.
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { project } from '../faults/helpers.ts';
import { repoRoot } from '../helpers/services.ts';
import {
  mariadbEngine,
  MARIADB,
  POSTGRES_URL,
  postgresEngine,
  withSession,
  type EngineUnderTest,
} from '../helpers/sql-engines.ts';

const folders: string[] = [];
afterAll(async () => {
  for (const f of folders) await fsp.rm(f, { recursive: true, force: true });
});

const targets: [EngineUnderTest, (schema: string) => string][] = [
  [postgresEngine, (schema) => `{ engine: postgres, connection: '${POSTGRES_URL}', schema: ${schema} }`],
  [
    mariadbEngine,
    (schema) =>
      `{ engine: mysql, host: ${MARIADB.host}, port: ${MARIADB.port}, user: ${MARIADB.user}, database: ${MARIADB.database}, schema: ${schema} }`,
  ],
];

function lakehouse(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/lakehouse.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

for (const [engine, yaml] of targets)
  describe(`concurrent loads on ${engine.name}`, () => {
    it('two loads started together on a fresh schema both exit 0 and load every object once', async (ctx) => {
      if (!(await engine.available())) return ctx.skip();
      const schema = 'lh_concurrent_cli';
      await engine.reset(schema);
      const p = await project(300, {
        edit: (text) => text.replace('{ engine: pglite, path: .lakehouse/pglite }', yaml(schema)),
      });
      folders.push(p.dir);
      const ingested = await p.ingest();
      const objects = ingested.result!.totals.uploaded;
      expect(objects).toBeGreaterThan(5);

      const [a, b] = await Promise.all([
        lakehouse(['-c', p.config, 'load']),
        lakehouse(['-c', p.config, 'load']),
      ]);
      expect([a.code, b.code], `${a.output}\n---\n${b.output}`).toEqual([0, 0]);
      for (const run of [a, b]) expect(run.output).not.toMatch(/already exists|duplicate key|^ {2}failed /im);

      const target = engine.target(schema);
      await withSession(target, async (s) => {
        const n = async (sql: string) => Number((await s.query<{ n: unknown }>(sql))[0]!.n);
        expect(await n(`SELECT count(*) AS n FROM ${s.dialect.table('lakehouse_load_audit')}`)).toBe(objects);
        const loaded = await n(
          `SELECT sum(rows_loaded) AS n FROM ${s.dialect.table('lakehouse_load_audit')}`,
        );
        expect(await n(`SELECT count(*) AS n FROM ${s.dialect.table('transactions')}`)).toBe(loaded);
        expect(
          await n(
            `SELECT count(*) AS n FROM (SELECT DISTINCT _source_object, _source_line FROM ${s.dialect.table('transactions')}) d`,
          ),
        ).toBe(loaded);
      });
    });
  });
