// Opens a bucket from its URI: file://<folder> (relative folders resolve against `baseDir`) or gs://<bucket>[/prefix].
import path from 'node:path';
import { FileBucket } from './file.ts';
import type { Bucket } from './types.ts';

export * from './types.ts';

export async function openBucket(uri: string, baseDir = process.cwd()): Promise<Bucket> {
  if (uri.startsWith('file://')) return new FileBucket(path.resolve(baseDir, uri.slice('file://'.length)));
  throw new Error(`bucket URI ${JSON.stringify(uri)}: expected file://<folder> or gs://<bucket>[/<prefix>]`);
}
