// `lakehouse run` and `lakehouse transform` read only what was loaded since the last run; `--full-refresh` reads
// every object (the notebooks' full_refresh parameter), as the manifest's silver.changed_objects shows.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TransformManifest } from '../../src/stages/transform.ts';
import { lakehouse, tempProject } from '../helpers/cli.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
});

describe('--full-refresh', () => {
  it('makes the transform read every object; without it a run reads only what changed', async () => {
    const { dir, config } = await tempProject(600);
    dirs.push(dir);
    const changedObjects = () => {
      const file = path.join(dir, '.lakehouse/manifests/transform-latest.json');
      const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as TransformManifest;
      return manifest.tables.find((t) => t.table === 'silver.changed_objects')?.rows;
    };
    const run = async (...args: string[]) => {
      const r = await lakehouse(['-c', config, ...args]);
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
    };
    await run('run');
    const objects = changedObjects()!;
    expect(objects).toBeGreaterThan(0);
    await run('transform');
    expect(changedObjects()).toBe(0);
    await run('transform', '--full-refresh');
    expect(changedObjects()).toBe(objects);
    await run('run', '--full-refresh');
    expect(changedObjects()).toBe(objects);
  }, 600_000);
});
