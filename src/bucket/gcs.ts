// The gs:// backend: a GCS bucket (and optional prefix) through @google-cloud/storage.
//
// Retries: transient failures (408, 429, 5xx, connection resets; ./gcs-failures.ts) are retried here, with the
// project's one retry policy and loop (src/util/backoff.ts: exponential backoff and jitter), and each retry is logged
// with the object it concerns. The requests are the client library's, not the project's HTTP client's, hence a loop
// of their own rather than src/http/. The client library's own retries are off: it retries requests that got no
// response without telling anyone, a failed status query inside a resumable session makes it abandon the session
// (and later throw from a timer, outside any caller), and its retry switch is shared state that writes without
// preconditions turn off for everyone in flight. A broken resumable session is resumed here instead
// (./gcs-session.ts): ask the session how many bytes it has, then continue from there. Uploads are retried only with an
// `ifGenerationMatch` precondition: such a write is idempotent, because a repeat cannot replace anything but the
// generation the caller saw.
//
// Integrity: the bytes sent are hashed on the way out (MD5 and CRC32C) and compared with the `md5Hash` and `crc32c`
// the service computed; a mismatch removes the object (with a generation precondition) and retries.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Storage,
  type Bucket as GcsApiBucket,
  type FileMetadata,
  type StorageOptions,
} from '@google-cloud/storage';
import { contentTypeOf } from './file.ts';
import { describe, IntegrityError, isTransient, statusOf } from './gcs-failures.ts';
import { parseGcsUri } from './gcs-names.ts';
import { Digests, digestsOf, querySession, skipBytes } from './gcs-session.ts';
import {
  checkObjectName,
  ObjectNotFoundError,
  PreconditionFailedError,
  type Bucket,
  type BucketObject,
  type ReadOptions,
  type UploadOptions,
} from './types.ts';
import { consoleLogger, type Logger } from '../util/log.ts';
import { retryCountNote, retrying, type RetryPolicy } from '../util/backoff.ts';

export type { RetryPolicy };
export { IntegrityError };

/** For a resumable upload, maxAttempts and totalTimeoutMs count from its last progress. */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 8,
  initialDelayMs: 1000,
  multiplier: 2,
  maxDelayMs: 32_000,
  totalTimeoutMs: 600_000,
};

export interface GcsBucketOptions {
  /** Files at least this large are uploaded in a resumable session (default 8 MiB). */
  resumableThreshold?: number;
  /**
   * Bytes per request in a resumable session (a multiple of 256 KiB; default 8 MiB). Each upload in flight keeps
   * one chunk in memory so that it can resend it after a broken request.
   */
  chunkSize?: number;
  /** A service account key file; without it, Application Default Credentials (e.g. from google-github-actions/auth). */
  keyFilename?: string;
  /** Service account credentials given as an object (e.g. parsed from a secret). */
  credentials?: StorageOptions['credentials'];
  projectId?: string;
  /**
   * A custom endpoint (e.g. a test server, or Private Service Connect). STORAGE_EMULATOR_HOST is honoured too, as
   * the client does. Either way, requests to a non-Google host go without credentials.
   */
  apiEndpoint?: string;
  retry?: Partial<RetryPolicy>;
  log?: Logger;
}

const MiB = 1024 * 1024;

export class GcsBucket implements Bucket {
  readonly uri: string;
  readonly bucketName: string;
  readonly prefix: string;
  /** The one client for every request of this bucket, so that credentials are obtained once and shared. */
  readonly storage: Storage;
  private readonly api: GcsApiBucket;
  private readonly retry: RetryPolicy;
  private readonly resumableThreshold: number;
  private readonly chunkSize: number;
  private readonly log: Logger;

  constructor(uri: string, options: GcsBucketOptions = {}) {
    const { bucket, prefix } = parseGcsUri(uri);
    this.bucketName = bucket;
    this.prefix = prefix;
    this.uri = `gs://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.resumableThreshold = options.resumableThreshold ?? 8 * MiB;
    this.chunkSize = options.chunkSize ?? 8 * MiB;
    if (this.chunkSize <= 0 || this.chunkSize % (256 * 1024) !== 0)
      throw new Error(`chunkSize must be a positive multiple of 256 KiB, found ${this.chunkSize}`);
    this.log = options.log ?? consoleLogger;
    this.storage = new Storage({
      ...(options.keyFilename ? { keyFilename: options.keyFilename } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.projectId ? { projectId: options.projectId } : {}),
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
      // Every retry happens in `withRetries` (see the top of this file).
      retryOptions: { autoRetry: false },
    });
    this.api = this.storage.bucket(bucket);
  }

  async *list(prefix = ''): AsyncIterable<BucketObject> {
    // A listing prefix may end with "/" (a folder); the rest of it must be a valid name.
    if (prefix) checkObjectName(prefix.replace(/\/$/, ''));
    const full = this.prefix ? `${this.prefix}/${prefix}` : prefix;
    let pageToken: string | undefined;
    do {
      const token = pageToken;
      const [files, next] = await this.withRetries(`list ${prefix || '(all)'}`, async () =>
        this.api.getFiles({
          prefix: full,
          autoPaginate: false,
          maxResults: 1000,
          ...(token ? { pageToken: token } : {}),
        }),
      );
      for (const file of files) yield this.toBucketObject(file.metadata);
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }

  async stat(name: string): Promise<BucketObject | undefined> {
    const file = this.api.file(this.key(name));
    return this.withRetries(`stat ${name}`, async () => {
      try {
        const [metadata] = await file.getMetadata();
        return this.toBucketObject(metadata);
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw e;
      }
    });
  }

  async upload(localPath: string, name: string, options: UploadOptions = {}): Promise<BucketObject> {
    const key = this.key(name);
    const { size } = await fsp.stat(localPath);
    const resumable = options.resumable ?? size >= this.resumableThreshold;
    const precondition = options.ifGenerationMatch;
    // Large reads for large files; a small file should not cost a 1 MiB buffer per read.
    const highWaterMark = Math.min(MiB, Math.max(64 * 1024, size));
    const source = () => [
      fs.createReadStream(localPath, { highWaterMark }),
      ...(options.gzip ? [zlib.createGzip()] : []),
    ];
    let session: string | undefined;
    let persisted = 0;

    const attempt = async (attemptNumber: number, progressed: () => void): Promise<BucketObject> => {
      let offset = 0;
      if (session) {
        // Retried on its own: a failed status query is no failed upload attempt, which would otherwise need two
        // requests (this query and a chunk) to go through before it counts as progress.
        const uri = session;
        const status = await this.withRetries(`upload ${name}: session status`, () => querySession(uri));
        if (status.state === 'done')
          return this.verifyUpload(name, status.metadata, await digestsOf(source()));
        if (status.state === 'gone') session = undefined;
        else offset = status.persisted;
        if (offset > persisted) progressed();
        persisted = offset;
      }
      const file = this.api.file(key);
      const sent = new Digests();
      // A fresh options object per attempt: the client writes into the one it is given.
      const sink = file.createWriteStream({
        resumable,
        validation: false, // checked below, against our own hashes, without the client's unconditional delete
        metadata: {
          contentType: options.contentType ?? contentTypeOf(name),
          ...(options.gzip ? { contentEncoding: 'gzip' } : {}),
          // Lets a resumable session state the total size up front; the client sends it as a header.
          ...(resumable && !options.gzip ? { contentLength: size } : {}),
          metadata: { ...options.metadata },
        },
        ...(resumable ? { chunkSize: this.chunkSize } : {}),
        // Continue the session from the first byte it lacks; the client takes the data from there on.
        ...(session ? { uri: session, offset } : {}),
        // Generations exceed 2^53 in principle; the client copies the value into the query string as it is.
        ...(precondition !== undefined
          ? { preconditionOpts: { ifGenerationMatch: precondition as unknown as number } }
          : {}),
      });
      sink.on('uri', (uri: string) => (session = uri));
      try {
        // Everything is hashed, including what the session already has; only the rest is sent.
        await pipeline([...source(), sent.stream(), skipBytes(offset), sink]);
      } catch (e) {
        if (statusOf(e) === 412)
          return this.afterPreconditionFailure(name, precondition ?? '?', sent, attemptNumber, e);
        throw e;
      }
      return this.verifyUpload(name, file.metadata, sent);
    };
    return this.withRetries(`upload ${name}`, attempt, precondition !== undefined);
  }

  async read(name: string, options: ReadOptions = {}): Promise<Readable> {
    const file = this.api.file(this.key(name), options.generation ? { generation: options.generation } : {});
    return this.withRetries(
      `read ${name}`,
      () =>
        new Promise<Readable>((resolve, reject) => {
          // Retried until the response starts; a failure after that reaches the reader. The client sends the
          // request only once someone reads, hence the 'readable' listener until the response is in.
          const stream = file.createReadStream();
          const kick = () => {};
          const onError = (e: unknown) => {
            stream.destroy();
            reject(
              statusOf(e) === 404
                ? new ObjectNotFoundError(
                    `${this.uri}/${name}: no such object${options.generation ? ` at generation ${options.generation}` : ''}`,
                  )
                : e,
            );
          };
          stream.once('error', onError);
          stream.on('readable', kick);
          stream.on('response', (res: { statusCode?: number }) => {
            // Error statuses arrive as an 'error' right after.
            if ((res.statusCode ?? 500) >= 300) return;
            stream.off('error', onError);
            stream.off('readable', kick);
            resolve(stream);
          });
        }),
    );
  }

  async delete(name: string, options: { ifGenerationMatch?: string } = {}): Promise<void> {
    const file = this.api.file(this.key(name));
    await this.withRetries(`delete ${name}`, async () => {
      try {
        await file.delete(
          options.ifGenerationMatch !== undefined
            ? { ifGenerationMatch: options.ifGenerationMatch as unknown as number }
            : {},
        );
      } catch (e) {
        if (statusOf(e) === 404) throw new ObjectNotFoundError(`${this.uri}/${name}: no such object`);
        if (statusOf(e) === 412)
          throw new PreconditionFailedError(
            this.uri,
            name,
            options.ifGenerationMatch ?? '?',
            (await this.stat(name))?.generation,
          );
        throw e;
      }
    });
  }

  /** The object name in the bucket: the prefix, then the name relative to it. */
  private key(name: string): string {
    checkObjectName(name);
    return this.prefix ? `${this.prefix}/${name}` : name;
  }

  private toBucketObject(m: FileMetadata): BucketObject {
    const full = String(m.name);
    return {
      name: this.prefix ? full.slice(this.prefix.length + 1) : full,
      generation: String(m.generation),
      md5: String(m.md5Hash ?? ''),
      ...(m.crc32c ? { crc32c: String(m.crc32c) } : {}),
      size: Number(m.size ?? 0),
      contentType: String(m.contentType ?? 'application/octet-stream'),
      ...(m.contentEncoding ? { contentEncoding: String(m.contentEncoding) } : {}),
      updated: String(m.updated ?? ''),
      metadata: Object.fromEntries(Object.entries(m.metadata ?? {}).map(([k, v]) => [k, String(v)])),
    };
  }

  /** Compares what the service stored with what was sent; removes a corrupted object so the retry can write it. */
  private async verifyUpload(name: string, m: FileMetadata, sent: Digests): Promise<BucketObject> {
    const written = this.toBucketObject(m);
    const problems = [
      written.md5 !== sent.md5 && `MD5 ${written.md5 || '(none)'} instead of ${sent.md5}`,
      written.crc32c !== sent.crc32c && `CRC32C ${written.crc32c ?? '(none)'} instead of ${sent.crc32c}`,
      written.size !== sent.size && `${written.size} bytes instead of ${sent.size}`,
    ].filter(Boolean);
    if (problems.length === 0) return written;
    await this.api
      .file(this.key(name))
      .delete({ ifGenerationMatch: written.generation as unknown as number })
      .catch(() => {});
    throw new IntegrityError(`${this.uri}/${name}: the stored object has ${problems.join(', ')}; removed it`);
  }

  /**
   * A 412 on a retry may be our own earlier attempt, which landed although its response was lost: then the
   * object holds exactly the bytes and metadata we sent, and the upload succeeded.
   */
  private async afterPreconditionFailure(
    name: string,
    expected: string,
    sent: Digests,
    attempt: number,
    error: unknown,
  ): Promise<BucketObject> {
    const current = await this.stat(name);
    if (
      attempt > 1 &&
      current &&
      sent.complete &&
      current.md5 === sent.md5 &&
      current.crc32c === sent.crc32c
    ) {
      this.log.info(`${this.uri}/${name}: an earlier attempt was stored (generation ${current.generation})`);
      return current;
    }
    throw Object.assign(new PreconditionFailedError(this.uri, name, expected, current?.generation), {
      cause: error,
    });
  }

  /**
   * Runs `work`, retrying transient failures by the policy, and logs each retry. Work that reports progress (a
   * resumed session that has more bytes than before) starts the budget afresh.
   */
  private async withRetries<T>(
    what: string,
    work: (attempt: number, progressed: () => void) => Promise<T>,
    retryable = true,
  ): Promise<T> {
    let attempts = 0;
    try {
      return await retrying(
        (attempt, progressed) => {
          attempts = attempt;
          return work(attempt, progressed);
        },
        {
          policy: this.retry,
          retryable: (e) => retryable && isTransient(e),
          onRetry: (notice) =>
            this.log.warn(`${this.uri}: ${what}: ${describe(notice.error)}; ${retryCountNote(notice)}`),
        },
      );
    } catch (e) {
      throw this.finalError(what, e, attempts);
    }
  }

  /** Our own errors pass as they are; the client's become one line that names the bucket and the operation. */
  private finalError(what: string, e: unknown, attempts: number): unknown {
    if (
      e instanceof PreconditionFailedError ||
      e instanceof ObjectNotFoundError ||
      e instanceof IntegrityError
    )
      return e;
    return new Error(
      `${this.uri}: ${what} failed${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${describe(e)}`,
      { cause: e },
    );
  }
}
