import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lakehouse, tempProject } from '../helpers/cli.ts';
import { startGcsServer } from '../servers/gcs/server.ts';

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

describe('lakehouse CLI', () => {
  it('runs the pipeline on a generated sample, and a second run uploads and loads nothing, saying why', async () => {
    const { dir, config } = await tempProject(3000);
    const first = await lakehouse(['-c', config, 'run']);
    expect(first.stderr + first.stdout).not.toMatch(/error/i);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/generate: 24 files, 3,000 lines/);
    expect(first.stdout).toMatch(/transactions\s+24\s+24\s+0\s+0\s+0/); // ingest: files uploaded skipped conflicts failed
    const counts = /rows in = rows loaded \+ rows quarantined: (\d+) = (\d+) \+ (\d+)/.exec(first.stdout);
    expect(counts).not.toBeNull();
    const [, rowsIn, loaded, quarantined] = counts!.map(Number);
    expect(rowsIn).toBe(loaded! + quarantined!);
    expect(quarantined).toBeGreaterThan(0);

    const second = await lakehouse(['-c', config, 'run']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(
      '0 objects uploaded: all 24 files are unchanged since they were uploaded',
    );
    expect(second.stdout).toContain('0 rows loaded: all 24 objects were already loaded');
    expect(second.stdout).not.toContain('generate:');

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
    expect(fs.existsSync(path.join(dir, '.lakehouse/bucket'))).toBe(false);
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('generates the same files for the same seed, and others for another seed', async () => {
    const out = await fsp.mkdtemp(path.join(os.tmpdir(), 'generate-'));
    const a = await lakehouse(['generate', '--rows', '2000', '--seed', '5', '--out', `${out}/a`]);
    expect(a.stdout).toMatch(/wrote 2,000 lines \([\d,]+ baskets\) to 24 file\(s\)/);
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
      expect(first.stdout).toMatch(/rows in = rows loaded \+ rows quarantined: (\d+) = \d+ \+ \d+/);
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
});
