// Finding and reading the files of `_delta_log`: commits, checkpoints (classic and multi-part), _last_checkpoint.
import type { DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Action, CommitInfo } from './actions.ts';
import { parseCommit } from './actions.ts';
import type { DeltaStorage, StoredFile } from './storage.ts';
import { quoteLiteral } from './schema.ts';

export const LOG_DIR = '_delta_log';

export function commitPath(version: number): string {
  return `${LOG_DIR}/${String(version).padStart(20, '0')}.json`;
}

export function checkpointPath(version: number): string {
  return `${LOG_DIR}/${String(version).padStart(20, '0')}.checkpoint.parquet`;
}

export interface Checkpoint {
  version: number;
  /** One file, or every part of a multi-part checkpoint, in part order. */
  parts: StoredFile[];
}

export interface LogListing {
  commits: Map<number, StoredFile>;
  /** Complete checkpoints only, ascending by version. */
  checkpoints: Checkpoint[];
}

const COMMIT = /^(\d{20})\.json$/;
const CLASSIC_CHECKPOINT = /^(\d{20})\.checkpoint\.parquet$/;
const MULTI_PART_CHECKPOINT = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;

export async function listLog(storage: DeltaStorage): Promise<LogListing> {
  const commits = new Map<number, StoredFile>();
  const classic = new Map<number, StoredFile>();
  const multi = new Map<string, { version: number; total: number; parts: Map<number, StoredFile> }>();
  for (const file of await storage.list(LOG_DIR)) {
    const name = file.path.slice(LOG_DIR.length + 1);
    let m: RegExpExecArray | null;
    if ((m = COMMIT.exec(name))) commits.set(Number(m[1]), file);
    else if ((m = CLASSIC_CHECKPOINT.exec(name))) classic.set(Number(m[1]), file);
    else if ((m = MULTI_PART_CHECKPOINT.exec(name))) {
      const key = `${m[1]}/${m[3]}`;
      const entry = multi.get(key) ?? { version: Number(m[1]), total: Number(m[3]), parts: new Map() };
      entry.parts.set(Number(m[2]), file);
      multi.set(key, entry);
    }
  }
  const checkpoints = new Map<number, Checkpoint>();
  for (const [version, file] of classic) checkpoints.set(version, { version, parts: [file] });
  for (const entry of multi.values()) {
    // A multi-part checkpoint counts only when every part is there (a writer may have died half way).
    if (entry.parts.size !== entry.total || checkpoints.has(entry.version)) continue;
    const parts = [...entry.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, f]) => f);
    checkpoints.set(entry.version, { version: entry.version, parts });
  }
  return { commits, checkpoints: [...checkpoints.values()].sort((a, b) => a.version - b.version) };
}

export async function readCommit(storage: DeltaStorage, version: number): Promise<Action[]> {
  const p = commitPath(version);
  const data = await storage.read(p);
  if (!data) throw new Error(`${storage.location}: ${p} does not exist`);
  return parseCommit(new TextDecoder().decode(data), `${storage.location}/${p}`);
}

export function commitInfoOf(actions: Action[]): CommitInfo | undefined {
  return actions.find((a) => a.commitInfo)?.commitInfo;
}

/** Reads a checkpoint's rows (one action per row) through DuckDB. */
export async function readCheckpoint(
  conn: DuckDBConnection,
  storage: DeltaStorage,
  checkpoint: Checkpoint,
): Promise<Action[]> {
  return withLocalFiles(storage, checkpoint.parts, async (files) => {
    const list = `[${files.map(quoteLiteral).join(', ')}]`;
    const reader = await conn.runAndReadAll(
      `SELECT to_json(cp) FROM read_parquet(${list}, union_by_name = true) cp`,
    );
    const actions: Action[] = [];
    for (const [json] of reader.getRows()) {
      const row = JSON.parse(String(json)) as Record<string, unknown>;
      const action: Action = {};
      for (const key of ['protocol', 'metaData', 'add', 'remove', 'txn'] as const) {
        if (row[key] !== null && row[key] !== undefined)
          (action as Record<string, unknown>)[key] = dropNulls(row[key]);
      }
      if (Object.keys(action).length > 0) actions.push(action);
    }
    return actions;
  });
}

// Checkpoint structs carry every optional field as null; drop them so actions look like their JSON form,
// but keep nulls inside partitionValues, where null is a value.
function dropNulls(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'partitionValues' || k === 'configuration' || k === 'options') out[k] = v ?? {};
    else if (v !== null) out[k] = dropNulls(v);
  }
  return out;
}

/** Gives DuckDB local paths for `files`, copying them to a temporary folder when the storage is not local. */
export async function withLocalFiles<T>(
  storage: DeltaStorage,
  files: StoredFile[],
  use: (paths: string[]) => Promise<T>,
): Promise<T> {
  if (storage.localPath) return use(files.map((f) => storage.localPath!(f.path)));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'delta-'));
  try {
    const paths: string[] = [];
    for (const f of files) {
      const data = await storage.read(f.path);
      if (!data) throw new Error(`${storage.location}/${f.path} vanished while being read`);
      const p = path.join(dir, `${randomUUID()}.parquet`);
      await fs.writeFile(p, data);
      paths.push(p);
    }
    return await use(paths);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
