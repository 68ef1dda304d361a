// One set of answers from both engines: `lakehouse transform --on local` (DuckDB) and `--on spark` (Apache Spark
// with Delta Lake) on the same SQL store, loaded with the generated sample by `lakehouse load`, must write the same
// twelve tables. The store is reached as a login with a password that comes from the environment; nothing the
// commands print or write may hold it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryOutput, TransformManifest } from '../../src/stages/transform.ts';
import { lakehouse, tempProject, type CliResult } from '../helpers/cli.ts';
import { compareDeltaFolders, KEPT_TABLES, RUN_TABLES } from './compare.ts';

export interface StoreUnderTest {
  name: string;
  /** Creates `namespace` owned by a login `user` with `password`, empty. */
  createLogin(namespace: string, user: string, password: string): Promise<void>;
  dropLogin(namespace: string, user: string): Promise<void>;
  /** The profile's sql section (YAML flow syntax) for that login, the password as ${env:passwordVariable}. */
  profileSql(namespace: string, user: string, passwordVariable: string): string;
  /** Whether the store checks passwords (PostgreSQL here trusts local logins). */
  checksPassword: boolean;
}

const PASSWORD_VARIABLE = 'LH_SPARK_TEST_SQL_PASSWORD';

/** Appends two profiles on one store, one per engine, each with its own Delta and manifest folders. */
async function addProfiles(config: string, sql: string): Promise<void> {
  const profile = (name: string, extra = '') =>
    `  ${name}:\n    bucket: file://.lakehouse/bucket\n    sql: ${sql}\n    delta: .lakehouse/delta-${name}\n    manifests: .lakehouse/manifests-${name}\n${extra}`;
  await fsp.appendFile(
    config,
    profile('duck') +
      profile('spark', "    spark: { master: 'local[2]', conf: { spark.driver.memory: 1g } }\n"),
  );
}

/** Every file under `dir` that contains `secret`, as relative paths. */
function filesContaining(dir: string, secret: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => {
    const file = path.join(dir, f);
    return fs.statSync(file).isFile() && fs.readFileSync(file).includes(secret);
  });
}

export function defineEngineComparison(store: StoreUnderTest, namespace: string, ok: boolean): void {
  describe.skipIf(!ok)(`DuckDB and Spark on the same ${store.name} store`, () => {
    const user = `${namespace}_login`;
    const password = `Lh-${crypto.randomBytes(9).toString('base64url')}`;
    const outputs: { step: string; result: CliResult }[] = [];
    let dir: string;
    let manifests: Record<'duck' | 'spark', TransformManifest>;
    const spark: { seconds: number } = { seconds: 0 };

    const run = async (step: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
      const result = await lakehouse(['-c', path.join(dir, 'lakehouse.yml'), ...args], {
        [PASSWORD_VARIABLE]: password,
        // Spark's own log goes to stderr too (redacted), so that the search for the password covers it.
        LAKEHOUSE_DEBUG: '1',
        ...env,
      });
      outputs.push({ step, result });
      return result;
    };
    const expectOk = (r: CliResult, what: string) =>
      expect(r.code, `${what}:\n${r.stderr.slice(-3000)}`).toBe(0);

    beforeAll(async () => {
      ({ dir } = await tempProject(3000));
      await store.createLogin(namespace, user, password);
      await addProfiles(
        path.join(dir, 'lakehouse.yml'),
        store.profileSql(namespace, user, PASSWORD_VARIABLE),
      );
      expectOk(
        await run('generate', [
          'generate',
          '--rows',
          '3000',
          '--seed',
          '7',
          '--out',
          path.join(dir, 'data/sample'),
        ]),
        'generate',
      );
      expectOk(await run('ingest', ['-p', 'duck', 'ingest']), 'ingest');
      expectOk(await run('load', ['-p', 'duck', 'load']), 'load');
      expectOk(await run('duckdb', ['-p', 'duck', 'transform', '--on', 'local']), 'transform on DuckDB');
      const started = performance.now();
      expectOk(await run('spark', ['-p', 'spark', 'transform', '--on', 'spark']), 'transform on Spark');
      spark.seconds = (performance.now() - started) / 1000;
      const read = (name: string) =>
        JSON.parse(
          fs.readFileSync(path.join(dir, `.lakehouse/manifests-${name}/transform-latest.json`), 'utf8'),
        ) as TransformManifest;
      manifests = { duck: read('duck'), spark: read('spark') };
    }, 900_000);

    afterAll(async () => {
      console.log(`${store.name}: lakehouse transform --on spark took ${spark.seconds.toFixed(1)} s`);
      await store.dropLogin(namespace, user).catch(() => undefined);
      if (dir) await fsp.rm(dir, { recursive: true, force: true });
    });

    it('both engines write the tables in the same order, with the same row counts', () => {
      const summary = (m: TransformManifest) => m.tables.map((t) => `${t.table} v${t.version}: ${t.rows}`);
      expect(manifests.spark.tables.map((t) => t.table)).toEqual(RUN_TABLES);
      expect(summary(manifests.spark)).toEqual(summary(manifests.duck));
      expect(manifests.spark).toMatchObject({ engine: 'spark', spark: { version: '4.0.1', delta: '4.0.1' } });
      expect(manifests.spark.tables.find((t) => t.table === 'silver.baskets')!.rows).toBeGreaterThan(900);
    });

    it.each(KEPT_TABLES)('%s: the same columns, types and rows (doubles within 1e-9)', async (table) => {
      const differences = await compareDeltaFolders(
        path.join(dir, '.lakehouse/delta-duck'),
        path.join(dir, '.lakehouse/delta-spark'),
        [table],
      );
      expect(differences).toEqual([]);
    });

    it('shows the same top rules from the last cell', () => {
      const [duck, sparkTop] = [manifests.duck, manifests.spark].map((m) => m.queries.at(-1)!) as [
        QueryOutput,
        QueryOutput,
      ];
      expect(sparkTop.title).toBe('Top rules by lift');
      expect(sparkTop.columns).toEqual(duck!.columns);
      expect(sparkTop.rows.length).toBe(10);
      expect(sparkTop.rows.map((r) => [r.antecedents, r.consequents])).toEqual(
        duck!.rows.map((r) => [r.antecedents, r.consequents]),
      );
    });

    it('no output, log, manifest or table file holds the password', () => {
      expect(outputs.map((o) => o.step)).toContain('spark');
      // The Spark run really printed Spark's own log (LAKEHOUSE_DEBUG), which is part of what is searched.
      expect(outputs.find((o) => o.step === 'spark')!.result.stderr).toMatch(/^spark: /m);
      for (const { step, result } of outputs) {
        expect(result.stdout.includes(password), `${step}: stdout`).toBe(false);
        expect(result.stderr.includes(password), `${step}: stderr`).toBe(false);
      }
      expect(filesContaining(path.join(dir, '.lakehouse'), password)).toEqual([]);
    });

    it.runIf(store.checksPassword)(
      'with a wrong password the extraction fails with the store’s refusal, and shows neither password',
      async () => {
        const wrong = `${password}-wrong`;
        const result = await run('wrong password', ['-p', 'spark', 'transform', '--on', 'spark'], {
          [PASSWORD_VARIABLE]: wrong,
        });
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/01_extract_clean\.sql, cell \d+ .*Access denied for user/);
        for (const text of [result.stdout, result.stderr]) {
          expect(text.includes(wrong)).toBe(false);
          expect(text.includes(password)).toBe(false);
        }
        // The failed run leaves its manifest, as on DuckDB: where it stopped, and no credential.
        const latest = path.join(dir, '.lakehouse/manifests-spark/transform-latest.json');
        const failed = JSON.parse(fs.readFileSync(latest, 'utf8')) as TransformManifest;
        expect(failed).toMatchObject({ engine: 'spark', status: 'failed', tables: [] });
        expect(failed.failure?.notebook).toMatch(/01_extract_clean\.sql$/);
        expect(failed.failure?.cell).toBeGreaterThan(0);
        expect(failed.failure?.message).toMatch(/Access denied for user/);
        expect(filesContaining(path.join(dir, '.lakehouse'), wrong)).toEqual([]);
      },
      300_000,
    );
  });
}
