// The GCS test server's object operations: get, list, download (Range, gzip transcoding), patch, delete, and the
// one-request uploads (media and multipart), each on the server's store.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type http from 'node:http';
import zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import {
  asHttpError,
  bodyOf,
  drain,
  HttpError,
  readJson,
  reply,
  resetConnection,
  type Exchange,
} from './exchange.ts';
import { boundaryOf, MultipartError, readMultipartRelated } from './multipart.ts';
import { fieldsOf, parseRange, preconditionsOf, requiredName } from './requests.ts';
import { checkHashes, etagOf, flipFirstByte, resource } from './resource.ts';
import {
  failedPrecondition,
  type GcsStore,
  type ObjectFields,
  type Preconditions,
  type StoredObject,
} from './store.ts';

export class GcsObjects {
  private readonly store: GcsStore;
  constructor(store: GcsStore) {
    this.store = store;
  }

  /** The live object named by the route, after the generation parameter and the preconditions. */
  objectFor(x: Exchange, intent: 'read' | 'write'): StoredObject {
    const { bucket, object: name } = x.route;
    const object = this.store.get(bucket!, name!);
    if (!object || (x.query.generation !== undefined && x.query.generation !== object.generation))
      throw new HttpError(
        404,
        'notFound',
        `No such object: ${bucket}/${name}${x.query.generation ? `#${x.query.generation}` : ''}`,
      );
    const failure = failedPrecondition(object, preconditionsOf(x.query));
    if (failure) {
      // A GET whose if*NotMatch fails is "not modified", not a failed precondition.
      if (intent === 'read' && /NotMatch/.test(failure.split('=')[0]!))
        throw new HttpError(304, 'notModified', failure);
      throw new HttpError(
        412,
        'conditionNotMet',
        `At least one of the pre-conditions you specified did not hold: ${failure}`,
      );
    }
    return object;
  }

  listObjects(bucket: string, q: Record<string, string>, base: string) {
    const prefix = q.prefix ?? '';
    const delimiter = q.delimiter ?? '';
    const maxResults = q.maxResults === undefined ? 1000 : Number(q.maxResults);
    if (!Number.isInteger(maxResults) || maxResults < 1)
      throw new HttpError(400, 'invalid', `maxResults must be a positive integer, found ${q.maxResults}`);
    const after = q.pageToken ? Buffer.from(q.pageToken, 'base64url').toString('utf8') : undefined;
    // Objects and the prefixes that collapse them, in one name-ordered sequence: a prefix sorts before every
    // name it collapses, so a page token (the last key returned) works for both.
    const entries: { key: string; object?: StoredObject }[] = [];
    const seen = new Set<string>();
    for (const object of this.store.list(bucket)) {
      if (!object.name.startsWith(prefix)) continue;
      if (q.startOffset !== undefined && object.name < q.startOffset) continue;
      if (q.endOffset !== undefined && object.name >= q.endOffset) continue;
      const cut = delimiter ? object.name.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) {
        const collapsed = object.name.slice(0, cut + delimiter.length);
        if (!seen.has(collapsed)) entries.push({ key: collapsed });
        seen.add(collapsed);
        if (q.includeTrailingDelimiter === 'true' && object.name === collapsed)
          entries.push({ key: object.name, object });
      } else entries.push({ key: object.name, object });
    }
    const remaining = after === undefined ? entries : entries.filter((e) => e.key > after);
    const page = remaining.slice(0, maxResults);
    const items = page.filter((e) => e.object).map((e) => resource(e.object!, base));
    const prefixes = page.filter((e) => !e.object).map((e) => e.key);
    return {
      kind: 'storage#objects',
      ...(remaining.length > maxResults
        ? { nextPageToken: Buffer.from(page[page.length - 1]!.key).toString('base64url') }
        : {}),
      ...(prefixes.length ? { prefixes } : {}),
      ...(items.length ? { items } : {}),
    };
  }

  async sendMedia(x: Exchange, object: StoredObject): Promise<void> {
    const gzipped = object.contentEncoding === 'gzip';
    // GCS serves a gzip object as stored when the client accepts gzip, and decompresses it otherwise.
    const transcode = gzipped && !/\bgzip\b/.test(String(x.req.headers['accept-encoding'] ?? ''));
    const headers: http.OutgoingHttpHeaders = {
      'content-type': object.contentType,
      'x-goog-generation': object.generation,
      'x-goog-metageneration': object.metageneration,
      'x-goog-hash': `crc32c=${object.crc32c},md5=${object.md5Hash}`,
      'x-goog-stored-content-length': String(object.size),
      'x-goog-stored-content-encoding': gzipped ? 'gzip' : 'identity',
      etag: etagOf(object),
    };
    if (x.loseResponse) return resetConnection(x);
    if (transcode) {
      x.res.writeHead(200, headers);
      x.record.status = 200;
      await pipeline(fs.createReadStream(object.file), zlib.createGunzip(), x.res);
      return;
    }
    if (gzipped) headers['content-encoding'] = 'gzip';
    const range = parseRange(x.req.headers.range, object.size);
    if (range === 'unsatisfiable') {
      x.res.writeHead(416, { 'content-range': `bytes */${object.size}` }).end();
      x.record.status = 416;
      return;
    }
    if (range) {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${object.size}`;
      headers['content-length'] = String(range.end - range.start + 1);
    } else headers['content-length'] = String(object.size);
    const status = range ? 206 : 200;
    x.res.writeHead(status, headers);
    x.record.status = status;
    if (object.size === 0 || (range && range.end < range.start)) return void x.res.end();
    await pipeline(
      fs.createReadStream(object.file, range ? { start: range.start, end: range.end } : {}),
      x.res,
    );
  }

  async patchObject(x: Exchange): Promise<void> {
    const body = await readJson(x);
    this.objectFor(x, 'write');
    try {
      const object = this.store.patch(
        x.route.bucket!,
        x.route.object!,
        fieldsOf(body),
        preconditionsOf(x.query),
      );
      return reply(x, 200, resource(object, x.base));
    } catch (e) {
      throw asHttpError(e);
    }
  }

  async deleteObject(x: Exchange): Promise<void> {
    await drain(x);
    this.objectFor(x, 'write');
    try {
      await this.store.delete(x.route.bucket!, x.route.object!, preconditionsOf(x.query));
    } catch (e) {
      throw asHttpError(e);
    }
    return reply(x, 204, undefined);
  }

  // ---- simple uploads ------------------------------------------------------------------------------------

  async uploadMedia(x: Exchange): Promise<void> {
    const name = requiredName(x, undefined);
    const temp = this.store.tempFile();
    try {
      const sink = fs.createWriteStream(temp);
      await pipeline(bodyOf(x), sink);
      const fields: ObjectFields = {
        contentType: String(x.req.headers['content-type'] ?? 'application/octet-stream'),
        ...(x.query.contentEncoding ? { contentEncoding: x.query.contentEncoding } : {}),
      };
      await checkHashes(temp, {}, x.req.headers['x-goog-hash']);
      return await this.commitAndReply(x, name, temp, fields, preconditionsOf(x.query));
    } finally {
      await fsp.rm(temp, { force: true });
    }
  }

  async uploadMultipart(x: Exchange): Promise<void> {
    let boundary: string;
    try {
      boundary = boundaryOf(x.req.headers['content-type']);
    } catch (e) {
      await drain(x);
      throw new HttpError(400, 'invalid', (e as Error).message);
    }
    const temp = this.store.tempFile();
    const sink = await fsp.open(temp, 'w');
    try {
      let parsed;
      try {
        parsed = await readMultipartRelated(bodyOf(x), boundary, async (chunk) => {
          await sink.write(chunk);
        });
      } catch (e) {
        if (e instanceof MultipartError) {
          await drain(x);
          throw new HttpError(400, 'invalid', `multipart body: ${e.message}`);
        }
        throw e;
      } finally {
        await sink.close();
      }
      const metadata = parsed.metadata;
      const name = requiredName(x, metadata.name);
      const fields = fieldsOf(metadata);
      fields.contentType ??= parsed.mediaContentType ?? 'application/octet-stream';
      await checkHashes(temp, metadata, x.req.headers['x-goog-hash']);
      return await this.commitAndReply(x, name, temp, fields, preconditionsOf(x.query));
    } finally {
      await fsp.rm(temp, { force: true });
    }
  }

  async commitAndReply(
    x: Exchange,
    name: string,
    temp: string,
    fields: ObjectFields,
    preconditions: Preconditions,
  ): Promise<void> {
    try {
      if (x.corrupt) await flipFirstByte(temp);
      const object = await this.store.commit(x.route.bucket!, name, temp, fields, preconditions);
      return reply(x, 200, resource(object, x.base));
    } catch (e) {
      throw asHttpError(e);
    }
  }
}
