// The gs:// backend: the real @google-cloud/storage client against the GCS test server.
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GcsBucket, type GcsBucketOptions } from '../../src/bucket/gcs.ts';
import { checkBucketName, parseGcsUri } from '../../src/bucket/gcs-names.ts';
import { openBucket, PreconditionFailedError, ObjectNotFoundError } from '../../src/bucket/index.ts';
import { memoryLogger } from '../../src/util/log.ts';
import { startGcsServer, type GcsServer } from '../../src/standins/gcs/server.ts';

let server: GcsServer;
let dir: string;
const MiB = 1024 * 1024;

beforeAll(async () => {
  server = await startGcsServer({ buckets: ['test-bucket'] });
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'gcs-bucket-'));
});
afterAll(async () => {
  await server.close();
  await fsp.rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  server.faults.off();
  server.onRequest = undefined;
});

/** Fast retries for tests; the client's own retries inside a resumable session wait at least a second. */
function bucket(uri = 'gs://test-bucket/raw', options: GcsBucketOptions = {}) {
  const log = memoryLogger();
  const b = new GcsBucket(uri, {
    apiEndpoint: server.url,
    log,
    chunkSize: 256 * 1024,
    resumableThreshold: MiB,
    retry: { initialDelayMs: 5, maxDelayMs: 50 },
    ...options,
  });
  return { b, log };
}

async function file(name: string, data: Buffer | string): Promise<string> {
  const p = path.join(dir, name);
  await fsp.mkdir(path.dirname(p), { recursive: true });
  await fsp.writeFile(p, data);
  return p;
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const md5 = (data: Buffer | string) => crypto.createHash('md5').update(data).digest('base64');
const requestsSince = (seq: number) => server.requests.filter((r) => r.seq > seq);
const lastSeq = () => server.requests.at(-1)?.seq ?? 0;

describe('gs:// names', () => {
  it('accepts GCS bucket names and refuses the ones GCS would reject, saying why', () => {
    for (const ok of ['abc', 'my-bucket_1', 'a.b.c', 'x'.repeat(63), `${'a'.repeat(63)}.${'b'.repeat(63)}`])
      expect(checkBucketName(ok)).toBe(ok);
    const refused: [string, RegExp][] = [
      ['ab', /shorter than 3/],
      ['My-Bucket', /uppercase/],
      ['my bucket', /characters other than/],
      ['-bucket', /start and end with a letter or a digit/],
      ['bucket_', /start and end/],
      ['x'.repeat(64), /longer than 63/],
      ['a..b', /two dots/],
      ['192.168.5.4', /IP address/],
      ['goog-data', /starts with "goog"/],
      ['my-g00gle-bucket', /"google" or a look-alike/],
    ];
    for (const [name, why] of refused) expect(() => checkBucketName(name), name).toThrow(why);
    expect(() => checkBucketName('Bad')).toThrow(
      /invalid GCS bucket name "Bad": .*https:\/\/cloud.google.com/,
    );
  });

  it('parses gs://bucket[/prefix] and refuses prefixes that escape', () => {
    expect(parseGcsUri('gs://b-1')).toEqual({ bucket: 'b-1', prefix: '' });
    expect(parseGcsUri('gs://b-1/raw/2024/')).toEqual({ bucket: 'b-1', prefix: 'raw/2024' });
    expect(() => parseGcsUri('s3://b-1')).toThrow(/expected gs:\/\/<bucket>/);
    expect(() => parseGcsUri('gs://b-1/raw/../x')).toThrow(
      /prefix "raw\/..\/x": it has a "." or ".." segment/,
    );
    expect(() => new GcsBucket('gs://UPPER', { apiEndpoint: server.url })).toThrow(/uppercase/);
  });

  it('opens gs:// URIs through openBucket', async () => {
    const b = await openBucket('gs://test-bucket/p', undefined, { apiEndpoint: server.url });
    expect(b).toBeInstanceOf(GcsBucket);
    expect(b.uri).toBe('gs://test-bucket/p');
  });
});

describe('GcsBucket against the test server', () => {
  it('uploads small files in one request and large ones in a resumable session, relative to the prefix', async () => {
    const { b } = bucket();
    const small = await file('small.csv', 'a,b\n1,2\n');
    const large = await file('large.bin', crypto.randomBytes(MiB + 12345));
    const since = lastSeq();

    const s = await b.upload(small, 'ds/small.csv', { ifGenerationMatch: '0', metadata: { 'run-id': 'r1' } });
    expect(s).toMatchObject({
      name: 'ds/small.csv',
      size: 8,
      md5: md5('a,b\n1,2\n'),
      contentType: 'text/csv',
      metadata: { 'run-id': 'r1' },
    });
    const l = await b.upload(large, 'ds/large.bin', { ifGenerationMatch: '0' });
    expect(l.md5).toBe(md5(await fsp.readFile(large)));

    const kinds = requestsSince(since).map((r) => r.kind);
    expect(kinds.filter((k) => k === 'upload-multipart')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'resumable-start')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'resumable-chunk').length).toBe(5); // 1 MiB + a bit in 256 KiB chunks
    expect(server.store.get('test-bucket', 'raw/ds/small.csv')?.md5Hash).toBe(s.md5);

    expect(await b.stat('ds/small.csv')).toEqual(s);
    expect(await b.stat('ds/none.csv')).toBeUndefined();
    expect((await readAll(await b.read('ds/large.bin'))).equals(await fsp.readFile(large))).toBe(true);
    const names: string[] = [];
    for await (const o of b.list('ds/')) names.push(o.name);
    expect(names).toEqual(['ds/large.bin', 'ds/small.csv']);
  });

  it('sets the content type by extension, stores gzip as sent, and reads it back decompressed', async () => {
    const { b } = bucket();
    const text = 'x,y\n'.repeat(10_000);
    const f = await file('data.json', text);
    const o = await b.upload(f, 'gz/data.json', { ifGenerationMatch: '0', gzip: true });
    expect(o).toMatchObject({ contentType: 'application/json', contentEncoding: 'gzip' });
    const stored = await server.store.readObject('test-bucket', 'raw/gz/data.json');
    expect(o.size).toBe(stored.length);
    expect(o.md5).toBe(md5(stored));
    expect(zlib.gunzipSync(stored).toString()).toBe(text);
    expect((await readAll(await b.read('gz/data.json'))).toString()).toBe(text);
  });

  it('refuses to overwrite an object that changed since it was listed (412)', async () => {
    const { b } = bucket();
    const f = await file('c.csv', 'mine');
    const first = await b.upload(f, 'c/c.csv', { ifGenerationMatch: '0' });
    const theirs = await server.store.putObject('test-bucket', 'raw/c/c.csv', 'theirs');
    const error = await b
      .upload(f, 'c/c.csv', { ifGenerationMatch: first.generation })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreconditionFailedError);
    expect((error as Error).message).toBe(
      `gs://test-bucket/raw/c/c.csv: precondition failed: expected generation ${first.generation}, found generation ${theirs.generation}; not overwritten`,
    );
    expect((await server.store.readObject('test-bucket', 'raw/c/c.csv')).toString()).toBe('theirs');

    const big = await file('c.bin', crypto.randomBytes(MiB + 1));
    await expect(b.upload(big, 'c/c.csv', { ifGenerationMatch: '0' })).rejects.toThrow(/expected no object/);
  });

  it('deletes with a generation precondition and reports missing objects', async () => {
    const { b } = bucket();
    const o = await b.upload(await file('d.txt', 'd'), 'd.txt', { ifGenerationMatch: '0' });
    await expect(b.delete('d.txt', { ifGenerationMatch: '1' })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    await b.delete('d.txt', { ifGenerationMatch: o.generation });
    await expect(b.delete('d.txt')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(b.read('d.txt')).rejects.toThrow(/gs:\/\/test-bucket\/raw\/d.txt: no such object/);
  });

  it('lists across pages', async () => {
    const { b } = bucket('gs://test-bucket/many');
    for (let i = 0; i < 1005; i++)
      await server.store.putObject('test-bucket', `many/f${String(i).padStart(4, '0')}`, '');
    const since = lastSeq();
    let count = 0;
    for await (const o of b.list()) {
      expect(o.name).toBe(`f${String(count).padStart(4, '0')}`);
      count++;
    }
    expect(count).toBe(1005);
    expect(requestsSince(since).filter((r) => r.kind === 'list')).toHaveLength(2);
  });
});

describe('GcsBucket retries and integrity', () => {
  it('retries transient failures of each kind and logs every retry with its object', async () => {
    const { b, log } = bucket();
    const f = await file('r.csv', 'retry me');
    server.faults
      .inject('503', (t) => t.kind === 'get')
      .inject('reset', (t) => t.kind === 'get')
      .inject('429', (t) => t.kind === 'upload-multipart')
      .inject('reset', (t) => t.kind === 'upload-multipart')
      .inject('408', (t) => t.kind === 'upload-multipart');
    expect(await b.stat('r/r.csv')).toBeUndefined();
    const o = await b.upload(f, 'r/r.csv', { ifGenerationMatch: '0' });
    expect(o.md5).toBe(md5('retry me'));
    const retries = log.lines.filter((l) => /retry \d+\/7/.test(l));
    expect(retries).toHaveLength(5);
    expect(retries[0]).toMatch(
      /^warning: gs:\/\/test-bucket\/raw: stat r\/r.csv: HTTP 503: .*; retry 1\/7 in \d+ ms$/,
    );
    expect(retries[1]).toMatch(/stat r\/r.csv: read ECONNRESET/);
    expect(retries.slice(2).join('\n')).toMatch(
      /upload r\/r.csv: HTTP 429[^]*upload r\/r.csv: .*ECONNRESET[^]*upload r\/r.csv: HTTP 408/,
    );
  });

  it('does not retry an upload without a precondition', async () => {
    const { b, log } = bucket();
    server.faults.inject('503', (t) => t.kind === 'upload-multipart');
    await expect(b.upload(await file('n.csv', 'n'), 'n.csv')).rejects.toThrow(/503/);
    expect(log.lines).toEqual([]);
  });

  it('resumes a broken resumable session where the server stopped, and logs it', async () => {
    const { b, log } = bucket();
    const data = crypto.randomBytes(3 * MiB);
    const f = await file('resume.bin', data);
    const since = lastSeq();
    server.faults
      .inject('reset', (t) => t.kind === 'resumable-chunk')
      .inject('503', (t) => t.kind === 'resumable-status') // breaks the client's own recovery
      .inject('503', (t) => t.kind === 'resumable-chunk');
    const o = await b.upload(f, 'resume.bin', { ifGenerationMatch: '0' });
    expect(o.md5).toBe(md5(data));
    expect((await server.store.readObject('test-bucket', 'raw/resume.bin')).equals(data)).toBe(true);
    const requests = requestsSince(since);
    // One session throughout: it was resumed, not restarted.
    expect(requests.filter((r) => r.kind === 'resumable-start')).toHaveLength(1);
    const sent = requests.reduce((sum, r) => sum + r.bytesIn, 0);
    expect(sent).toBeLessThan(data.length + 3 * 256 * 1024 + 1000);
    expect(log.lines.filter((l) => l.includes('upload resume.bin')).length).toBeGreaterThanOrEqual(3);
    expect(log.lines.join('\n')).not.toMatch(/upload_id=[^*]/);
  });

  it('treats a 412 after a lost response as its own earlier write', async () => {
    const { b, log } = bucket();
    const f = await file('lost.csv', 'landed once');
    server.faults.inject('lost-response', (t) => t.kind === 'upload-multipart');
    const o = await b.upload(f, 'lost.csv', { ifGenerationMatch: '0' });
    expect(o.md5).toBe(md5('landed once'));
    expect(log.lines.join('\n')).toMatch(/upload lost.csv: .*ECONNRESET[^]*an earlier attempt was stored/);
  });

  it('detects bytes stored differently from what was sent, removes them and uploads again', async () => {
    const { b, log } = bucket();
    const f = await file('corrupt.csv', 'precious bytes');
    server.faults.inject('corrupt', (t) => t.kind === 'upload-multipart');
    const o = await b.upload(f, 'corrupt.csv', { ifGenerationMatch: '0' });
    expect((await server.store.readObject('test-bucket', 'raw/corrupt.csv')).toString()).toBe(
      'precious bytes',
    );
    expect(o.md5).toBe(md5('precious bytes'));
    expect(log.lines.join('\n')).toMatch(
      /upload corrupt.csv: IntegrityError: .*the stored object has MD5 \S+ instead of \S+, CRC32C \S+ instead of \S+; removed it; retry 1\/7/,
    );
  });

  it('follows STORAGE_EMULATOR_HOST, whose request paths leave out /storage/v1', async () => {
    const saved = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = server.url;
    try {
      const b = new GcsBucket('gs://test-bucket/emu', { log: memoryLogger() });
      const since = lastSeq();
      await b.upload(await file('e.csv', 'e'), 'e.csv', { ifGenerationMatch: '0' });
      expect((await b.stat('e.csv'))?.md5).toBe(md5('e'));
      const paths = requestsSince(since).map((r) => `${r.method} ${r.path}`);
      expect(paths).toEqual(['POST /upload/storage/v1/b/test-bucket/o', 'GET /b/test-bucket/o/emu%2Fe.csv']);
    } finally {
      if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = saved;
    }
    const { b } = bucket('gs://test-bucket/emu');
    const since = lastSeq();
    await b.stat('e.csv');
    expect(requestsSince(since).map((r) => r.path)).toEqual(['/storage/v1/b/test-bucket/o/emu%2Fe.csv']);
  });
});
