// Run ids: two runs in the same second, even the same millisecond, never share an id or a manifest file.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestPlan, runIngest } from '../../src/pipeline/ingest.ts';
import { parseConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';

describe('run ids', () => {
  it('are the time to the millisecond and a random suffix locally; the run id and attempt on GitHub', () => {
    const now = new Date('2026-03-04T05:06:07.089Z');
    const ids = Array.from({ length: 50 }, () => currentRun({}, now).id);
    expect(new Set(ids).size).toBe(50);
    expect(ids[0]).toMatch(/^local-20260304T050607\.089Z-[0-9a-f]{6}$/);
    expect(currentRun({ GITHUB_RUN_ID: '9001', GITHUB_RUN_ATTEMPT: '2' }, now).id).toBe('9001-2');
  });

  it('give two ingests started in the same millisecond a manifest each', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'run-ids-'));
    await fsp.mkdir(path.join(dir, 'in'));
    await fsp.writeFile(path.join(dir, 'in', 'a.csv'), 'x\n1\n');
    const resolved = parseConfig(
      [
        'project: p',
        'datasets:',
        '  - { name: d, source: { path: in }, format: csv, columns: [{ name: x, type: integer }], load: { mode: append } }',
        'profiles:',
        '  local: { bucket: file://bucket, sql: { engine: pglite, path: pg }, manifests: manifests }',
      ].join('\n'),
      path.join(dir, 'lakehouse.yml'),
    );
    const now = new Date();
    const run = () =>
      runIngest(ingestPlan(resolved, resolved.config.datasets), {
        run: currentRun({}, now),
        log: silentLogger,
        dryRun: false,
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.manifestPath).not.toBe(b.manifestPath);
    expect(
      fs.readdirSync(path.join(dir, 'manifests')).filter((f) => f !== 'ingest-latest.json'),
    ).toHaveLength(2);
    await fsp.rm(dir, { recursive: true, force: true });
  });
});
