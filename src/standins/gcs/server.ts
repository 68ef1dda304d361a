// A Google Cloud Storage JSON API server for tests, written from Google's API reference: objects insert
// (uploadType=media, multipart and resumable, with chunked resumable sessions that can be resumed after a broken
// request), get (resource and alt=media, with Range), list (prefix, delimiter, pageToken, maxResults,
// startOffset, endOffset), patch and delete; generations and metagenerations with the four if*Match
// preconditions; md5Hash and crc32c computed by the server; Content-Encoding: gzip stored as sent. It answers both
// the production paths (/storage/v1/b/..., as the client sends them with `apiEndpoint`) and the shortened ones the
// client sends when STORAGE_EMULATOR_HOST is set (/b/...). Faults are switchable at run time (see faults.ts), and
// every request is recorded in `requests`.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Faults, type FaultKind, type FaultTarget } from './faults.ts';
import { boundaryOf, MultipartError, readMultipartRelated } from './multipart.ts';
import {
  digestFile,
  failedPrecondition,
  GcsStore,
  PRECONDITION_PARAMS,
  PreconditionFailed,
  type ObjectFields,
  type Preconditions,
  type StoredObject,
} from './store.ts';

/** Non-final chunks of a resumable upload must be multiples of 256 KiB; a broken request keeps whole quanta. */
export const RESUMABLE_QUANTUM = 256 * 1024;

export type RequestKind =
  | 'list'
  | 'get'
  | 'media'
  | 'patch'
  | 'delete'
  | 'bucket'
  | 'upload-media'
  | 'upload-multipart'
  | 'resumable-start'
  | 'resumable-chunk'
  | 'resumable-status'
  | 'resumable-cancel'
  | 'unknown';

export interface RequestRecord {
  seq: number;
  method: string;
  path: string;
  query: Record<string, string>;
  kind: RequestKind;
  bucket?: string;
  object?: string;
  /** 0 when the server reset the connection instead of answering. */
  status: number;
  fault?: FaultKind;
  /** Body bytes the server read. */
  bytesIn: number;
  ms: number;
  /** An unexpected server-side error (a bug in the server or a malformed request it did not anticipate). */
  error?: string;
}

export interface GcsServerOptions {
  /** Buckets that exist from the start (default: `test-bucket`). */
  buckets?: string[];
  /** Folder for object bytes (default: a new temporary folder, removed by close()); a given folder is kept, and
   * close() writes the object index into it (a server started on it later serves the same objects). */
  dir?: string;
  host?: string;
  port?: number;
}

export interface GcsServer {
  /** Give it to the client as `apiEndpoint`, or as STORAGE_EMULATOR_HOST. */
  url: string;
  store: GcsStore;
  faults: Faults;
  requests: RequestRecord[];
  /** Called before each request is served, e.g. to change an object as another writer would in between. */
  onRequest?: (request: FaultTarget & { query: Record<string, string> }) => void | Promise<void>;
  close(): Promise<void>;
}

interface Route {
  kind: RequestKind;
  bucket?: string;
  object?: string;
}

interface UploadSession {
  id: string;
  bucket: string;
  name: string;
  fields: ObjectFields & { md5Hash?: string; crc32c?: string };
  preconditions: Preconditions;
  file: string;
  /** Bytes persisted so far. */
  received: number;
  /** The object's size once a request has told it. */
  total?: number;
  result?: { object: StoredObject } | { error: HttpError };
  /** Requests on one session are served one at a time. */
  lock: Promise<void>;
}

class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

/** The request broke off (a `reset` fault, or the client went away) before its body was read. */
class ConnectionCut extends Error {
  override name = 'ConnectionCut';
}

interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  query: Record<string, string>;
  route: Route;
  record: RequestRecord;
  /** Read this many body bytes, then reset the connection. */
  cutAt?: number;
  /** Do the work, then reset the connection instead of answering. */
  loseResponse: boolean;
  /** Change a byte of an upload before storing it. */
  corrupt: boolean;
}

export async function startGcsServer(options: GcsServerOptions = {}): Promise<GcsServer> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'gcs-server-')));
  const store = new GcsStore(dir);
  for (const bucket of options.buckets ?? ['test-bucket']) store.createBucket(bucket);
  const faults = new Faults();
  const requests: RequestRecord[] = [];
  const sessions = new Map<string, UploadSession>();
  let seq = 0;

  const handle: GcsServer = {
    url: '',
    store,
    faults,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownDir) await fsp.rm(dir, { recursive: true, force: true });
      else store.save();
    },
  };

  const server = http.createServer((req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const route = routeOf(req.method ?? 'GET', url, query, req.headers['content-range']);
    const record: RequestRecord = {
      seq: ++seq,
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      kind: route.kind,
      ...(route.bucket !== undefined ? { bucket: route.bucket } : {}),
      ...(route.object !== undefined ? { object: route.object } : {}),
      status: 0,
      bytesIn: 0,
      ms: 0,
    };
    requests.push(record);
    const exchange: Exchange = { req, res, url, query, route, record, loseResponse: false, corrupt: false };
    serve(exchange)
      .catch(async (e: unknown) => {
        if (e instanceof ConnectionCut) return;
        // Answer only once the client has sent its whole body, as a server must.
        if (!req.readableEnded && !req.destroyed) await drain(exchange).catch(() => {});
        if (e instanceof HttpError)
          return reply(exchange, e.status, e.status === 304 ? undefined : errorBody(e));
        record.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
        return reply(exchange, 500, errorBody(new HttpError(500, 'backendError', String(e))));
      })
      .catch(() => {})
      .finally(() => {
        record.ms = performance.now() - started;
      });
  });

  async function serve(x: Exchange): Promise<void> {
    const { route, record } = x;
    await handle.onRequest?.({ method: record.method, ...route, query: x.query });
    const fault = faults.decide({
      method: record.method,
      kind: route.kind,
      bucket: route.bucket,
      object: route.object,
    });
    if (fault) record.fault = fault;
    if (fault === 'slow') await new Promise((r) => setTimeout(r, faults.slowMs));
    if (fault && /^\d+$/.test(fault)) {
      await drain(x);
      throw new HttpError(Number(fault), FAULT_REASONS[fault] ?? 'backendError', `injected fault ${fault}`);
    }
    if (fault === 'reset') {
      const length = Number(x.req.headers['content-length'] ?? (hasBody(x.req) ? NaN : 0));
      if (length === 0 || length === 1) return resetConnection(x);
      // Cut mid-body: half of a known length, or 64 KiB into a chunked body.
      x.cutAt = Number.isNaN(length) ? 64 * 1024 : Math.floor(length / 2);
    }
    x.loseResponse = fault === 'lost-response';
    x.corrupt = fault === 'corrupt';

    if (route.bucket !== undefined && !store.hasBucket(route.bucket)) {
      await drain(x);
      throw new HttpError(404, 'notFound', 'The specified bucket does not exist.');
    }
    switch (route.kind) {
      case 'bucket':
        return reply(x, 200, { kind: 'storage#bucket', id: route.bucket, name: route.bucket });
      case 'list':
        return reply(x, 200, listObjects(route.bucket!, x.query, baseUrl(x)));
      case 'get':
        return reply(x, 200, resource(objectFor(x, 'read'), baseUrl(x)));
      case 'media':
        return sendMedia(x, objectFor(x, 'read'));
      case 'patch':
        return patchObject(x);
      case 'delete':
        return deleteObject(x);
      case 'upload-media':
        return uploadMedia(x);
      case 'upload-multipart':
        return uploadMultipart(x);
      case 'resumable-start':
        return startResumable(x);
      case 'resumable-chunk':
      case 'resumable-status':
        return continueResumable(x);
      case 'resumable-cancel':
        return cancelResumable(x);
      case 'unknown':
        await drain(x);
        throw new HttpError(404, 'notFound', `no such API: ${x.record.method} ${x.url.pathname}`);
    }
  }

  // ---- objects -------------------------------------------------------------------------------------------

  /** The live object named by the route, after the generation parameter and the preconditions. */
  function objectFor(x: Exchange, intent: 'read' | 'write'): StoredObject {
    const { bucket, object: name } = x.route;
    const object = store.get(bucket!, name!);
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

  function listObjects(bucket: string, q: Record<string, string>, base: string) {
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
    for (const object of store.list(bucket)) {
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

  async function sendMedia(x: Exchange, object: StoredObject): Promise<void> {
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

  async function patchObject(x: Exchange): Promise<void> {
    const body = await readJson(x);
    objectFor(x, 'write');
    try {
      const object = store.patch(x.route.bucket!, x.route.object!, fieldsOf(body), preconditionsOf(x.query));
      return reply(x, 200, resource(object, baseUrl(x)));
    } catch (e) {
      throw asHttpError(e);
    }
  }

  async function deleteObject(x: Exchange): Promise<void> {
    await drain(x);
    objectFor(x, 'write');
    try {
      await store.delete(x.route.bucket!, x.route.object!, preconditionsOf(x.query));
    } catch (e) {
      throw asHttpError(e);
    }
    return reply(x, 204, undefined);
  }

  // ---- simple uploads ------------------------------------------------------------------------------------

  async function uploadMedia(x: Exchange): Promise<void> {
    const name = requiredName(x, undefined);
    const temp = store.tempFile();
    try {
      const sink = fs.createWriteStream(temp);
      await pipeline(bodyOf(x), sink);
      const fields: ObjectFields = {
        contentType: String(x.req.headers['content-type'] ?? 'application/octet-stream'),
        ...(x.query.contentEncoding ? { contentEncoding: x.query.contentEncoding } : {}),
      };
      await checkHashes(temp, {}, x.req.headers['x-goog-hash']);
      return await commitAndReply(x, name, temp, fields, preconditionsOf(x.query));
    } finally {
      await fsp.rm(temp, { force: true });
    }
  }

  async function uploadMultipart(x: Exchange): Promise<void> {
    let boundary: string;
    try {
      boundary = boundaryOf(x.req.headers['content-type']);
    } catch (e) {
      await drain(x);
      throw new HttpError(400, 'invalid', (e as Error).message);
    }
    const temp = store.tempFile();
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
      return await commitAndReply(x, name, temp, fields, preconditionsOf(x.query));
    } finally {
      await fsp.rm(temp, { force: true });
    }
  }

  async function commitAndReply(
    x: Exchange,
    name: string,
    temp: string,
    fields: ObjectFields,
    preconditions: Preconditions,
  ): Promise<void> {
    try {
      if (x.corrupt) await flipFirstByte(temp);
      const object = await store.commit(x.route.bucket!, name, temp, fields, preconditions);
      return reply(x, 200, resource(object, baseUrl(x)));
    } catch (e) {
      throw asHttpError(e);
    }
  }

  // ---- resumable uploads ---------------------------------------------------------------------------------

  async function startResumable(x: Exchange): Promise<void> {
    const body = await readJson(x);
    const name = requiredName(x, body.name);
    const preconditions = preconditionsOf(x.query);
    // Refuse at once what would fail at the end anyway; the check is repeated when the upload completes.
    const failure = failedPrecondition(store.get(x.route.bucket!, name), preconditions);
    if (failure)
      throw new HttpError(
        412,
        'conditionNotMet',
        `At least one of the pre-conditions you specified did not hold: ${failure}`,
      );
    const fields = fieldsOf(body);
    const uploadType = x.req.headers['x-upload-content-type'];
    if (!fields.contentType && typeof uploadType === 'string') fields.contentType = uploadType;
    const declared = x.req.headers['x-upload-content-length'];
    const session: UploadSession = {
      id: crypto.randomBytes(24).toString('base64url'),
      bucket: x.route.bucket!,
      name,
      fields: {
        ...fields,
        ...(typeof body.md5Hash === 'string' ? { md5Hash: body.md5Hash } : {}),
        ...(typeof body.crc32c === 'string' ? { crc32c: body.crc32c } : {}),
      },
      preconditions,
      file: store.tempFile(),
      received: 0,
      ...(typeof declared === 'string' && /^\d+$/.test(declared) ? { total: Number(declared) } : {}),
      lock: Promise.resolve(),
    };
    await fsp.writeFile(session.file, '');
    sessions.set(session.id, session);
    const location = `${baseUrl(x)}/upload/storage/v1/b/${encodeURIComponent(session.bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${session.id}`;
    return reply(x, 200, undefined, { location });
  }

  async function continueResumable(x: Exchange): Promise<void> {
    const session = sessions.get(x.query.upload_id ?? '');
    if (!session) {
      await drain(x);
      throw new HttpError(404, 'notFound', `No such upload session: ${x.query.upload_id}`);
    }
    // One request at a time per session: a retry must see what the broken request before it persisted.
    const previous = session.lock;
    let release!: () => void;
    session.lock = new Promise((r) => (release = r));
    await previous;
    try {
      await serveSession(x, session);
    } finally {
      release();
    }
  }

  async function serveSession(x: Exchange, session: UploadSession): Promise<void> {
    if (session.result) {
      await drain(x);
      if ('error' in session.result) throw session.result.error;
      return reply(x, 200, resource(session.result.object, baseUrl(x)));
    }
    const range = parseContentRange(x.req.headers['content-range']);
    if (!range) {
      await drain(x);
      throw new HttpError(
        400,
        'invalid',
        `invalid Content-Range ${JSON.stringify(x.req.headers['content-range'])}`,
      );
    }
    if (range.total !== undefined && session.total !== undefined && session.total !== range.total) {
      await drain(x);
      throw new HttpError(
        400,
        'invalid',
        `the object size was given as ${session.total}, now ${range.total}`,
      );
    }
    let total = range.total ?? session.total;
    if (range.start === undefined) {
      // A status query: `bytes */*` or `bytes */<size>`.
      await drain(x);
      session.total = total;
      if (total !== undefined && session.received === total) return finishSession(x, session);
      return reply(x, 308, undefined, rangeHeader(session));
    }
    if (range.start > session.received) {
      await drain(x);
      throw new HttpError(
        400,
        'invalid',
        `Content-Range starts at byte ${range.start} but the session has ${session.received} bytes; ask with Content-Range: bytes */*`,
      );
    }

    const before = session.received;
    // Bytes the session already has (a client resending after a broken request) are skipped.
    let skip = before - range.start;
    let written = 0;
    const sink = await fsp.open(session.file, 'a');
    try {
      for await (const chunk of bodyOf(x)) {
        const fresh = skip > 0 ? chunk.subarray(Math.min(skip, chunk.length)) : chunk;
        skip -= chunk.length - fresh.length;
        if (fresh.length === 0) continue;
        await sink.write(fresh);
        written += fresh.length;
      }
    } catch (e) {
      if (!(e instanceof ConnectionCut)) throw e;
      // Like GCS, persist only whole 256 KiB quanta of a request that broke off.
      session.received = Math.max(
        before,
        Math.floor((before + written) / RESUMABLE_QUANTUM) * RESUMABLE_QUANTUM,
      );
      await sink.truncate(session.received);
      throw e;
    } finally {
      await sink.close();
    }
    const received = before + written;
    const length = range.end === undefined ? undefined : range.end - range.start + 1;
    if (length !== undefined && x.record.bytesIn !== length)
      throw await failChunk(
        session,
        before,
        `Content-Range says ${length} bytes, the body had ${x.record.bytesIn}`,
      );
    // `bytes <start>-*/*`: this request carries the rest of the object, whatever its size.
    if (range.end === undefined && total === undefined) total = received;
    if (total !== undefined && received > total)
      throw await failChunk(
        session,
        before,
        `the session would have ${received} bytes, more than the object size ${total}`,
      );
    if (total === undefined || received < total) {
      if (range.end === undefined)
        throw await failChunk(session, before, `the body ended at byte ${received} of ${total}`);
      if (written % RESUMABLE_QUANTUM !== 0)
        throw await failChunk(
          session,
          before,
          `a chunk that is not the last must be a multiple of ${RESUMABLE_QUANTUM} bytes, found ${written}`,
        );
    }
    session.received = received;
    session.total = total;
    if (total !== undefined && received === total) return finishSession(x, session);
    return reply(x, 308, undefined, rangeHeader(session));
  }

  async function failChunk(session: UploadSession, before: number, message: string): Promise<HttpError> {
    session.received = before;
    await fsp.truncate(session.file, before);
    return new HttpError(400, 'invalid', message);
  }

  async function finishSession(x: Exchange, session: UploadSession): Promise<void> {
    try {
      await checkHashes(session.file, session.fields, x.req.headers['x-goog-hash']);
      const { md5Hash: _m, crc32c: _c, ...fields } = session.fields;
      if (x.corrupt) await flipFirstByte(session.file);
      const object = await store.commit(
        session.bucket,
        session.name,
        session.file,
        fields,
        session.preconditions,
      );
      session.result = { object };
      return reply(x, 200, resource(object, baseUrl(x)));
    } catch (e) {
      const error = asHttpError(e);
      if (error instanceof HttpError) {
        session.result = { error };
        await fsp.rm(session.file, { force: true });
      }
      throw error;
    }
  }

  async function cancelResumable(x: Exchange): Promise<void> {
    await drain(x);
    const session = sessions.get(x.query.upload_id ?? '');
    if (!session) throw new HttpError(404, 'notFound', `No such upload session: ${x.query.upload_id}`);
    sessions.delete(session.id);
    await fsp.rm(session.file, { force: true });
    return reply(x, 499, undefined);
  }

  function rangeHeader(session: UploadSession): Record<string, string> {
    // No Range header means the session has nothing yet.
    return session.received > 0 ? { range: `bytes=0-${session.received - 1}` } : {};
  }

  // ---- plumbing ------------------------------------------------------------------------------------------

  /** The request body, counted, and cut off where a `reset` fault says. */
  async function* bodyOf(x: Exchange): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of x.req as AsyncIterable<Buffer>) {
        if (x.cutAt !== undefined && x.record.bytesIn + chunk.length >= x.cutAt) {
          const part = chunk.subarray(0, x.cutAt - x.record.bytesIn);
          x.record.bytesIn += part.length;
          if (part.length) yield part;
          resetConnection(x);
          throw new ConnectionCut('reset mid-body');
        }
        x.record.bytesIn += chunk.length;
        yield chunk;
      }
    } catch (e) {
      if (e instanceof ConnectionCut) throw e;
      // The client went away mid-body.
      throw new ConnectionCut(e instanceof Error ? e.message : String(e));
    }
    if (x.cutAt !== undefined) {
      resetConnection(x);
      throw new ConnectionCut('reset after the body');
    }
  }

  async function drain(x: Exchange): Promise<void> {
    for await (const _ of bodyOf(x));
  }

  async function readJson(x: Exchange): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of bodyOf(x)) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString('utf8').trim();
    if (!text) return {};
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new HttpError(400, 'parseError', `the request body is not a JSON object: ${text.slice(0, 100)}`);
  }

  function reply(x: Exchange, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (x.loseResponse) return resetConnection(x);
    if (x.res.headersSent) {
      x.res.destroy();
      return;
    }
    const text = body === undefined ? '' : JSON.stringify(body);
    x.res.writeHead(status, {
      ...headers,
      ...(text ? { 'content-type': 'application/json; charset=UTF-8' } : {}),
      'content-length': String(Buffer.byteLength(text)),
    });
    x.res.end(text);
    x.record.status = status;
  }

  function resetConnection(x: Exchange): void {
    x.record.status = 0;
    x.req.socket.resetAndDestroy();
  }

  function baseUrl(x: Exchange): string {
    return `http://${x.req.headers.host ?? handle.url.replace(/^http:\/\//, '')}`;
  }

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const address = server.address() as { address: string; port: number };
  handle.url = `http://${address.address}:${address.port}`;
  return handle;
}

const FAULT_REASONS: Partial<Record<FaultKind, string>> = {
  '429': 'rateLimitExceeded',
  '408': 'requestTimeout',
  '500': 'backendError',
  '503': 'backendError',
};

function routeOf(
  method: string,
  url: URL,
  query: Record<string, string>,
  contentRange: string | undefined,
): Route {
  const p = url.pathname;
  let m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o\/?$/.exec(p);
  if (m) {
    const bucket = decodeURIComponent(m[1]!);
    const object = query.name;
    const named = object === undefined ? {} : { object };
    if (method === 'POST') {
      const kind =
        query.uploadType === 'media'
          ? 'upload-media'
          : query.uploadType === 'multipart'
            ? 'upload-multipart'
            : query.uploadType === 'resumable'
              ? 'resumable-start'
              : 'unknown';
      return { kind, bucket, ...named };
    }
    if (method === 'PUT' && query.upload_id)
      return {
        kind: /^bytes \*\//.test(contentRange ?? '') ? 'resumable-status' : 'resumable-chunk',
        bucket,
        ...named,
      };
    if (method === 'DELETE' && query.upload_id) return { kind: 'resumable-cancel', bucket, ...named };
    return { kind: 'unknown', bucket };
  }
  m = /^\/download\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(p);
  if (m && method === 'GET')
    return { kind: 'media', bucket: decodeURIComponent(m[1]!), object: decodeURIComponent(m[2]!) };
  m = /^(?:\/storage\/v1)?\/b\/([^/]+)(\/o(?:\/(.+))?)?\/?$/.exec(p);
  if (m) {
    const bucket = decodeURIComponent(m[1]!);
    if (m[2] === undefined)
      return method === 'GET' ? { kind: 'bucket', bucket } : { kind: 'unknown', bucket };
    if (m[3] === undefined) return method === 'GET' ? { kind: 'list', bucket } : { kind: 'unknown', bucket };
    const object = decodeURIComponent(m[3]);
    if (method === 'GET') return { kind: query.alt === 'media' ? 'media' : 'get', bucket, object };
    if (method === 'DELETE') return { kind: 'delete', bucket, object };
    if (method === 'PATCH') return { kind: 'patch', bucket, object };
    return { kind: 'unknown', bucket, object };
  }
  return { kind: 'unknown' };
}

async function flipFirstByte(file: string): Promise<void> {
  const handle = await fsp.open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    const { bytesRead } = await handle.read(byte, 0, 1, 0);
    if (bytesRead === 1) await handle.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, 0);
  } finally {
    await handle.close();
  }
}

function hasBody(req: http.IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function preconditionsOf(query: Record<string, string>): Preconditions {
  const p: Preconditions = {};
  for (const key of PRECONDITION_PARAMS) {
    const value = query[key];
    if (value === undefined) continue;
    if (!/^\d+$/.test(value))
      throw new HttpError(
        400,
        'invalid',
        `Invalid argument: ${key}=${JSON.stringify(value)} is not a non-negative integer`,
      );
    p[key] = String(BigInt(value));
  }
  return p;
}

function requiredName(x: Exchange, fromBody: unknown): string {
  const name = x.query.name ?? (typeof fromBody === 'string' ? fromBody : undefined);
  if (!name)
    throw new HttpError(
      400,
      'required',
      'Required: the object name (the name query parameter or the resource name)',
    );
  if (Buffer.byteLength(name) > 1024)
    throw new HttpError(400, 'invalid', 'The object name is longer than 1024 bytes');
  x.route.object = name;
  x.record.object = name;
  return name;
}

function fieldsOf(body: Record<string, unknown>): ObjectFields {
  const fields: ObjectFields = {};
  for (const key of [
    'contentType',
    'contentEncoding',
    'contentDisposition',
    'contentLanguage',
    'cacheControl',
  ] as const)
    if (typeof body[key] === 'string') fields[key] = body[key];
  if (body.metadata !== undefined) {
    if (typeof body.metadata !== 'object' || body.metadata === null)
      throw new HttpError(400, 'invalid', 'metadata must be an object of strings');
    fields.metadata = Object.fromEntries(
      Object.entries(body.metadata).map(([k, v]) => [
        k,
        v === null ? (null as unknown as string) : String(v),
      ]),
    );
  }
  return fields;
}

/** Checks hashes the client declared (resource fields or the X-Goog-Hash header) against the received bytes. */
async function checkHashes(
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

function parseContentRange(
  header: string | undefined,
): { start?: number; end?: number; total?: number } | undefined {
  if (header === undefined) return { start: 0 }; // the whole object in one request
  const m = /^bytes (?:\*|(\d+)-(\d+|\*))\/(\d+|\*)$/.exec(header.trim());
  if (!m) return undefined;
  const range: { start?: number; end?: number; total?: number } = {};
  if (m[1] !== undefined) {
    range.start = Number(m[1]);
    if (m[2] !== '*') {
      range.end = Number(m[2]);
      if (range.end < range.start) return undefined;
    }
  }
  if (m[3] !== '*') range.total = Number(m[3]);
  return range;
}

function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Math.min(Number(m[2]), size);
    return { start: size - suffix, end: size - 1 };
  }
  const start = Number(m[1]);
  if (start >= size) return 'unsatisfiable';
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

function resource(o: StoredObject, base: string): Record<string, unknown> {
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

function etagOf(o: StoredObject): string {
  return Buffer.from(`${o.generation}/${o.metageneration}`).toString('base64');
}

function errorBody(e: HttpError) {
  return {
    error: {
      code: e.status,
      message: e.message,
      errors: [{ message: e.message, domain: 'global', reason: e.reason }],
    },
  };
}

function asHttpError(e: unknown): unknown {
  if (e instanceof HttpError) return e;
  if (e instanceof PreconditionFailed)
    return new HttpError(
      412,
      'conditionNotMet',
      `At least one of the pre-conditions you specified did not hold: ${e.message}`,
    );
  if (e instanceof Error && /^no such object/.test(e.message))
    return new HttpError(404, 'notFound', e.message);
  return e;
}
