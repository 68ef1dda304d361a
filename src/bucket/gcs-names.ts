// gs:// URIs and GCS bucket names, checked before any request so a typo fails with a reason, not a 400 or 404.
import { checkObjectName } from './types.ts';

/** GCS's bucket naming rules (https://cloud.google.com/storage/docs/buckets#naming), as a table. */
const BUCKET_RULES: [(name: string) => boolean, string][] = [
  [(n) => n.length < 3, 'it is shorter than 3 characters'],
  [(n) => /[A-Z]/.test(n), 'it has uppercase letters (bucket names are lowercase)'],
  [(n) => /[^a-z0-9._-]/.test(n), 'it has characters other than a-z, 0-9, "-", "_" and "."'],
  [(n) => !/^[a-z0-9]/.test(n) || !/[a-z0-9]$/.test(n), 'it does not start and end with a letter or a digit'],
  [(n) => !n.includes('.') && n.length > 63, 'it is longer than 63 characters'],
  [(n) => n.length > 222, 'it is longer than 222 characters'],
  [(n) => n.split('.').some((part) => part.length > 63), 'a dot-separated part is longer than 63 characters'],
  [(n) => n.includes('..'), 'it has two dots in a row'],
  [(n) => /^\d{1,3}(\.\d{1,3}){3}$/.test(n), 'it looks like an IP address'],
  [(n) => n.startsWith('goog'), 'it starts with "goog"'],
  [(n) => /g[o0][o0]g[l1]e/.test(n), 'it contains "google" or a look-alike'],
];

export function checkBucketName(name: string): string {
  const problem = BUCKET_RULES.find(([broken]) => broken(name))?.[1];
  if (problem)
    throw new Error(
      `invalid GCS bucket name ${JSON.stringify(name)}: ${problem}; expected 3-63 characters of a-z, 0-9, "-", "_" and "." that start and end with a letter or digit (https://cloud.google.com/storage/docs/buckets#naming)`,
    );
  return name;
}

export interface GcsLocation {
  bucket: string;
  /** Object name prefix without leading or trailing "/", or "" for the whole bucket. */
  prefix: string;
}

/** Parses `gs://bucket[/prefix]`. */
export function parseGcsUri(uri: string): GcsLocation {
  const match = /^gs:\/\/([^/]*)(?:\/(.*))?$/.exec(uri);
  if (!match) throw new Error(`bucket URI ${JSON.stringify(uri)}: expected gs://<bucket>[/<prefix>]`);
  const bucket = checkBucketName(match[1]!);
  const prefix = (match[2] ?? '').replace(/\/+$/, '');
  if (prefix) {
    try {
      checkObjectName(prefix);
    } catch (e) {
      throw new Error(
        `bucket URI ${JSON.stringify(uri)}: prefix ${(e as Error).message.replace(/^invalid object name /, '')}`,
        {
          cause: e,
        },
      );
    }
  }
  return { bucket, prefix };
}
