// The test server's buckets: object resources in memory, object bytes in files under one folder, so that a
// 200 MB object costs disk, not heap. Only the live generation of each object is kept (no versioning).
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Crc32c } from '../../bucket/crc32c.ts';

/** The fields of the JSON API's object resource that the server keeps. */
export interface StoredObject {
  bucket: string;
  name: string;
  generation: string;
  metageneration: string;
  size: number;
  md5Hash: string;
  crc32c: string;
  contentType: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  metadata?: Record<string, string>;
  timeCreated: string;
  updated: string;
  /** Where the bytes are. */
  file: string;
}

export interface Preconditions {
  ifGenerationMatch?: string;
  ifGenerationNotMatch?: string;
  ifMetagenerationMatch?: string;
  ifMetagenerationNotMatch?: string;
}

export const PRECONDITION_PARAMS = [
  'ifGenerationMatch',
  'ifGenerationNotMatch',
  'ifMetagenerationMatch',
  'ifMetagenerationNotMatch',
] as const;

/** Returns why the preconditions fail against `current` (the live object, if any), or undefined if they hold. */
export function failedPrecondition(current: StoredObject | undefined, p: Preconditions): string | undefined {
  if (p.ifGenerationMatch !== undefined) {
    if (p.ifGenerationMatch === '0' ? current !== undefined : current?.generation !== p.ifGenerationMatch)
      return `ifGenerationMatch=${p.ifGenerationMatch} but the live generation is ${current?.generation ?? 'none (no object)'}`;
  }
  if (p.ifGenerationNotMatch !== undefined) {
    if (
      p.ifGenerationNotMatch === '0' ? current === undefined : current?.generation === p.ifGenerationNotMatch
    )
      return `ifGenerationNotMatch=${p.ifGenerationNotMatch} but the live generation is ${current?.generation ?? 'none (no object)'}`;
  }
  if (p.ifMetagenerationMatch !== undefined && current?.metageneration !== p.ifMetagenerationMatch)
    return `ifMetagenerationMatch=${p.ifMetagenerationMatch} but the live metageneration is ${current?.metageneration ?? 'none (no object)'}`;
  if (p.ifMetagenerationNotMatch !== undefined && current?.metageneration === p.ifMetagenerationNotMatch)
    return `ifMetagenerationNotMatch=${p.ifMetagenerationNotMatch} but the live metageneration is ${current.metageneration}`;
  return undefined;
}

export class PreconditionFailed extends Error {
  override name = 'PreconditionFailed';
}

/** The writable fields of an object resource, as a client sends them. */
export interface ObjectFields {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  metadata?: Record<string, string>;
}

export class GcsStore {
  readonly dir: string;
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  private lastGeneration = 0n;

  constructor(dir: string) {
    this.dir = dir;
    fs.mkdirSync(path.join(dir, 'objects'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'uploads'), { recursive: true });
    this.restore();
  }

  /**
   * Writes the object resources beside their bytes (index.json), so that a server started later on the same
   * folder serves the same buckets: a rehearsal run with a state folder continues where the last one ended.
   */
  save(): void {
    const buckets = Object.fromEntries(
      [...this.buckets].map(([name, objects]) => [name, [...objects.values()]]),
    );
    fs.writeFileSync(path.join(this.dir, 'index.json'), JSON.stringify({ buckets }));
  }

  private restore(): void {
    const file = path.join(this.dir, 'index.json');
    if (!fs.existsSync(file)) return;
    const { buckets } = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      buckets: Record<string, StoredObject[]>;
    };
    for (const [name, objects] of Object.entries(buckets)) {
      this.buckets.set(name, new Map(objects.map((o) => [o.name, o])));
      for (const o of objects)
        if (BigInt(o.generation) > this.lastGeneration) this.lastGeneration = BigInt(o.generation);
    }
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  get(bucket: string, name: string): StoredObject | undefined {
    return this.buckets.get(bucket)?.get(name);
  }

  /** Live objects of a bucket in name order (by UTF-8 bytes, as GCS lists them). */
  list(bucket: string): StoredObject[] {
    return [...(this.buckets.get(bucket)?.values() ?? [])].sort((a, b) =>
      Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)),
    );
  }

  /** A fresh path for bytes being received. */
  tempFile(): string {
    return path.join(this.dir, 'uploads', crypto.randomUUID());
  }

  /**
   * Makes the bytes in `tempFile` the object's new live generation, if the preconditions still hold. The check
   * and the swap happen without an await in between, so concurrent writers cannot both pass.
   */
  async commit(
    bucket: string,
    name: string,
    tempFile: string,
    fields: ObjectFields,
    preconditions: Preconditions,
  ): Promise<StoredObject> {
    const { size, md5Hash, crc32c } = await digestFile(tempFile);
    const objects = this.bucketOrThrow(bucket);
    const current = objects.get(name);
    const failure = failedPrecondition(current, preconditions);
    if (failure) {
      await fsp.rm(tempFile, { force: true });
      throw new PreconditionFailed(failure);
    }
    const file = path.join(this.dir, 'objects', crypto.randomUUID());
    fs.renameSync(tempFile, file);
    const now = new Date().toISOString();
    const object: StoredObject = {
      bucket,
      name,
      generation: this.nextGeneration(),
      metageneration: '1',
      size,
      md5Hash,
      crc32c,
      contentType: fields.contentType ?? 'application/octet-stream',
      ...pickDefined(fields),
      timeCreated: now,
      updated: now,
      file,
    };
    objects.set(name, object);
    if (current) await fsp.rm(current.file, { force: true });
    return object;
  }

  /** Changes an object's metadata (PATCH): a new metageneration, the same generation. */
  patch(bucket: string, name: string, fields: ObjectFields, preconditions: Preconditions): StoredObject {
    const objects = this.bucketOrThrow(bucket);
    const current = objects.get(name);
    if (!current) throw new Error(`no such object ${bucket}/${name}`);
    const failure = failedPrecondition(current, preconditions);
    if (failure) throw new PreconditionFailed(failure);
    const metadata =
      fields.metadata === undefined
        ? current.metadata
        : Object.fromEntries(
            Object.entries({ ...current.metadata, ...fields.metadata }).filter(([, v]) => v !== null),
          );
    const updated: StoredObject = {
      ...current,
      ...pickDefined({ ...fields, metadata }),
      metageneration: String(Number(current.metageneration) + 1),
      updated: new Date().toISOString(),
    };
    objects.set(name, updated);
    return updated;
  }

  async delete(bucket: string, name: string, preconditions: Preconditions): Promise<void> {
    const objects = this.bucketOrThrow(bucket);
    const current = objects.get(name);
    if (!current) throw new Error(`no such object ${bucket}/${name}`);
    const failure = failedPrecondition(current, preconditions);
    if (failure) throw new PreconditionFailed(failure);
    objects.delete(name);
    await fsp.rm(current.file, { force: true });
  }

  /** For tests: writes an object as another client would, bypassing HTTP. */
  async putObject(bucket: string, name: string, data: Buffer | string, fields: ObjectFields = {}) {
    const temp = this.tempFile();
    await fsp.writeFile(temp, data);
    return this.commit(bucket, name, temp, fields, {});
  }

  /** For tests: the stored bytes of an object. */
  async readObject(bucket: string, name: string): Promise<Buffer> {
    const object = this.get(bucket, name);
    if (!object) throw new Error(`no such object ${bucket}/${name}`);
    return fsp.readFile(object.file);
  }

  /** GCS generations are microsecond timestamps; they only ever increase. */
  private nextGeneration(): string {
    const now = BigInt(Date.now()) * 1000n;
    this.lastGeneration = now > this.lastGeneration ? now : this.lastGeneration + 1n;
    return String(this.lastGeneration);
  }

  private bucketOrThrow(bucket: string): Map<string, StoredObject> {
    const objects = this.buckets.get(bucket);
    if (!objects) throw new Error(`no such bucket ${bucket}`);
    return objects;
  }
}

export async function digestFile(file: string): Promise<{ size: number; md5Hash: string; crc32c: string }> {
  const md5 = crypto.createHash('md5');
  const crc = new Crc32c();
  let size = 0;
  for await (const chunk of fs.createReadStream(file, {
    highWaterMark: 1024 * 1024,
  }) as AsyncIterable<Buffer>) {
    md5.update(chunk);
    crc.update(chunk);
    size += chunk.length;
  }
  return { size, md5Hash: md5.digest('base64'), crc32c: crc.digest() };
}

function pickDefined(fields: ObjectFields): ObjectFields {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as ObjectFields;
}
