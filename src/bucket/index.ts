// src/bucket/ holds the bucket interface (types.ts) and its backends: file:// (file.ts) and gs:// (gcs*.ts).
//
// Opens a bucket from its URI: file://<folder> (relative folders resolve against `baseDir`) or gs://<bucket>[/prefix].
import path from 'node:path';
import { FileBucket } from './file.ts';
import type { GcsBucketOptions } from './gcs.ts';
import type { Bucket } from './types.ts';

export * from './types.ts';
export { checkBucketName, parseGcsUri } from './gcs-names.ts';
export type { GcsBucketOptions, RetryPolicy } from './gcs.ts';

/** `gcs` applies to gs:// URIs only (credentials, endpoint, resumable threshold, retries, logger). */
export async function openBucket(
  uri: string,
  baseDir = process.cwd(),
  gcs: GcsBucketOptions = {},
): Promise<Bucket> {
  if (uri.startsWith('file://'))
    return new FileBucket(path.resolve(baseDir, uri.slice('file://'.length)), uri);
  // The GCS client loads only for gs:// buckets: it costs a third of a second of every command's start.
  if (uri.startsWith('gs://')) return new (await import('./gcs.ts')).GcsBucket(uri, gcs);
  throw new Error(`bucket URI ${JSON.stringify(uri)}: expected file://<folder> or gs://<bucket>[/<prefix>]`);
}
