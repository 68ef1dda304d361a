// The DuckDB engine's resources come from lakehouse.yml (transform.duckdb): its memory limit, threads and spill
// folder are DuckDB's own settings in the run, as a notebook reading them sees; a malformed size is a config error.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lakehouse, tempProject } from '../helpers/cli.ts';

let dir: string;
let config: string;
let original: string;
beforeAll(async () => {
  ({ dir, config } = await tempProject(100));
  original = fs.readFileSync(config, 'utf8');
  await fsp.writeFile(
    path.join(dir, 'settings.sql'),
    [
      '-- Databricks notebook source',
      "SELECT current_setting('memory_limit') AS memory_limit, current_setting('threads') AS threads,",
      "  current_setting('temp_directory') AS spill",
    ].join('\n'),
  );
});
afterAll(() => fsp.rm(dir, { recursive: true, force: true }));

/** The project's lakehouse.yml with this notebook alone and these DuckDB settings. */
async function configure(duckdb: string): Promise<void> {
  const text = original.replace(
    /notebooks:\n(\s+- .*\n)+/,
    `notebooks:\n    - settings.sql\n  duckdb: ${duckdb}\n`,
  );
  await fsp.writeFile(config, text);
}

describe('transform.duckdb', () => {
  it('sets DuckDB’s memory limit, threads and spill folder for the notebooks', async () => {
    await configure('{ memoryLimit: 300MB, threads: 1, spillDirectory: .lakehouse/spill-here }');
    const result = await lakehouse(['-c', config, 'transform']);
    expect(result.code, result.stderr).toBe(0);
    const manifests = path.join(dir, '.lakehouse/manifests');
    const latest = fs
      .readdirSync(manifests)
      .filter((f) => /^transform-.*\.json$/.test(f) && !f.includes('latest'));
    const manifest = JSON.parse(fs.readFileSync(path.join(manifests, latest.sort().at(-1)!), 'utf8'));
    // DuckDB shows 300 MB (decimal) in MiB.
    expect(manifest.queries[0].rows).toEqual([
      { memory_limit: '286.1 MiB', threads: 1, spill: path.join(dir, '.lakehouse/spill-here') },
    ]);
  });

  it('refuses a size DuckDB would not take, naming the setting', async () => {
    await configure('{ memoryLimit: lots }');
    const result = await lakehouse(['-c', config, 'transform']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /lakehouse\.yml:\d+: transform\.duckdb\.memoryLimit: expected a size such as 2GB or 512MB, found "lots"/,
    );
  });
});
