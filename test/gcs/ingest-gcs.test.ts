// The ingest stage into gs:// buckets: the real @google-cloud/storage client against the GCS test server.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { digestFile } from '../../src/bucket/file.ts';
import { GcsBucket, type GcsBucketOptions } from '../../src/bucket/gcs.ts';
import { ingest, type IngestOptions } from '../../src/stages/ingest.ts';
import { memoryLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { startGcsServer, type GcsServer } from '../../src/standins/gcs/server.ts';

const MiB = 1024 * 1024;
const BUCKET = 'ingest-bucket';
let server: GcsServer;
let dir: string;

beforeAll(async () => {
  server = await startGcsServer({ buckets: [BUCKET] });
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ingest-gcs-'));
});
afterAll(async () => {
  await server.close();
  await fsp.rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  server.faults.off();
  server.onRequest = undefined;
});

function gcsBucket(prefix: string, options: GcsBucketOptions = {}) {
  const log = memoryLogger();
  const bucket = new GcsBucket(`gs://${BUCKET}/${prefix}`, {
    apiEndpoint: server.url,
    log,
    retry: { initialDelayMs: 5, maxDelayMs: 100 },
    ...options,
  });
  return { bucket, log };
}

function run(source: string, bucket: GcsBucket, log = memoryLogger(), over: Partial<IngestOptions> = {}) {
  return ingest({
    sources: [{ dataset: 'ds', path: source, glob: '**/*' }],
    bucket,
    destination: '{dataset}/{file}',
    run: currentRun({ GITHUB_RUN_ID: '42', GITHUB_SHA: 'abc123' }, new Date('2026-03-04T05:06:07Z')),
    log,
    concurrency: 8,
    ...over,
  });
}

/** Small CSV files with distinct contents. */
async function smallFiles(folder: string, count: number): Promise<void> {
  await fsp.mkdir(path.join(folder, 'part'), { recursive: true });
  for (let i = 0; i < count; i++) {
    const rows = Array.from({ length: 20 + (i % 30) }, (_, r) => `${i},${r},${(i * 7919 + r) % 1000}`).join(
      '\n',
    );
    await fsp.writeFile(
      path.join(folder, i % 2 ? 'part' : '', `f${String(i).padStart(4, '0')}.csv`),
      `a,b,c\n${rows}\n`,
    );
  }
}

/** A large file of pseudo-random bytes, written a block at a time so the test never holds it in memory. */
async function largeFile(file: string, bytes: number): Promise<void> {
  const block = crypto.randomBytes(MiB);
  const handle = await fsp.open(file, 'w');
  try {
    for (let written = 0, n = 0; written < bytes; n++) {
      block.writeUInt32BE(n, 0); // every block differs
      const size = Math.min(MiB, bytes - written);
      await handle.write(block, 0, size);
      written += size;
    }
  } finally {
    await handle.close();
  }
}

/** Samples this process's resident memory while `work` runs; returns the peak increase. */
async function peakRssIncrease<T>(work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  globalThis.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss() - baseline)), 25);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, process.memoryUsage.rss() - baseline) };
  } finally {
    clearInterval(timer);
  }
}

async function md5OfStream(stream: AsyncIterable<unknown>): Promise<string> {
  const hash = crypto.createHash('md5');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

describe('ingest into gs:// through the real client', () => {
  it('uploads 1,000 small files and a 200 MB file intact, then uploads nothing on a second run', async () => {
    const source = path.join(dir, 'bulk');
    await smallFiles(source, 1000);
    await largeFile(path.join(source, 'big.bin'), 200 * MiB);
    const { bucket, log } = gcsBucket('raw');

    const { result: first, peak } = await peakRssIncrease(() => run(source, bucket));
    expect(first.totals).toMatchObject({ files: 1001, uploaded: 1001, skipped: 0, conflicts: 0, failed: 0 });
    expect(first.totals.bytes).toBe(first.objects.reduce((sum, o) => sum + o.size, 0));
    // Far less than one copy of the large file: it streams through in chunks on both sides.
    expect(peak).toBeLessThan(150 * MiB);
    expect(log.lines.filter((l) => l.startsWith('warning'))).toEqual([]);

    for (const object of first.objects) {
      const stored = server.store.get(BUCKET, `raw/${object.name}`)!;
      const local = path.join(source, object.file);
      expect(stored.md5Hash, object.name).toBe(object.md5);
      expect(stored.metadata).toEqual({
        'run-id': '42-1',
        'source-path': object.file,
        'source-md5': object.md5,
        'source-sha256': object.sha256,
      });
      if (object.size < MiB)
        expect((await server.store.readObject(BUCKET, stored.name)).equals(await fsp.readFile(local))).toBe(
          true,
        );
    }
    const big = first.objects.find((o) => o.name === 'ds/big.bin')!;
    expect(big.size).toBe(200 * MiB);
    const bigStored = server.store.get(BUCKET, 'raw/ds/big.bin')!;
    expect((await digestFile(bigStored.file)).sha256).toBe(big.sha256);
    expect(await md5OfStream(await bucket.read('ds/big.bin'))).toBe(big.md5);
    expect(bigStored.contentType).toBe('application/octet-stream');
    expect(server.store.get(BUCKET, 'raw/ds/f0000.csv')!.contentType).toBe('text/csv');

    const since = server.requests.at(-1)?.seq ?? 0;
    const second = await run(source, bucket);
    expect(second.totals).toMatchObject({ files: 1001, uploaded: 0, skipped: 1001, bytes: 0 });
    const kinds = new Set(server.requests.filter((r) => r.seq > since).map((r) => r.kind));
    // Reads only: a get per file, and the listing that looks for objects whose file is gone.
    expect([...kinds]).toEqual(['get', 'list']);
  });

  it('reports an object changed by someone else between stat and upload as a conflict and leaves it alone', async () => {
    const source = path.join(dir, 'conflict');
    await smallFiles(source, 3);
    const { bucket } = gcsBucket('conflict');
    let struck = false;
    server.onRequest = async ({ kind, object }) => {
      if (kind === 'upload-multipart' && object === 'conflict/ds/f0000.csv' && !struck) {
        struck = true;
        await server.store.putObject(BUCKET, 'conflict/ds/f0000.csv', 'someone else');
      }
    };
    const manifest = await run(source, bucket);
    expect(manifest.totals).toMatchObject({ files: 3, uploaded: 2, conflicts: 1, failed: 0 });
    const conflict = manifest.objects.find((o) => o.status === 'conflict')!;
    expect(conflict.name).toBe('ds/f0000.csv');
    expect(conflict.reason).toMatch(
      /^gs:\/\/ingest-bucket\/conflict\/ds\/f0000.csv: precondition failed: expected no object, found generation \d+; not overwritten \(changed by someone else since it was listed\)$/,
    );
    expect((await server.store.readObject(BUCKET, 'conflict/ds/f0000.csv')).toString()).toBe('someone else');
    expect(server.requests.some((r) => r.object === 'conflict/ds/f0000.csv' && r.status === 412)).toBe(true);
  });

  it('delivers every file intact with 20% of requests failing, and logs every retry', async () => {
    const source = path.join(dir, 'faulty');
    await smallFiles(source, 150);
    await largeFile(path.join(source, 'm1.bin'), 3 * MiB + 100);
    await largeFile(path.join(source, 'm2.bin'), 2 * MiB);
    await largeFile(path.join(source, 'm3.bin'), 4 * MiB - 1);
    const { bucket, log } = gcsBucket('faulty', { resumableThreshold: MiB, chunkSize: 256 * 1024 });
    const since = server.requests.at(-1)?.seq ?? 0;
    server.faults.set({ rate: 0.2, kinds: ['503', '500', '429', 'reset'], seed: 20260304 });

    const manifest = await run(source, bucket, log);
    server.faults.off();
    // Any file that did not arrive is named with its reason.
    const missing = manifest.objects
      .filter((o) => o.status !== 'uploaded')
      .map((o) => `${o.name}: ${o.reason}`);
    expect(missing).toEqual([]);
    expect(manifest.totals).toMatchObject({ files: 153, uploaded: 153, failed: 0, conflicts: 0 });
    for (const object of manifest.objects) {
      const stored = await server.store.readObject(BUCKET, `faulty/${object.name}`);
      expect(stored.equals(await fsp.readFile(path.join(source, object.file))), object.name).toBe(true);
    }

    const faulted = server.requests.filter((r) => r.seq > since && r.fault);
    const share = faulted.length / server.requests.filter((r) => r.seq > since).length;
    expect(share).toBeGreaterThan(0.12);
    expect(share).toBeLessThan(0.28);
    // Every kind of fault hit, and hit reads, one-request uploads and resumable sessions alike.
    expect(new Set(faulted.map((r) => r.fault))).toEqual(new Set(['503', '500', '429', 'reset']));
    for (const kind of ['get', 'upload-multipart', 'resumable-chunk'])
      expect(
        faulted.some((r) => r.kind === kind),
        kind,
      ).toBe(true);
    const retries = log.lines.filter((l) => l.startsWith('warning: gs://ingest-bucket/faulty: '));
    expect(retries.length).toBeGreaterThanOrEqual(faulted.length);
    for (const request of faulted) {
      // The listing that looks for objects whose file is gone names no object; its retry names the listing.
      const expected =
        request.kind === 'list'
          ? ': list '
          : `: ${request.kind === 'get' ? 'stat' : 'upload'} ${request.object?.slice('faulty/'.length)}: `;
      expect(
        retries.some((l) => l.includes(expected)),
        `${request.kind} ${request.object ?? '(listing)'} failed with ${request.fault} but no retry names it`,
      ).toBe(true);
    }
  });

  it('writes nothing in a dry run', async () => {
    const source = path.join(dir, 'dry');
    await smallFiles(source, 5);
    const { bucket } = gcsBucket('dry');
    const since = server.requests.at(-1)?.seq ?? 0;
    const plan = await run(source, bucket, undefined, { dryRun: true });
    expect(plan.objects.map((o) => o.status)).toEqual(Array(5).fill('planned'));
    expect(
      server.requests.filter((r) => r.seq > since).every((r) => r.kind === 'get' || r.kind === 'list'),
    ).toBe(true);
    expect(fs.existsSync(path.join(source, 'part'))).toBe(true);
  });
});
