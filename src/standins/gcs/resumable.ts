// Resumable uploads on the GCS test server: a session per upload, chunks of whole 256 KiB quanta, status queries,
// a broken request keeping only whole quanta (as GCS does), hashes checked and the object committed at the end.
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import {
  asHttpError,
  bodyOf,
  ConnectionCut,
  drain,
  HttpError,
  readJson,
  reply,
  type Exchange,
} from './exchange.ts';
import { fieldsOf, parseContentRange, preconditionsOf, requiredName } from './requests.ts';
import { checkHashes, flipFirstByte, resource } from './resource.ts';
import {
  failedPrecondition,
  type GcsStore,
  type ObjectFields,
  type Preconditions,
  type StoredObject,
} from './store.ts';

/** Non-final chunks of a resumable upload must be multiples of 256 KiB; a broken request keeps whole quanta. */
export const RESUMABLE_QUANTUM = 256 * 1024;

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

export class ResumableUploads {
  private readonly sessions = new Map<string, UploadSession>();
  private readonly store: GcsStore;
  constructor(store: GcsStore) {
    this.store = store;
  }

  async startResumable(x: Exchange): Promise<void> {
    const body = await readJson(x);
    const name = requiredName(x, body.name);
    const preconditions = preconditionsOf(x.query);
    // Refuse at once what would fail at the end anyway; the check is repeated when the upload completes.
    const failure = failedPrecondition(this.store.get(x.route.bucket!, name), preconditions);
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
      file: this.store.tempFile(),
      received: 0,
      ...(typeof declared === 'string' && /^\d+$/.test(declared) ? { total: Number(declared) } : {}),
      lock: Promise.resolve(),
    };
    await fsp.writeFile(session.file, '');
    this.sessions.set(session.id, session);
    const location = `${x.base}/upload/storage/v1/b/${encodeURIComponent(session.bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${session.id}`;
    return reply(x, 200, undefined, { location });
  }

  async continueResumable(x: Exchange): Promise<void> {
    const session = this.sessions.get(x.query.upload_id ?? '');
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
      await this.serveSession(x, session);
    } finally {
      release();
    }
  }

  async serveSession(x: Exchange, session: UploadSession): Promise<void> {
    if (session.result) {
      await drain(x);
      if ('error' in session.result) throw session.result.error;
      return reply(x, 200, resource(session.result.object, x.base));
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
      if (total !== undefined && session.received === total) return this.finishSession(x, session);
      return reply(x, 308, undefined, this.rangeHeader(session));
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
    const written = await this.appendBody(x, session, before - range.start);
    const received = before + written;
    const length = range.end === undefined ? undefined : range.end - range.start + 1;
    if (length !== undefined && x.record.bytesIn !== length)
      throw await this.failChunk(
        session,
        before,
        `Content-Range says ${length} bytes, the body had ${x.record.bytesIn}`,
      );
    // `bytes <start>-*/*`: this request carries the rest of the object, whatever its size.
    if (range.end === undefined && total === undefined) total = received;
    if (total !== undefined && received > total)
      throw await this.failChunk(
        session,
        before,
        `the session would have ${received} bytes, more than the object size ${total}`,
      );
    if (total === undefined || received < total) {
      if (range.end === undefined)
        throw await this.failChunk(session, before, `the body ended at byte ${received} of ${total}`);
      if (written % RESUMABLE_QUANTUM !== 0)
        throw await this.failChunk(
          session,
          before,
          `a chunk that is not the last must be a multiple of ${RESUMABLE_QUANTUM} bytes, found ${written}`,
        );
    }
    session.received = received;
    session.total = total;
    if (total !== undefined && received === total) return this.finishSession(x, session);
    return reply(x, 308, undefined, this.rangeHeader(session));
  }

  /** Appends the body to the session's file, skipping the first `skip` bytes it already has; the bytes written. */
  async appendBody(x: Exchange, session: UploadSession, skip: number): Promise<number> {
    const before = session.received;
    // Bytes the session already has (a client resending after a broken request) are skipped.
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
    return written;
  }

  async failChunk(session: UploadSession, before: number, message: string): Promise<HttpError> {
    session.received = before;
    await fsp.truncate(session.file, before);
    return new HttpError(400, 'invalid', message);
  }

  async finishSession(x: Exchange, session: UploadSession): Promise<void> {
    try {
      await checkHashes(session.file, session.fields, x.req.headers['x-goog-hash']);
      const { md5Hash: _m, crc32c: _c, ...fields } = session.fields;
      if (x.corrupt) await flipFirstByte(session.file);
      const object = await this.store.commit(
        session.bucket,
        session.name,
        session.file,
        fields,
        session.preconditions,
      );
      session.result = { object };
      return reply(x, 200, resource(object, x.base));
    } catch (e) {
      const error = asHttpError(e);
      if (error instanceof HttpError) {
        session.result = { error };
        await fsp.rm(session.file, { force: true });
      }
      throw error;
    }
  }

  async cancelResumable(x: Exchange): Promise<void> {
    await drain(x);
    const session = this.sessions.get(x.query.upload_id ?? '');
    if (!session) throw new HttpError(404, 'notFound', `No such upload session: ${x.query.upload_id}`);
    this.sessions.delete(session.id);
    await fsp.rm(session.file, { force: true });
    return reply(x, 499, undefined);
  }

  rangeHeader(session: UploadSession): Record<string, string> {
    // No Range header means the session has nothing yet.
    return session.received > 0 ? { range: `bytes=0-${session.received - 1}` } : {};
  }
}
