// The storage a Delta table lives on. The log logic only lists, reads, creates-if-absent and deletes, so an
// object store (GCS, S3) can implement this interface with its own preconditions (e.g. ifGenerationMatch=0).
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export interface StoredFile {
  /** Path relative to the table root, with `/` separators. */
  path: string;
  size: number;
  /** Last modification, milliseconds since the epoch. */
  modificationTime: number;
}

export interface DeltaStorage {
  /** A readable description of where the table is (for messages). */
  readonly location: string;
  /** Files (not folders) under `prefix` (relative to the table root), recursively when asked. */
  list(prefix: string, options?: { recursive?: boolean }): Promise<StoredFile[]>;
  /** The whole file, or undefined when it does not exist. */
  read(relPath: string): Promise<Uint8Array | undefined>;
  /**
   * Writes `data` at `relPath`. With `ifAbsent`, fails with a `FileExistsError` when the file exists; the file
   * appears complete or not at all, so readers never see a partial commit. With `modificationTime` (ms), where the
   * store lets it be set, the file carries that time (a commit's timestamp, which Delta readers take from it).
   */
  put(relPath: string, data: Uint8Array | string, options?: PutOptions): Promise<void>;
  delete(relPath: string): Promise<void>;
  /** Where DuckDB can read or write the file directly, if this storage is a local file system. */
  localPath?(relPath: string): string;
}

export interface PutOptions {
  ifAbsent?: boolean;
  modificationTime?: number;
}

export class FileExistsError extends Error {
  readonly path: string;
  constructor(filePath: string) {
    super(`${filePath} already exists`);
    this.name = 'FileExistsError';
    this.path = filePath;
  }
}

/** A table on the local file system. `root` is the table folder (it need not exist yet). */
export class LocalStorage implements DeltaStorage {
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.location = this.root;
  }

  localPath(relPath: string): string {
    return path.join(this.root, ...relPath.split('/'));
  }

  async list(prefix: string, options: { recursive?: boolean } = {}): Promise<StoredFile[]> {
    const dir = this.localPath(prefix);
    const entries = await fs
      .readdir(dir, { withFileTypes: true, recursive: options.recursive ?? false })
      .catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return [];
        throw e;
      });
    const files: StoredFile[] = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const full = path.join(entry.parentPath, entry.name);
      const stat = await fs.stat(full).catch(() => undefined);
      // A file may vanish between readdir and stat (a concurrent vacuum or temp-file rename).
      if (!stat) continue;
      files.push({
        path: path.relative(this.root, full).split(path.sep).join('/'),
        size: stat.size,
        modificationTime: Math.floor(stat.mtimeMs),
      });
    }
    return files;
  }

  async read(relPath: string): Promise<Uint8Array | undefined> {
    try {
      return await fs.readFile(this.localPath(relPath));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async put(relPath: string, data: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    const target = this.localPath(relPath);
    await fs.mkdir(path.dirname(target), { recursive: true });
    // Write a hidden temporary file first, then publish it in one step: link() fails if the target exists
    // (put-if-absent) and rename() replaces atomically, so no reader ever sees a half-written file.
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID()}.tmp`);
    await fs.writeFile(temp, data);
    if (options.modificationTime !== undefined) {
      // In seconds; half a millisecond more so that the float's rounding cannot make it the millisecond before.
      const seconds = (options.modificationTime + 0.5) / 1000;
      await fs.utimes(temp, seconds, seconds);
    }
    try {
      if (options.ifAbsent) {
        await fs.link(temp, target).catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'EEXIST') throw new FileExistsError(relPath);
          throw e;
        });
      } else {
        await fs.rename(temp, target);
      }
    } finally {
      await fs.rm(temp, { force: true });
    }
  }

  async delete(relPath: string): Promise<void> {
    await fs.rm(this.localPath(relPath), { force: true });
  }
}

/** Storage for a table location: a local path or a `file://` URL. */
export function storageFor(location: string): DeltaStorage {
  if (location.startsWith('file://')) return new LocalStorage(fileURLToPath(location));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new Error(
      `Delta table location ${location}: only local paths and file:// URLs are supported; ` +
        'implement DeltaStorage for other stores and pass it to openDeltaTable',
    );
  }
  return new LocalStorage(location);
}
