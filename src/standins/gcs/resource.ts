// An object as the GCS JSON API shows it (the resource, its etag), and the checks and faults on its bytes: the
// hashes a client declared against what arrived, and the corruption fault.
import fsp from 'node:fs/promises';
import { HttpError } from './exchange.ts';
import { digestFile, type StoredObject } from './store.ts';

export function resource(o: StoredObject, base: string): Record<string, unknown> {
  const encoded = encodeURIComponent(o.name);
  return {
    kind: 'storage#object',
    id: `${o.bucket}/${o.name}/${o.generation}`,
    selfLink: `${base}/storage/v1/b/${o.bucket}/o/${encoded}`,
    mediaLink: `${base}/download/storage/v1/b/${o.bucket}/o/${encoded}?generation=${o.generation}&alt=media`,
    name: o.name,
    bucket: o.bucket,
    generation: o.generation,
    metageneration: o.metageneration,
    contentType: o.contentType,
    storageClass: 'STANDARD',
    size: String(o.size),
    md5Hash: o.md5Hash,
    crc32c: o.crc32c,
    etag: etagOf(o),
    timeCreated: o.timeCreated,
    updated: o.updated,
    timeStorageClassUpdated: o.timeCreated,
    ...(o.contentEncoding ? { contentEncoding: o.contentEncoding } : {}),
    ...(o.contentDisposition ? { contentDisposition: o.contentDisposition } : {}),
    ...(o.contentLanguage ? { contentLanguage: o.contentLanguage } : {}),
    ...(o.cacheControl ? { cacheControl: o.cacheControl } : {}),
    ...(o.metadata && Object.keys(o.metadata).length ? { metadata: o.metadata } : {}),
  };
}

export function etagOf(o: StoredObject): string {
  return Buffer.from(`${o.generation}/${o.metageneration}`).toString('base64');
}

/** Checks hashes the client declared (resource fields or the X-Goog-Hash header) against the received bytes. */
export async function checkHashes(
  file: string,
  declared: { md5Hash?: unknown; crc32c?: unknown },
  header: string | string[] | undefined,
): Promise<void> {
  const claims: { md5?: string; crc32c?: string } = {};
  if (typeof declared.md5Hash === 'string') claims.md5 = declared.md5Hash;
  if (typeof declared.crc32c === 'string') claims.crc32c = declared.crc32c;
  for (const part of String(header ?? '').split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    if (key === 'md5' || key === 'crc32c') claims[key] = part.slice(eq + 1).trim();
  }
  if (!claims.md5 && !claims.crc32c) return;
  const actual = await digestFile(file);
  if (claims.md5 && claims.md5 !== actual.md5Hash)
    throw new HttpError(
      400,
      'invalid',
      `Provided MD5 hash "${claims.md5}" doesn't match calculated MD5 hash "${actual.md5Hash}".`,
    );
  if (claims.crc32c && claims.crc32c !== actual.crc32c)
    throw new HttpError(
      400,
      'invalid',
      `Provided CRC32C "${claims.crc32c}" doesn't match calculated CRC32C "${actual.crc32c}".`,
    );
}

export async function flipFirstByte(file: string): Promise<void> {
  const handle = await fsp.open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    const { bytesRead } = await handle.read(byte, 0, 1, 0);
    if (bytesRead === 1) await handle.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, 0);
  } finally {
    await handle.close();
  }
}
