// The bucket contract shared by the file:// and gs:// backends. Names are relative to the bucket URI's prefix.
import type { Readable } from 'node:stream';

export interface BucketObject {
  name: string;
  /** A decimal string: GCS generations exceed 2^53. */
  generation: string;
  /** Base64 MD5 of the stored bytes, as GCS reports `md5Hash`. */
  md5: string;
  /** Base64 big-endian CRC32C of the stored bytes, where the backend computes it. */
  crc32c?: string;
  size: number;
  contentType: string;
  contentEncoding?: string;
  /** ISO 8601. */
  updated: string;
  metadata: Record<string, string>;
}

export interface UploadOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** Write only if the object's current generation is this one; "0" means only if it does not exist yet. */
  ifGenerationMatch?: string;
  /** Store gzip-compressed with Content-Encoding: gzip. */
  gzip?: boolean;
  /** Use a resumable upload (GCS) — the backend decides for files above its threshold when unset. */
  resumable?: boolean;
}

export interface ReadOptions {
  /** Read exactly this generation; fails if the object has moved on. */
  generation?: string;
}

export interface Bucket {
  /** The bucket's URI, e.g. `file:///abs/folder` or `gs://bucket/prefix`. */
  readonly uri: string;
  list(prefix?: string): AsyncIterable<BucketObject>;
  stat(name: string): Promise<BucketObject | undefined>;
  upload(localPath: string, name: string, options?: UploadOptions): Promise<BucketObject>;
  read(name: string, options?: ReadOptions): Promise<Readable>;
  delete(name: string, options?: { ifGenerationMatch?: string }): Promise<void>;
}

/** The object changed (or appeared) since the caller looked at it: nothing was written. */
export class PreconditionFailedError extends Error {
  override name = 'PreconditionFailedError';
  readonly objectName: string;
  readonly expectedGeneration: string;
  readonly actualGeneration: string | undefined;
  constructor(bucketUri: string, objectName: string, expectedGeneration: string, actualGeneration?: string) {
    super(
      `${bucketUri}/${objectName}: precondition failed: expected ${
        expectedGeneration === '0' ? 'no object' : `generation ${expectedGeneration}`
      }, found ${actualGeneration === undefined ? 'another writer’s version' : `generation ${actualGeneration}`}; not overwritten`,
    );
    this.objectName = objectName;
    this.expectedGeneration = expectedGeneration;
    this.actualGeneration = actualGeneration;
  }
}

export class ObjectNotFoundError extends Error {
  override name = 'ObjectNotFoundError';
}

/**
 * Object names must stay inside the bucket prefix: no absolute names, no `..` or `.` segments, no empty
 * segments, no backslashes or control characters. GCS allows some of these, but a pipeline never needs them.
 */
const NAME_RULES: [(name: string) => boolean, string][] = [
  [(n) => n.length === 0, 'it is empty'],
  [(n) => Buffer.byteLength(n) > 1024, 'it is longer than 1024 bytes'],
  [(n) => n.startsWith('/'), 'it starts with /'],
  [
    (n) => n.split('/').some((s) => s === '..' || s === '.'),
    'it has a "." or ".." segment that would escape the prefix',
  ],
  [(n) => n.split('/').includes(''), 'it has an empty segment (//) or ends with /'],
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  [(n) => /[\\\u0000-\u001f\u007f]/.test(n), 'it contains a backslash or a control character'],
];

export function checkObjectName(name: string): string {
  const problem = NAME_RULES.find(([broken]) => broken(name))?.[1];
  if (problem) throw new Error(`invalid object name ${JSON.stringify(name)}: ${problem}`);
  return name;
}
