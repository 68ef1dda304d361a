import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { lakehouse, tempProject } from '../helpers/cli.ts';
import { needsPostgres, repoRoot } from '../helpers/services.ts';
import { startGcsServer } from '../../src/standins/gcs/server.ts';

const digest = (dir: string) =>
  fs
    .readdirSync(dir)
    .sort()
    .map(
      (f) =>
        `${f}:${createHash('sha256')
          .update(fs.readFileSync(path.join(dir, f)))
          .digest('hex')}`,
    )
    .join('\n');

const havePostgres = await needsPostgres();

describe('lakehouse CLI', () => {
  it('runs the pipeline on a generated sample, and a second run uploads and loads nothing, saying why', async () => {
    const { dir, config } = await tempProject(3000);
    const first = await lakehouse(['-c', config, 'run']);
    expect(first.stderr + first.stdout).not.toMatch(/error/i);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/generate: 24 files, 3,000 lines/);
    expect(first.stdout).toMatch(/transactions\s+24\s+24\s+0\s+0\s+0/); // ingest: files uploaded skipped conflicts failed
    const counts = /rows in = rows loaded \+ rows quarantined: ([\d,]+) = ([\d,]+) \+ ([\d,]+)/.exec(
      first.stdout,
    );
    expect(counts).not.toBeNull();
    const [, rowsIn, loaded, quarantined] = counts!.map((n) => Number(n.replaceAll(',', '')));
    expect(rowsIn).toBe(loaded! + quarantined!);
    expect(quarantined).toBeGreaterThan(0);

    const second = await lakehouse(['-c', config, 'run']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(
      '0 objects uploaded: all 24 files are unchanged since they were uploaded',
    );
    expect(second.stdout).toContain('0 rows loaded: all 24 objects were already loaded');
    expect(second.stdout).not.toContain('generate:');
    expect(first.stdout).toMatch(/gold\.association_rules\s+version\s+0\s+[\d,]+ rows/);
    expect(first.stdout).toContain('Top rules by lift');
    expect(second.stdout).toMatch(
      /transform: skipped: nothing changed since run \S+ \(same loads, notebooks and parameters\)/,
    );

    // An explicit transform runs anyway, and commits a second version of every table.
    const again = await lakehouse(['-c', config, 'transform']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/gold\.association_rules\s+version\s+1\s+[\d,]+ rows/);
    const history = await lakehouse(['-c', config, 'table', 'history', 'gold.association_rules']);
    expect(history.stdout).toMatch(/\n\s*1\s+\S+\s+CREATE OR REPLACE TABLE AS SELECT/);
    const shown = await lakehouse([
      '-c',
      config,
      'table',
      'show',
      'gold.item_popularity',
      '--version',
      '0',
      '--limit',
      '3',
    ]);
    expect(shown.stdout).toMatch(/version 0 .*: \d+ rows in 1 file\n/);

    const status = await lakehouse(['-c', config, 'status']);
    expect(status.stdout).toMatch(
      new RegExp(
        `transactions\\s+24\\s+\\S+ \\S+\\s+24\\s+0\\s+${loaded!.toLocaleString('en-US')}\\s+${quarantined}`,
      ),
    );
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('changes nothing in a dry run', async () => {
    const { dir, config } = await tempProject(500);
    const plan = await lakehouse(['-c', config, '--dry-run', 'run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('ingest summary (dry run: nothing written)');
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.lakehouse'))).toBe(false);
    expect(plan.stdout).toMatch(
      /transform \(dry run\): .*04_basket_rules.sql would write gold.frequent_itemsets, gold.association_rules/,
    );
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('generates the same files for the same seed, and others for another seed', async () => {
    const out = await fsp.mkdtemp(path.join(os.tmpdir(), 'generate-'));
    const a = await lakehouse(['generate', '--rows', '2000', '--seed', '5', '--out', `${out}/a`]);
    expect(a.stdout).toMatch(/wrote 2,000 lines \([\d,]+ baskets\) to 24 files/);
    await lakehouse(['generate', '--rows', '2000', '--seed', '5', '--out', `${out}/b`]);
    await lakehouse(['generate', '--rows', '2000', '--seed', '6', '--out', `${out}/c`]);
    expect(digest(`${out}/a`)).toBe(digest(`${out}/b`));
    expect(digest(`${out}/a`)).not.toBe(digest(`${out}/c`));
    const bad = await lakehouse(['generate', '--rows', 'many', '--out', out]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--rows: expected a positive whole number, found "many"');
    await fsp.rm(out, { recursive: true, force: true });
  });

  it('fails with one readable line on a config mistake', async () => {
    const { dir, config } = await tempProject(500);
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('engine: pglite', 'engine: oracle'));
    const result = await lakehouse(['-c', config, 'load']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^lakehouse: lakehouse.yml:\d+: profiles.local.sql.engine: expected one of .*, found "oracle"$/,
    );
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('ingests to and loads from a gs:// bucket (the GCS test server), exactly once', async () => {
    const server = await startGcsServer({ buckets: ['lakehouse-raw'] });
    const { dir, config } = await tempProject(1000);
    fs.appendFileSync(
      config,
      '\n  gcs:\n    bucket: gs://lakehouse-raw/landing\n    sql: { engine: pglite, path: .lakehouse/pglite-gcs }\n',
    );
    const env = { STORAGE_EMULATOR_HOST: server.url };
    try {
      const first = await lakehouse(['-c', config, '-p', 'gcs', 'run'], env);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain('→ gs://lakehouse-raw/landing');
      expect(first.stdout).toMatch(/transactions\s+24\s+24\s+0\s+0\s+0/);
      expect(first.stdout).toMatch(/rows in = rows loaded \+ rows quarantined: [\d,]+ = [\d,]+ \+ [\d,]+/);
      const names = server.store.list('lakehouse-raw').map((o) => o.name);
      expect(names).toHaveLength(24);
      expect(names.every((n) => n.startsWith('landing/transactions/transactions-'))).toBe(true);

      const second = await lakehouse(['-c', config, '-p', 'gcs', 'run'], env);
      expect(second.stdout).toContain('0 objects uploaded');
      expect(second.stdout).toContain('0 rows loaded: all 24 objects were already loaded');
    } finally {
      await server.close();
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('start runs the pipeline, serves the dashboard on its output, and stops cleanly on SIGTERM', async () => {
    const { dir, config } = await tempProject(2000);
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'bin/lakehouse.js'), '-c', config, 'start', '--port', '0'],
      {
        cwd: repoRoot,
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const match = /dashboard: (http:\/\/\S+)/.exec(out);
          if (match) {
            clearInterval(timer);
            resolve(match[1]!);
          }
        }, 200);
        void exited.then(() => {
          clearInterval(timer);
          reject(new Error(`lakehouse start exited early:\n${out}`));
        });
      });
      expect(out).toContain('Top rules by lift');
      const health = (await (await fetch(`${url}/healthz`)).json()) as {
        status: string;
        versions: Record<string, unknown>;
      };
      expect(health.status).toBe('ok');
      expect(Object.keys(health.versions)).toContain('gold.association_rules');
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('stopping the dashboard');
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!havePostgres)(
    'runs the whole pipeline on a PostgreSQL server profile: load into it, transform from it',
    async () => {
      const { dir, config } = await tempProject(1500);
      const schema = `lh_cli_${process.pid}`;
      fs.appendFileSync(
        config,
        `\n  pg:\n    bucket: file://.lakehouse/bucket-pg\n    sql: { engine: postgres, connection: 'postgres://postgres@127.0.0.1:5432/test', schema: ${schema} }\n    delta: .lakehouse/delta-pg\n    manifests: .lakehouse/manifests-pg\n`,
      );
      try {
        const run = await lakehouse(['-c', config, '-p', 'pg', 'run']);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain(`postgres`);
        const loaded = /rows in = rows loaded \+ rows quarantined: [\d,]+ = ([\d,]+) \+ [\d,]+/.exec(
          run.stdout,
        );
        expect(loaded).not.toBeNull();
        // silver.transactions keeps one row per basket and item, with a quantity: its sum is every row loaded.
        const shown = await lakehouse(['-c', config, '-p', 'pg', 'table', 'show', 'gold.sales_yearly']);
        const yearly = [...shown.stdout.matchAll(/^\s*(2014|2015)\s+(\d+)/gm)].map((m) => Number(m[2]));
        expect(yearly.reduce((a, b) => a + b, 0)).toBe(Number(loaded![1]!.replaceAll(',', '')));
      } finally {
        const pg = await import('pg');
        const client = new pg.default.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
        await fsp.rm(dir, { recursive: true, force: true });
      }
    },
  );
});
