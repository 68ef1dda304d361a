// The GCS test server against the JSON API reference, with plain HTTP requests (no client library), so that the
// client tests rest on a server whose behaviour is checked on its own.
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../src/bucket/crc32c.ts';
import { RESUMABLE_QUANTUM, startGcsServer, type GcsServer } from '../../src/standins/gcs/server.ts';

let server: GcsServer;
const B = 'test-bucket';

beforeAll(async () => {
  server = await startGcsServer({ buckets: [B, 'other-bucket'] });
});
afterAll(() => server.close());
beforeEach(() => {
  server.faults.off();
});

const api = (path: string) => `${server.url}/storage/v1/b/${B}/o${path}`;
const upload = (query: string) => `${server.url}/upload/storage/v1/b/${B}/o?${query}`;
const md5 = (data: Buffer | string) => crypto.createHash('md5').update(data).digest('base64');

async function media(name: string, data: Buffer | string, query = '', headers: Record<string, string> = {}) {
  return fetch(upload(`uploadType=media&name=${encodeURIComponent(name)}${query}`), {
    method: 'POST',
    headers: { 'content-type': 'text/plain', ...headers },
    body: typeof data === 'string' ? data : new Uint8Array(data),
  });
}

function multipartBody(boundary: string, metadata: object, data: Buffer | string, mediaType = 'text/csv') {
  return Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify(metadata)}\r\n`,
    ),
    Buffer.from(`--${boundary}\r\nContent-Type: ${mediaType}\r\n\r\n`),
    Buffer.from(data),
    Buffer.from(`\r\n--${boundary}--`),
  ]);
}

async function startSession(name: string, query = '', metadata: object = {}) {
  const res = await fetch(upload(`uploadType=resumable&name=${encodeURIComponent(name)}${query}`), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-upload-content-type': 'application/octet-stream' },
    body: JSON.stringify(metadata),
  });
  return { res, location: res.headers.get('location')! };
}

describe('GCS test server: uploads', () => {
  it('stores a media upload and computes md5Hash and crc32c', async () => {
    const res = await media('dir/a.txt', 'hello');
    expect(res.status).toBe(200);
    const object = await res.json();
    expect(object).toMatchObject({
      kind: 'storage#object',
      name: 'dir/a.txt',
      bucket: B,
      size: '5',
      contentType: 'text/plain',
      metageneration: '1',
      md5Hash: md5('hello'),
      crc32c: crc32c(Buffer.from('hello')),
    });
    expect(object.generation).toMatch(/^\d{16}$/);
    expect(await server.store.readObject(B, 'dir/a.txt')).toEqual(Buffer.from('hello'));
  });

  it('parses multipart/related bodies, including a boundary split across network chunks', async () => {
    const data = crypto.randomBytes(300_000);
    const body = multipartBody('b0und4ry', { name: 'm.csv', metadata: { 'run-id': '7' } }, data);
    // A stream of 97-byte pieces makes delimiters straddle chunk boundaries.
    const pieces = new ReadableStream({
      start(controller) {
        for (let i = 0; i < body.length; i += 97) controller.enqueue(body.subarray(i, i + 97));
        controller.close();
      },
    });
    const res = await fetch(upload('uploadType=multipart'), {
      method: 'POST',
      headers: { 'content-type': 'multipart/related; boundary=b0und4ry' },
      body: pieces,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      name: 'm.csv',
      contentType: 'text/csv',
      size: String(data.length),
      md5Hash: md5(data),
      metadata: { 'run-id': '7' },
    });
    expect((await server.store.readObject(B, 'm.csv')).equals(data)).toBe(true);
  });

  it('refuses a multipart body whose declared md5Hash does not match', async () => {
    const body = multipartBody('x', { name: 'bad.csv', md5Hash: md5('other') }, 'data');
    const res = await fetch(upload('uploadType=multipart'), {
      method: 'POST',
      headers: { 'content-type': 'multipart/related; boundary=x' },
      body,
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(/doesn't match calculated MD5/);
    expect(server.store.get(B, 'bad.csv')).toBeUndefined();
  });

  it('runs a chunked resumable upload: 308 with Range, then the object', async () => {
    const data = crypto.randomBytes(2 * RESUMABLE_QUANTUM + 1000);
    const { res, location } = await startSession('r/big.bin', '&ifGenerationMatch=0', {
      metadata: { a: 'b' },
    });
    expect(res.status).toBe(200);
    expect(location).toContain(`${server.url}/upload/storage/v1/b/${B}/o?uploadType=resumable`);
    expect(location).toMatch(/upload_id=/);

    const status = await fetch(location, { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
    expect(status.status).toBe(308);
    expect(status.headers.get('range')).toBeNull(); // nothing yet

    const first = await fetch(location, {
      method: 'PUT',
      headers: { 'content-range': `bytes 0-${RESUMABLE_QUANTUM - 1}/*` },
      body: data.subarray(0, RESUMABLE_QUANTUM),
    });
    expect(first.status).toBe(308);
    expect(first.headers.get('range')).toBe(`bytes=0-${RESUMABLE_QUANTUM - 1}`);

    // A chunk that is not the last must be a multiple of 256 KiB.
    const odd = await fetch(location, {
      method: 'PUT',
      headers: { 'content-range': `bytes ${RESUMABLE_QUANTUM}-${RESUMABLE_QUANTUM + 99}/*` },
      body: data.subarray(RESUMABLE_QUANTUM, RESUMABLE_QUANTUM + 100),
    });
    expect(odd.status).toBe(400);

    const last = await fetch(location, {
      method: 'PUT',
      headers: { 'content-range': `bytes ${RESUMABLE_QUANTUM}-${data.length - 1}/${data.length}` },
      body: data.subarray(RESUMABLE_QUANTUM),
    });
    expect(last.status).toBe(200);
    expect(await last.json()).toMatchObject({
      name: 'r/big.bin',
      size: String(data.length),
      md5Hash: md5(data),
    });
    // The finished session keeps answering with the object (a client whose last response was lost asks again).
    const again = await fetch(location, {
      method: 'PUT',
      headers: { 'content-range': `bytes */${data.length}` },
    });
    expect(again.status).toBe(200);
  });

  it('keeps whole 256 KiB quanta of a chunk whose connection broke, and resumes from there', async () => {
    const data = crypto.randomBytes(4 * RESUMABLE_QUANTUM);
    const { location } = await startSession('r/broken.bin');
    server.faults.inject('reset', (t) => t.kind === 'resumable-chunk');
    // The server cuts the request at half of its declared length: 2 quanta of 4.
    await expect(
      fetch(location, {
        method: 'PUT',
        headers: { 'content-range': `bytes 0-${data.length - 1}/${data.length}` },
        body: data,
      }),
    ).rejects.toThrow();
    const status = await fetch(location, { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
    expect(status.status).toBe(308);
    expect(status.headers.get('range')).toBe(`bytes=0-${2 * RESUMABLE_QUANTUM - 1}`);
    // Resending from an earlier offset is fine: bytes the session has are skipped.
    const from = RESUMABLE_QUANTUM;
    const rest = await fetch(location, {
      method: 'PUT',
      headers: { 'content-range': `bytes ${from}-${data.length - 1}/${data.length}` },
      body: data.subarray(from),
    });
    expect(rest.status).toBe(200);
    expect((await server.store.readObject(B, 'r/broken.bin')).equals(data)).toBe(true);
    expect(
      server.requests.some((r) => r.kind === 'resumable-chunk' && r.fault === 'reset' && r.status === 0),
    ).toBe(true);
  });

  it('checks preconditions when a session starts and again when it completes', async () => {
    await media('p.txt', 'one');
    const refused = await startSession('p.txt', '&ifGenerationMatch=0');
    expect(refused.res.status).toBe(412);

    const { location } = await startSession('q.txt', '&ifGenerationMatch=0');
    await media('q.txt', 'someone else'); // lands while our session is open
    const done = await fetch(location, {
      method: 'PUT',
      headers: { 'content-range': 'bytes 0-2/3' },
      body: 'ours',
    });
    // The body is 4 bytes but the range says 3: a malformed request is refused before any precondition.
    expect(done.status).toBe(400);
    const fin = await fetch(location, {
      method: 'PUT',
      headers: { 'content-range': 'bytes 0-3/4' },
      body: 'ours',
    });
    expect(fin.status).toBe(412);
    expect((await fin.json()).error.errors[0].reason).toBe('conditionNotMet');
    expect((await server.store.readObject(B, 'q.txt')).toString()).toBe('someone else');
  });

  it('cancels a session with DELETE (499)', async () => {
    const { location } = await startSession('c.bin');
    expect((await fetch(location, { method: 'DELETE' })).status).toBe(499);
    expect((await fetch(location, { method: 'PUT', headers: { 'content-range': 'bytes */*' } })).status).toBe(
      404,
    );
  });
});

describe('GCS test server: generations and preconditions', () => {
  it('gives each write a new generation and applies if*Match to writes, reads and deletes', async () => {
    const g1 = (await (await media('g.txt', 'v1', '&ifGenerationMatch=0')).json()).generation as string;
    expect((await media('g.txt', 'v2', '&ifGenerationMatch=0')).status).toBe(412);
    const g2 = (await (await media('g.txt', 'v2', `&ifGenerationMatch=${g1}`)).json()).generation as string;
    expect(BigInt(g2)).toBeGreaterThan(BigInt(g1));
    expect((await media('g.txt', 'v3', `&ifGenerationNotMatch=${g2}`)).status).toBe(412);
    expect((await media('g.txt', 'v3', '&ifMetagenerationMatch=2')).status).toBe(412);

    const got = await fetch(api(`/g.txt?ifGenerationMatch=${g1}`));
    expect(got.status).toBe(412);
    expect((await fetch(api(`/g.txt?ifGenerationNotMatch=${g2}`))).status).toBe(304);
    expect((await fetch(api(`/g.txt?generation=${g1}`))).status).toBe(404); // no versioning: g1 is gone

    const patched = await fetch(api(`/g.txt?ifMetagenerationMatch=1`), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { k: 'v' } }),
    });
    expect(await patched.json()).toMatchObject({ generation: g2, metageneration: '2', metadata: { k: 'v' } });

    expect((await fetch(api(`/g.txt?ifGenerationMatch=${g1}`), { method: 'DELETE' })).status).toBe(412);
    expect((await fetch(api(`/g.txt?ifGenerationMatch=${g2}`), { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(api('/g.txt'))).status).toBe(404);
    expect((await fetch(api('/g.txt'), { method: 'DELETE' })).status).toBe(404);
  });

  it('rejects malformed preconditions and unknown buckets', async () => {
    expect((await media('x.txt', 'x', '&ifGenerationMatch=abc')).status).toBe(400);
    const res = await fetch(`${server.url}/storage/v1/b/no-such-bucket/o`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.message).toBe('The specified bucket does not exist.');
  });
});

describe('GCS test server: reads and listings', () => {
  it('serves alt=media with hashes, Range, and gzip as stored or transcoded', async () => {
    await media('read.txt', '0123456789');
    const full = await fetch(api('/read.txt?alt=media'));
    expect(await full.text()).toBe('0123456789');
    expect(full.headers.get('x-goog-hash')).toBe(
      `crc32c=${crc32c(Buffer.from('0123456789'))},md5=${md5('0123456789')}`,
    );
    const part = await fetch(api('/read.txt?alt=media'), { headers: { range: 'bytes=2-4' } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('234');
    expect(part.headers.get('content-range')).toBe('bytes 2-4/10');

    const gz = zlib.gzipSync('compressed text');
    await media('z.txt', gz, '&contentEncoding=gzip');
    expect(server.store.get(B, 'z.txt')).toMatchObject({
      contentEncoding: 'gzip',
      size: gz.length,
      md5Hash: md5(gz),
    });
    // fetch sends Accept-Encoding: gzip and decodes, so ask for the raw bytes with identity to see transcoding.
    const transcoded = await fetch(api('/z.txt?alt=media'), { headers: { 'accept-encoding': 'identity' } });
    expect(await transcoded.text()).toBe('compressed text');
    expect(transcoded.headers.get('x-goog-stored-content-encoding')).toBe('gzip');
    const asStored = await fetch(`${server.url}/download/storage/v1/b/${B}/o/z.txt?alt=media`);
    expect(asStored.headers.get('content-encoding')).toBe('gzip');
  });

  it('lists with prefix, delimiter and pages, on both path forms', async () => {
    const s = await startGcsServer({ buckets: ['list-bucket'] });
    try {
      for (const name of ['a/1', 'a/2', 'a/b/3', 'a/c/4', 'a/c/5', 'b/6', 'top'])
        await s.store.putObject('list-bucket', name, name);
      const list = async (query: string, prefix = '/storage/v1') =>
        (await fetch(`${s.url}${prefix}/b/list-bucket/o?${query}`)).json();

      const all = await list('');
      expect(all.items.map((o: { name: string }) => o.name)).toEqual([
        'a/1',
        'a/2',
        'a/b/3',
        'a/c/4',
        'a/c/5',
        'b/6',
        'top',
      ]);
      const folders = await list('prefix=a/&delimiter=/', '');
      expect(folders.items.map((o: { name: string }) => o.name)).toEqual(['a/1', 'a/2']);
      expect(folders.prefixes).toEqual(['a/b/', 'a/c/']);

      const seen: string[] = [];
      let token = '';
      let pages = 0;
      do {
        const page = await list(`delimiter=/&prefix=a/&maxResults=2${token ? `&pageToken=${token}` : ''}`);
        seen.push(...(page.items ?? []).map((o: { name: string }) => o.name), ...(page.prefixes ?? []));
        token = page.nextPageToken ?? '';
        pages++;
      } while (token);
      expect(pages).toBe(2);
      expect(seen.sort()).toEqual(['a/1', 'a/2', 'a/b/', 'a/c/']);
    } finally {
      await s.close();
    }
  });
});

describe('GCS test server: faults and the request log', () => {
  it('injects statuses, resets, lost responses and slowness, and records each request', async () => {
    server.faults
      .inject('503')
      .inject('429')
      .inject('reset')
      .inject('lost-response', (t) => t.kind === 'upload-media');
    expect((await fetch(api('?prefix=x'))).status).toBe(503);
    expect((await fetch(api('?prefix=x'))).status).toBe(429);
    await expect(fetch(api('?prefix=x'))).rejects.toThrow();
    await expect(media('lost.txt', 'landed')).rejects.toThrow();
    expect((await server.store.readObject(B, 'lost.txt')).toString()).toBe('landed');

    server.faults.set({ rate: 1, kinds: ['slow'], slowMs: 150 });
    const started = performance.now();
    expect((await fetch(api('?prefix=x'))).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);

    const faulted = server.requests.slice(-5).map((r) => [r.kind, r.fault, r.status]);
    expect(faulted).toEqual([
      ['list', '503', 503],
      ['list', '429', 429],
      ['list', 'reset', 0],
      ['upload-media', 'lost-response', 0],
      ['list', 'slow', 200],
    ]);
  });

  it('fails a given share of requests, reproducibly from the seed', async () => {
    const run = async () => {
      server.faults.set({ rate: 0.3, kinds: ['503'], seed: 42 });
      const statuses: number[] = [];
      for (let i = 0; i < 200; i++) statuses.push((await fetch(api('?prefix=x'))).status);
      return statuses;
    };
    const first = await run();
    const failed = first.filter((s) => s === 503).length;
    expect(failed).toBeGreaterThan(40);
    expect(failed).toBeLessThan(80);
    expect(await run()).toEqual(first);
    expect(() => server.faults.set({ kinds: ['boom' as never] })).toThrow(/unknown fault kind "boom"/);
  });
});
