// A resumable upload's session, resumed after a broken request: ask it how far it got, hash what is sent, and skip
// what it already has.
import crypto from 'node:crypto';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileMetadata } from '@google-cloud/storage';
import { Crc32c } from './crc32c.ts';

/** MD5, CRC32C and size of the bytes that pass through. */
export class Digests {
  private readonly md5Hash = crypto.createHash('md5');
  private readonly crc = new Crc32c();
  size = 0;
  complete = false;
  md5 = '';
  crc32c = '';

  stream(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.md5Hash.update(chunk);
        this.crc.update(chunk);
        this.size += chunk.length;
        done(null, chunk);
      },
      flush: (done) => {
        this.md5 = this.md5Hash.digest('base64');
        this.crc32c = this.crc.digest();
        this.complete = true;
        done();
      },
    });
  }
}

export type SessionStatus =
  { state: 'open'; persisted: number } | { state: 'done'; metadata: FileMetadata } | { state: 'gone' };

/**
 * Asks a resumable session how far it got (PUT with `Content-Range: bytes *\/*`). The session URI is its own
 * credential (requests to it need no Authorization header), and the client library has no public call for this,
 * so it is a plain fetch. Unlike the client, fetch does not follow HTTPS_PROXY.
 */
export async function querySession(uri: string): Promise<SessionStatus> {
  const res = await fetch(uri, { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
  const body = await res.text();
  if (res.status === 308) {
    const range = /^bytes=0-(\d+)$/.exec(res.headers.get('range') ?? '');
    return { state: 'open', persisted: range ? Number(range[1]) + 1 : 0 };
  }
  if (res.status === 200 || res.status === 201)
    return { state: 'done', metadata: JSON.parse(body) as FileMetadata };
  if (res.status === 404 || res.status === 410) return { state: 'gone' };
  throw Object.assign(new Error(`resumable session status: HTTP ${res.status}: ${body.slice(0, 200)}`), {
    code: res.status,
  });
}

/** Drops the first `count` bytes: the part a resumed session already has. */
export function skipBytes(count: number): Transform {
  let left = count;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (left >= chunk.length) {
        left -= chunk.length;
        return done();
      }
      const rest = left > 0 ? chunk.subarray(left) : chunk;
      left = 0;
      done(null, rest);
    },
  });
}

export async function digestsOf(source: NodeJS.ReadableStream[]): Promise<Digests> {
  const digests = new Digests();
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  await pipeline([...source, digests.stream(), discard]);
  return digests;
}
