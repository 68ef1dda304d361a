// The storage interface: the local file system, and a store without local paths (as an object store would be),
// through which the log logic and writes work unchanged.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DeltaStorage, StoredFile } from '../../src/delta/index.ts';
import {
  FileExistsError,
  LocalStorage,
  openDeltaTable,
  storageFor,
  writeDelta,
} from '../../src/delta/index.ts';
import { withLocalFiles } from '../../src/delta/log.ts';
import { newConnection, rowsOf, tempDir } from './helpers.ts';

/** Files in memory, with the put-if-absent precondition an object store offers (e.g. GCS ifGenerationMatch=0). */
class MemoryStorage implements DeltaStorage {
  readonly location = 'memory://table';
  readonly files = new Map<string, { data: Uint8Array; modificationTime: number }>();

  async list(prefix: string, options: { recursive?: boolean } = {}): Promise<StoredFile[]> {
    const dir = prefix === '' ? '' : `${prefix}/`;
    return [...this.files.entries()]
      .filter(([p]) => p.startsWith(dir) && (options.recursive || !p.slice(dir.length).includes('/')))
      .map(([p, f]) => ({ path: p, size: f.data.length, modificationTime: f.modificationTime }));
  }

  async read(relPath: string): Promise<Uint8Array | undefined> {
    return this.files.get(relPath)?.data;
  }

  async put(relPath: string, data: Uint8Array | string, options: { ifAbsent?: boolean } = {}): Promise<void> {
    if (options.ifAbsent && this.files.has(relPath)) throw new FileExistsError(relPath);
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data);
    this.files.set(relPath, { data: bytes, modificationTime: Date.now() });
  }

  async delete(relPath: string): Promise<void> {
    this.files.delete(relPath);
  }
}

describe('storage', () => {
  it('creates a file only if absent, leaving no temporary file behind', async () => {
    const root = tempDir('delta-storage');
    const storage = new LocalStorage(root);
    await storage.put('_delta_log/00000000000000000000.json', 'first\n', { ifAbsent: true });
    await expect(
      storage.put('_delta_log/00000000000000000000.json', 'second\n', { ifAbsent: true }),
    ).rejects.toThrow(FileExistsError);
    expect(fs.readFileSync(path.join(root, '_delta_log/00000000000000000000.json'), 'utf8')).toBe('first\n');
    expect(fs.readdirSync(path.join(root, '_delta_log'))).toEqual(['00000000000000000000.json']);
    expect(await storage.read('missing.json')).toBeUndefined();
    expect(await storage.list('nowhere')).toEqual([]);
  });

  it('maps locations: paths and file:// URLs are local; other stores need a DeltaStorage', () => {
    const dir = path.join(os.tmpdir(), 'with space');
    expect((storageFor(`file://${dir.replace(/ /g, '%20')}`) as LocalStorage).root).toBe(dir);
    expect(() => storageFor('gs://bucket/table')).toThrow(/implement DeltaStorage for other stores/);
  });

  it('writes and replays a table on a store without local paths, checkpoint included', async () => {
    const conn = await newConnection();
    const storage = new MemoryStorage();
    await writeDelta(conn, storage, 'SELECT range AS id, range % 2 AS part FROM range(10)', {
      mode: 'create',
      partitionBy: ['part'],
      configuration: { 'delta.checkpointInterval': '2' },
    });
    await writeDelta(conn, storage, 'SELECT 10 AS id, 0 AS part', { mode: 'append' });
    const third = await writeDelta(conn, storage, 'SELECT 11 AS id, 1 AS part', { mode: 'append' });
    expect(third.checkpoint).toEqual({ version: 2, size: expect.any(Number) });
    expect([...storage.files.keys()].filter((p) => p.startsWith('_delta_log/')).sort()).toEqual([
      '_delta_log/00000000000000000000.json',
      '_delta_log/00000000000000000001.json',
      '_delta_log/00000000000000000002.checkpoint.parquet',
      '_delta_log/00000000000000000002.json',
      '_delta_log/_last_checkpoint',
    ]);
    // Hide the commits the checkpoint covers: the state comes from the checkpoint read through the interface.
    for (const v of [0, 1, 2]) storage.files.delete(`_delta_log/0000000000000000000${v}.json`);
    const snapshot = await openDeltaTable(storage, { conn }).snapshot();
    expect(snapshot.version).toBe(2);
    expect(snapshot.files).toHaveLength(4);
    // The data files were uploaded whole: DuckDB reads their copies back.
    const files = snapshot.scan().map((f) => ({ path: f.path, size: f.size, modificationTime: 0 }));
    const rows = await withLocalFiles(storage, files, (paths) =>
      rowsOf(conn, `SELECT id FROM read_parquet([${paths.map((p) => `'${p}'`).join(', ')}])`),
    );
    expect(rows).toEqual(Array.from({ length: 12 }, (_, i) => `{"id":"${i}"}`).sort());
  });
});
