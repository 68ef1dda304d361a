// The bundled ingest action, run as GitHub runs it: `node actions/ingest/dist/index.js` with INPUT_* variables,
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, in a workspace folder; the bucket is the GCS test server.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBundledAction, type ActionRun } from '../helpers/github-action.ts';
import { repoRoot } from '../helpers/services.ts';
import { startGcsServer, type GcsServer } from '../../src/standins/gcs/server.ts';

const DIST = path.join(repoRoot, 'actions/ingest/dist/index.js');
const BUCKET = 'action-bucket';
let server: GcsServer;
let root: string;

beforeAll(async () => {
  if (!fs.existsSync(DIST)) throw new Error(`${DIST} is missing: build it with npm run build:actions`);
  server = await startGcsServer({ buckets: [BUCKET] });
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'ingest-action-'));
});
afterAll(async () => {
  await server.close();
  await fsp.rm(root, { recursive: true, force: true });
});

interface IngestRun extends ActionRun {
  workspace: string;
  /** Requests the server got during this run. */
  requests: GcsServer['requests'];
}

/** A workspace with a `data` folder of CSV files. */
async function workspace(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(root, name);
  for (const [file, text] of Object.entries(files)) {
    await fsp.mkdir(path.dirname(path.join(dir, 'data', file)), { recursive: true });
    await fsp.writeFile(path.join(dir, 'data', file), text);
  }
  await fsp.mkdir(dir, { recursive: true });
  return dir;
}

async function runAction(dir: string, inputs: Record<string, string>, attempt = 1): Promise<IngestRun> {
  const since = server.requests.at(-1)?.seq ?? 0;
  const run = await runBundledAction({
    action: 'ingest',
    cwd: dir,
    inputs,
    env: {
      GITHUB_RUN_ID: '9001',
      GITHUB_RUN_ATTEMPT: String(attempt),
      GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
      STORAGE_EMULATOR_HOST: server.url,
    },
  });
  return { ...run, workspace: dir, requests: server.requests.filter((r) => r.seq > since) };
}

const uploads = (run: IngestRun) => run.requests.filter((r) => /^upload|^resumable/.test(r.kind));

describe('the bundled ingest action', () => {
  it('uploads, sets its outputs, writes the job summary and the manifest, and skips unchanged files next time', async () => {
    const dir = await workspace('happy', {
      'a.csv': 'x\n1\n',
      'sub/b.csv': 'x\n2\n',
      'notes.txt': 'ignored',
    });
    const inputs = {
      path: 'data',
      glob: '**/*.csv',
      bucket: `gs://${BUCKET}/landing`,
      destination: '{dataset}/{date}/{file}',
      dataset: 'sales',
      concurrency: '4',
    };
    const first = await runAction(dir, inputs);
    expect(first.stderr).toBe('');
    expect(first.code, first.stdout).toBe(0);
    const date = new Date().toISOString().slice(0, 10);
    expect(first.outputs).toMatchObject({
      uploaded: '2',
      skipped: '0',
      conflicts: '0',
      failed: '0',
      bytes: '8',
    });
    expect(JSON.parse(first.outputs['uploaded-objects']!)).toEqual([
      `gs://${BUCKET}/landing/sales/${date}/a.csv`,
      `gs://${BUCKET}/landing/sales/${date}/sub/b.csv`,
    ]);
    expect(first.outputs.manifest).toBe('.lakehouse/manifests/ingest-9001-1.json');
    const manifest = JSON.parse(await fsp.readFile(path.join(dir, first.outputs.manifest!), 'utf8'));
    expect(manifest).toMatchObject({ stage: 'ingest', runId: '9001-1', bucket: `gs://${BUCKET}/landing` });
    expect((await server.store.readObject(BUCKET, `landing/sales/${date}/sub/b.csv`)).toString()).toBe(
      'x\n2\n',
    );
    expect(server.store.get(BUCKET, `landing/sales/${date}/a.csv`)!.metadata).toMatchObject({
      'run-id': '9001-1',
      'source-path': 'a.csv',
    });

    expect(first.summary).toContain(`<h2>Ingest → gs://${BUCKET}/landing</h2>`);
    expect(first.summary).toMatch(
      /\| files \| uploaded \| skipped \| conflicts \| failed \| uploaded_bytes \| seconds \| throughput \|/,
    );
    expect(first.summary).toMatch(/\| 2 \| 2 \| 0 \| 0 \| 0 \| 8 B \|/);
    expect(first.summary).toContain(`| uploaded | sales/${date}/a.csv | 4 B |`);
    expect(first.stdout).toContain(`uploaded sales/${date}/a.csv: new object`);

    const second = await runAction(dir, inputs, 2);
    expect(second.code, second.stdout).toBe(0);
    expect(second.outputs).toMatchObject({
      uploaded: '0',
      skipped: '2',
      bytes: '0',
      'uploaded-objects': '[]',
    });
    expect(uploads(second)).toEqual([]);
    expect(second.summary).toContain('Nothing to upload: every file matches its object.');
  });

  it('fails and reports a conflict when an object changes between listing and upload, without overwriting it', async () => {
    const dir = await workspace('conflict', { 'a.csv': 'ours', 'b.csv': 'also ours' });
    server.onRequest = async ({ kind, object }) => {
      if (kind === 'upload-multipart' && object === 'conflict/raw/a.csv') {
        server.onRequest = undefined;
        await server.store.putObject(BUCKET, 'conflict/raw/a.csv', 'theirs');
      }
    };
    const run = await runAction(dir, { path: 'data', bucket: `gs://${BUCKET}/conflict` });
    expect(run.code).toBe(1);
    expect(run.outputs).toMatchObject({ uploaded: '1', conflicts: '1', failed: '0' });
    expect(run.stdout).toMatch(
      /::error::ingest failed: 1 conflict and 0 failed uploads of 2 files; first: raw\/a.csv: gs:\/\/action-bucket\/conflict\/raw\/a.csv: precondition failed: expected no object, found generation \d+; not overwritten/,
    );
    expect(run.summary).toMatch(/\| conflict \| raw\/a.csv \| 4 B \| {2}\| .*changed by someone else/);
    expect(run.requests.some((r) => r.object === 'conflict/raw/a.csv' && r.status === 412)).toBe(true);
    expect((await server.store.readObject(BUCKET, 'conflict/raw/a.csv')).toString()).toBe('theirs');
  });

  it('plans a dry run without writing', async () => {
    const dir = await workspace('dry', { 'a.csv': 'a', 'b.csv': 'b' });
    const run = await runAction(dir, { path: 'data', bucket: BUCKET, 'dry-run': 'true', gzip: 'true' });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ planned: '2', uploaded: '0' });
    expect(uploads(run)).toEqual([]);
    expect(run.summary).toContain(`Ingest → gs://${BUCKET} (dry run)`);
  });

  it('refuses bad inputs with a clear message before sending any request', async () => {
    const dir = await workspace('bad', { 'a.csv': 'a' });
    const good = { path: 'data', bucket: `gs://${BUCKET}/bad` };
    const key = 'ABCDEFGHIJKLMNOPQRSTUVWXYZsecretkeymaterial0123456789';
    const cases: [Record<string, string>, RegExp][] = [
      [{ bucket: good.bucket }, /::error::ingest failed: Input required and not supplied: path/],
      [{ ...good, path: 'nowhere' }, /input path: expected a folder, found nothing at "nowhere"/],
      [{ ...good, path: 'data/a.csv' }, /input path: expected a folder, found a file/],
      [
        { ...good, bucket: 'gs://My_Bucket/raw' },
        /input bucket: invalid GCS bucket name "My_Bucket": it has uppercase letters/,
      ],
      [{ ...good, bucket: 'gs://goog-data' }, /invalid GCS bucket name "goog-data": it starts with "goog"/],
      [
        { ...good, bucket: 's3://x' },
        /input bucket: expected gs:\/\/<bucket>\[\/<prefix>\] or file:\/\/<folder>/,
      ],
      [
        { ...good, destination: '{dataset}/{month}/{file}' },
        /unknown placeholder \{month\} \(expected \{dataset\}, \{date\}, \{file\}, \{run_id\}, \{sha\}\)/,
      ],
      [
        { ...good, destination: '../{file}' },
        /file a.csv: invalid object name "..\/a.csv": it has a "." or ".." segment that would escape the prefix/,
      ],
      [{ ...good, dataset: '..' }, /input dataset: expected letters, digits/],
      [{ ...good, gzip: 'yes' }, /input gzip: expected true or false, found "yes"/],
      [{ ...good, concurrency: '0' }, /input concurrency: expected a whole number from 1 to 64, found "0"/],
      [
        { ...good, 'resumable-threshold-mb': '-1' },
        /input resumable-threshold-mb: expected a positive number/,
      ],
      [
        { ...good, 'credentials-json': `{"type":"user","private_key":"${key}"}` },
        /input credentials-json: expected "type": "service_account" or "external_account", found "user"/,
      ],
    ];
    const runs = await Promise.all(cases.map(([inputs], i) => runAction(dir, inputs, 100 + i)));
    runs.forEach((run, i) => {
      expect(run.code, JSON.stringify(cases[i]![0])).toBe(1);
      expect(run.stdout).toMatch(cases[i]![1]);
      expect(run.stdout.match(/::error::/g)).toHaveLength(1);
      expect(run.outputs).toEqual({});
    });
    // No run sent anything, let alone an upload.
    expect(runs.flatMap((run) => run.requests)).toEqual([]);
    // The key was masked before anything else was printed, and appears only in the masking commands.
    const secretRun = runs.at(-1)!;
    expect(secretRun.stdout.startsWith('::add-mask::')).toBe(true);
    const withKey = secretRun.stdout.split('\n').filter((line) => line.includes(key));
    expect(withKey.length).toBeGreaterThan(0);
    for (const line of withKey) expect(line.startsWith('::add-mask::')).toBe(true);
  });
});
