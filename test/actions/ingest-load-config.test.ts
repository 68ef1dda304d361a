// The ingest and load actions read the same lakehouse.yml, so that the objects one job uploads are the ones the next
// job loads: run in-process (their run(), as `npx @github/local-action` runs them), the ingest action takes each
// dataset's folder and glob and ingest.destination from the config, and the load action finds what it uploaded.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runIngestAction } from '../../actions/ingest/main.ts';
import { run as runLoadAction } from '../../actions/load/main.ts';
import { FileBucket } from '../../src/bucket/file.ts';
import { normalize, postgresEngine, POSTGRES_URL, withSession } from '../helpers/sql-engines.ts';
import { needsPostgres } from '../helpers/services.ts';
import { runInProcess } from './in-process.ts';

const havePostgres = await needsPostgres();
const SCHEMA = 'lh_ingest_load_config';
const CONFIG = `project: config_test
datasets:
  - name: sales
    source: { path: incoming/sales, glob: '*.csv' }
    format: csv
    columns:
      - { name: id, type: integer, nullable: false }
      - { name: item, type: string }
    load: { mode: append }
  - name: returns
    source: { path: incoming/returns, glob: '*.csv' }
    format: csv
    columns:
      - { name: id, type: integer, nullable: false }
    load: { mode: append }
ingest:
  destination: 'landing/{dataset}/{date}/{file}'
# One line in four is bad on purpose.
load: { maxQuarantineShare: 0.5 }
profiles:
  ci:
    bucket: file://bucket
    sql: { engine: postgres, connection: '\${env:INGEST_LOAD_CONFIG_PG}', schema: ${SCHEMA} }
    manifests: manifests
`;

let dir: string;
let config: string;
const env = { GITHUB_RUN_ID: '31', GITHUB_RUN_ATTEMPT: '1', GITHUB_SHA: 'abc' };
const date = new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ingest-load-config-'));
  config = path.join(dir, 'lakehouse.yml');
  await fsp.writeFile(config, CONFIG);
  await fsp.mkdir(path.join(dir, 'incoming/sales'), { recursive: true });
  await fsp.mkdir(path.join(dir, 'incoming/returns'), { recursive: true });
  await fsp.writeFile(path.join(dir, 'incoming/sales/day1.csv'), 'id,item\n1,milk\n2,bread\nx,eggs\n');
  await fsp.writeFile(path.join(dir, 'incoming/sales/notes.txt'), 'not a csv');
  await fsp.writeFile(path.join(dir, 'incoming/returns/day1.csv'), 'id\n7\n');
});
afterAll(() => fsp.rm(dir, { recursive: true, force: true }));

describe('the ingest action with lakehouse.yml', () => {
  it("uploads each dataset's files as the config names them, and writes the manifest to the profile's folder", async () => {
    const ingest = await runInProcess(runIngestAction, dir, { config, profile: 'ci' }, env);
    expect(ingest.failed).toBe(false);
    expect(ingest.outputs).toMatchObject({ uploaded: '2', skipped: '0', failed: '0' });
    const bucket = new FileBucket(path.join(dir, 'bucket'));
    expect(await bucket.stat(`landing/sales/${date}/notes.txt`)).toBeUndefined();
    // The bucket as the config names it (relative to the project, as the load audit knows it).
    expect(JSON.parse(ingest.outputs['uploaded-objects']!)).toEqual([
      `file://bucket/landing/sales/${date}/day1.csv`,
      `file://bucket/landing/returns/${date}/day1.csv`,
    ]);
    expect(ingest.outputs.manifest).toBe(path.join(dir, 'manifests/ingest-31-1.json'));
    // One table row per dataset, and a total row that carries the time.
    expect(ingest.summary).toMatch(/\| sales \| 1 \| 1 \| 0 \| 0 \| 0 \|/);
    expect(ingest.summary).toMatch(/\| total \| 2 \| 2 \| 0 \| 0 \| 0 \| \d+ B \| \d+\.\d \|/);
  });

  it('takes inputs over the config: one dataset, another folder and glob', async () => {
    await fsp.mkdir(path.join(dir, 'elsewhere'), { recursive: true });
    await fsp.writeFile(path.join(dir, 'elsewhere/late.txt'), 'id,item\n9,tea\n');
    const inputs = {
      config,
      profile: 'ci',
      dataset: 'sales',
      path: path.join(dir, 'elsewhere'),
      glob: '*.txt',
    };
    const ingest = await runInProcess(runIngestAction, dir, inputs, { ...env, GITHUB_RUN_ID: '32' });
    expect(ingest.failed).toBe(false);
    expect(ingest.outputs.uploaded).toBe('1');
    expect(fs.existsSync(path.join(dir, `bucket/landing/sales/${date}/late.txt`))).toBe(true);

    const both = await runInProcess(runIngestAction, dir, { ...inputs, dataset: '' }, env);
    expect(both.failed).toBe(true);
    expect(both.stdout).toContain(
      '::error::ingest failed: input path: expected one dataset to take the files of (the dataset input), found 2 in',
    );
    expect(both.outputs).toEqual({});
    expect(process.exitCode).toBeUndefined();
  });

  it.skipIf(!havePostgres)(
    'the load action loads exactly what the ingest action uploaded, found by the same names',
    async () => {
      await postgresEngine.reset(SCHEMA);
      const load = await runInProcess(
        runLoadAction,
        dir,
        { config, profile: 'ci', manifest: path.join(dir, 'manifests/ingest-31-1.json') },
        { ...env, INGEST_LOAD_CONFIG_PG: POSTGRES_URL },
      );
      expect(load.failed).toBe(false);
      expect(load.outputs).toMatchObject({
        'objects-loaded': '2',
        'rows-loaded': '3',
        'rows-quarantined': '1',
        'objects-failed': '0',
      });
      expect(load.summary).toContain('Rows in = rows loaded + rows quarantined: 4 = 3 + 1.');
      const rows = await withSession(postgresEngine.target(SCHEMA), (s) =>
        s.query(`SELECT id, item FROM ${s.dialect.table('sales')} ORDER BY id`),
      );
      expect(normalize(rows)).toEqual([
        { id: 1, item: 'milk' },
        { id: 2, item: 'bread' },
      ]);
    },
  );
});
