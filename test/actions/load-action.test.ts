// The bundled load action (actions/load/dist/index.js), run as GitHub runs it: INPUT_* variables in, outputs in
// $GITHUB_OUTPUT, a job summary in $GITHUB_STEP_SUMMARY, against the PostgreSQL server.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBucket } from '../../src/bucket/file.ts';
import { normalize, postgresEngine, withSession } from '../helpers/sql-engines.ts';
import { runBundledAction } from '../helpers/github-action.ts';
import { needsPostgres, repoRoot } from '../helpers/services.ts';

const DIST = path.join(repoRoot, 'actions/load/dist/index.js');
const SCHEMA = 'lh_load_action';
const PASSWORD = 'Secr3t-Passw0rd-in-the-url';
// Trust authentication accepts any password: this one exists only to prove it is never shown.
const CONNECTION = `postgres://postgres:${PASSWORD}@127.0.0.1:5432/test`;

const CONFIG = `project: action_test
datasets:
  - name: transactions
    source: { path: data }
    format: csv
    columns:
      - { name: member_number, source: Member_number, type: integer, nullable: false }
      - { name: txn_date, source: Date, type: date, nullable: false }
      - { name: item, source: itemDescription, type: string, nullable: false }
    load: { mode: append, table: transactions }
# A third of the test file is bad on purpose.
load: { maxQuarantineShare: 0.5 }
profiles:
  ci:
    bucket: file://bucket
    sql: { engine: postgres, connection: '\${env:ACTION_TEST_PG_URL}', schema: ${SCHEMA} }
    manifests: manifests
`;

const ok = await needsPostgres();

describe.skipIf(!ok)('the bundled load action against PostgreSQL', () => {
  let dir: string;

  beforeAll(async () => {
    await postgresEngine.reset(SCHEMA);
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'load-action-'));
    await fsp.writeFile(path.join(dir, 'lakehouse.yml'), CONFIG);
    const bucket = new FileBucket(path.join(dir, 'bucket'));
    await fsp.writeFile(
      path.join(dir, 'upload.csv'),
      'Member_number,Date,itemDescription\n1,2015-01-01,milk\n2,2015-01-02,bread\n3,2015-02-30,eggs\n',
    );
    await bucket.upload(path.join(dir, 'upload.csv'), 'transactions/day1.csv');
  });
  afterAll(async () => {
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  const action = (inputs: Record<string, string>) =>
    runBundledAction({
      action: 'load',
      cwd: dir,
      inputs,
      env: { GITHUB_RUN_ID: '777', GITHUB_RUN_ATTEMPT: '1' },
    });

  it('is bundled: dist/index.js exists and declares node24', () => {
    expect(fs.existsSync(DIST)).toBe(true);
    expect(fs.readFileSync(path.join(repoRoot, 'actions/load/action.yml'), 'utf8')).toMatch(
      /using: 'node24'\n\s+main: 'dist\/index.js'/,
    );
  });

  it('loads, sets its outputs and writes a summary; run again, it skips what is loaded', async () => {
    const first = await action({
      config: 'lakehouse.yml',
      profile: 'ci',
      connection: CONNECTION,
      'batch-size': '500',
    });
    expect(first.code).toBe(0);
    expect(first.outputs).toEqual({
      'rows-loaded': '2',
      'rows-quarantined': '1',
      'objects-loaded': '1',
      'objects-skipped': '0',
      'objects-failed': '0',
      'objects-withdrawn': '0',
      'rows-replaced': '0',
      changed: 'true',
      manifest: path.join(dir, 'manifests/load-777-1.json'),
    });
    expect(first.summary).toContain('<h2>Load</h2>');
    expect(first.summary).toContain('Rows in = rows loaded + rows quarantined: 3 = 2 + 1.');
    expect(first.summary).toContain(
      '<td>transactions/day1.csv</td><td>loaded</td><td>3</td><td>2</td><td>1</td><td>bad value in Date: 1</td>',
    );
    expect(first.summary).toContain('Target: PostgreSQL postgres@127.0.0.1:5432/test.');
    const manifest = JSON.parse(await fsp.readFile(first.outputs.manifest!, 'utf8'));
    expect(manifest).toMatchObject({ stage: 'load', runId: '777-1', totals: { rowsIn: 3, rowsLoaded: 2 } });
    const rows = await withSession(postgresEngine.target(SCHEMA), (s) =>
      s.query(`SELECT member_number, item FROM ${s.dialect.table('transactions')} ORDER BY member_number`),
    );
    expect(normalize(rows)).toEqual([
      { member_number: 1, item: 'milk' },
      { member_number: 2, item: 'bread' },
    ]);

    const second = await action({ profile: 'ci', connection: CONNECTION });
    expect(second.code).toBe(0);
    expect(second.outputs).toMatchObject({
      'rows-loaded': '0',
      'objects-loaded': '0',
      'objects-skipped': '1',
    });

    for (const text of [
      first.summary,
      second.summary,
      JSON.stringify(manifest),
      JSON.stringify(first.outputs),
    ])
      expect(text).not.toContain(PASSWORD);
    // The password appears only in the masking command the runner consumes.
    const lines = first.stdout.split('\n').filter((l) => l.includes(PASSWORD));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.startsWith('::add-mask::'))).toBe(true);
  });

  it('fails with "load failed: …" and no secret when the database cannot be reached', async () => {
    const badUrl = `postgres://postgres:${PASSWORD}@127.0.0.1:1/test`;
    const failed = await action({ profile: 'ci', connection: badUrl, 'dry-run': 'false' });
    expect(failed.code).toBe(1);
    const error = failed.stdout.split('\n').find((l) => l.startsWith('::error::'));
    expect(error).toMatch(
      /^::error::load failed: connecting on PostgreSQL postgres@127\.0\.0\.1:1\/test: connect ECONNREFUSED/,
    );
    expect(
      failed.stdout.split('\n').filter((l) => l.includes(PASSWORD) && !l.startsWith('::add-mask::')),
    ).toEqual([]);
  });

  it('checks its inputs and names the allowed values', async () => {
    const failed = await action({ profile: 'ci', connection: CONNECTION, mode: 'upsert' });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(
      '::error::load failed: input mode: expected one of append, merge, found "upsert"',
    );
  });
});
