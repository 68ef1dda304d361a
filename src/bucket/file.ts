// A local folder with object semantics: each object has a generation, an MD5, a content type and custom
// metadata, and writes honour generation preconditions. Data lives at `<root>/<name>` so the folder stays
// browsable; metadata lives beside it in `<root>/.objects/<name>.json`. The bucket's URI is its identity as the
// config names it (`file://.lakehouse/bucket`, relative to the project): the load audit is keyed on it, so that a
// project folder copied or moved elsewhere is the same bucket.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import mime from 'mime-types';
import {
  checkObjectName,
  ObjectNotFoundError,
  PreconditionFailedError,
  type Bucket,
  type BucketObject,
  type ReadOptions,
  type UploadOptions,
} from './types.ts';

const META_DIR = '.objects';
const TMP_DIR = '.tmp';
const LOCK_WAIT_MS = 10_000;

export class FileBucket implements Bucket {
  readonly uri: string;
  readonly root: string;
  /** `file://` and the absolute folder: how earlier versions named every file bucket. */
  readonly absoluteUri: string;

  /** `uri`: the bucket as configured (default: its absolute folder). */
  constructor(root: string, uri?: string) {
    this.root = path.resolve(root);
    this.absoluteUri = `file://${this.root}`;
    this.uri = uri === undefined ? this.absoluteUri : fileBucketIdentity(uri);
  }

  async *list(prefix = ''): AsyncIterable<BucketObject> {
    for (const name of await this.listNames()) {
      if (!name.startsWith(prefix)) continue;
      const info = await this.stat(name);
      if (info) yield info;
    }
  }

  async stat(name: string): Promise<BucketObject | undefined> {
    checkObjectName(name);
    const meta = await readJson<BucketObject>(this.metaPath(name));
    const stats = await fsp.stat(this.dataPath(name)).catch(() => undefined);
    // A file deleted by hand is no object, whatever metadata it left.
    if (!stats?.isFile()) return undefined;
    if (meta && meta.size === stats.size) return meta;
    // A file dropped into the folder by hand (or replaced by one of another size) becomes an object (a new
    // generation of it) the first time it is seen.
    return this.withLock(name, async () => {
      const existing = await readJson<BucketObject>(this.metaPath(name));
      if (existing && existing.size === stats.size) return existing;
      const info: BucketObject = {
        name,
        generation: existing
          ? nextGeneration(existing.generation)
          : String(BigInt(Math.floor(stats.mtimeMs)) * 1000n),
        md5: await md5OfFile(this.dataPath(name)),
        size: stats.size,
        contentType: contentTypeOf(name),
        updated: stats.mtime.toISOString(),
        metadata: {},
      };
      await this.writeMeta(info);
      return info;
    });
  }

  async upload(localPath: string, name: string, options: UploadOptions = {}): Promise<BucketObject> {
    checkObjectName(name);
    await fsp.mkdir(path.join(this.root, TMP_DIR), { recursive: true });
    const tmp = path.join(this.root, TMP_DIR, `${crypto.randomUUID()}.part`);
    try {
      const hash = crypto.createHash('md5');
      const source = fs.createReadStream(localPath);
      const sink = fs.createWriteStream(tmp, { flags: 'wx' });
      if (options.gzip) await pipeline(source, zlib.createGzip(), hashing(hash), sink);
      else await pipeline(source, hashing(hash), sink);
      const size = (await fsp.stat(tmp)).size;
      return await this.withLock(name, async () => {
        const current = await this.stat(name);
        if (
          options.ifGenerationMatch !== undefined &&
          options.ifGenerationMatch !== (current?.generation ?? '0')
        )
          throw new PreconditionFailedError(this.uri, name, options.ifGenerationMatch, current?.generation);
        const info: BucketObject = {
          name,
          generation: nextGeneration(current?.generation),
          md5: hash.digest('base64'),
          size,
          contentType: options.contentType ?? contentTypeOf(name),
          ...(options.gzip ? { contentEncoding: 'gzip' } : {}),
          updated: new Date().toISOString(),
          metadata: { ...options.metadata },
        };
        await fsp.mkdir(path.dirname(this.dataPath(name)), { recursive: true });
        await fsp.rename(tmp, this.dataPath(name));
        await this.writeMeta(info);
        return info;
      });
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  async read(name: string, options: ReadOptions = {}): Promise<Readable> {
    const info = await this.stat(name);
    if (!info) throw new ObjectNotFoundError(`${this.uri}/${name}: no such object`);
    if (options.generation !== undefined && options.generation !== info.generation)
      throw new ObjectNotFoundError(
        `${this.uri}/${name}: generation ${options.generation} no longer exists (current generation ${info.generation})`,
      );
    const stream = fs.createReadStream(this.dataPath(name));
    return info.contentEncoding === 'gzip' ? stream.pipe(zlib.createGunzip()) : stream;
  }

  async delete(name: string, options: { ifGenerationMatch?: string } = {}): Promise<void> {
    checkObjectName(name);
    await this.withLock(name, async () => {
      const current = await this.stat(name);
      if (!current) throw new ObjectNotFoundError(`${this.uri}/${name}: no such object`);
      if (options.ifGenerationMatch !== undefined && options.ifGenerationMatch !== current.generation)
        throw new PreconditionFailedError(this.uri, name, options.ifGenerationMatch, current.generation);
      await fsp.rm(this.dataPath(name), { force: true });
      await fsp.rm(this.metaPath(name), { force: true });
    });
  }

  private dataPath(name: string): string {
    return path.join(this.root, ...name.split('/'));
  }

  private metaPath(name: string): string {
    return path.join(this.root, META_DIR, ...name.split('/')) + '.json';
  }

  private async writeMeta(info: BucketObject): Promise<void> {
    const target = this.metaPath(info.name);
    await fsp.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${crypto.randomUUID()}.tmp`;
    await fsp.writeFile(tmp, JSON.stringify(info, null, 2));
    await fsp.rename(tmp, target);
  }

  private async listNames(): Promise<string[]> {
    const entries = await fsp.readdir(this.root, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(this.root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .filter((n) => !n.startsWith(`${META_DIR}/`) && !n.startsWith(`${TMP_DIR}/`) && !n.endsWith('.lock'))
      .sort();
  }

  /** Serialises writers of one object across processes with an exclusively created lock file. */
  private async withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
    const lock = this.metaPath(name).replace(/\.json$/, '.lock');
    await fsp.mkdir(path.dirname(lock), { recursive: true });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await fsp.writeFile(lock, String(process.pid), { flag: 'wx' });
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (Date.now() > deadline)
          throw new Error(
            `${this.uri}/${name}: another writer has held ${lock} for over ${LOCK_WAIT_MS / 1000}s`,
            {
              cause: e,
            },
          );
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    try {
      return await work();
    } finally {
      await fsp.rm(lock, { force: true });
    }
  }
}

/** A file:// URI as an identity: `./`, doubled and trailing slashes do not make another bucket. */
export function fileBucketIdentity(uri: string): string {
  const folder = uri.slice('file://'.length);
  const normal = path.posix.normalize(folder).replace(/\/+$/, '');
  return `file://${normal.startsWith('/') || normal === '' ? normal : normal.replace(/^\.\//, '')}`;
}

export function contentTypeOf(name: string): string {
  return mime.lookup(name) || 'application/octet-stream';
}

/** MD5 (base64, as GCS reports it) and SHA-256 (hex) of a file, in one read. */
export async function digestFile(file: string): Promise<{ md5: string; sha256: string; size: number }> {
  const md5 = crypto.createHash('md5');
  const sha256 = crypto.createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file)) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { md5: md5.digest('base64'), sha256: sha256.digest('hex'), size };
}

export async function md5OfFile(file: string): Promise<string> {
  const hash = crypto.createHash('md5');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

function hashing(hash: crypto.Hash) {
  return async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      yield chunk;
    }
  };
}

/** Generations are microsecond timestamps, like GCS, and always move forward for one object. */
function nextGeneration(previous: string | undefined): string {
  const now = BigInt(Date.now()) * 1000n + BigInt(process.hrtime.bigint() % 1000n);
  const floor = previous ? BigInt(previous) + 1n : 0n;
  return String(now > floor ? now : floor);
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
