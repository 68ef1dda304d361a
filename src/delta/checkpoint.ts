// Writing a classic checkpoint (`<version>.checkpoint.parquet`, one action per row) and `_last_checkpoint`.
import type { DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { LOG_DIR, checkpointPath } from './log.ts';
import { stateActions } from './replay.ts';
import { quoteLiteral } from './schema.ts';
import type { Snapshot } from './snapshot.ts';

export const DEFAULT_CHECKPOINT_INTERVAL = 10;

const MAP = 'MAP(VARCHAR, VARCHAR)';
// The checkpoint schema of PROTOCOL.md "Checkpoint Schema", for reader 1 / writer 2 tables.
const CHECKPOINT_COLUMNS = {
  txn: 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)',
  add:
    `STRUCT(path VARCHAR, partitionValues ${MAP}, size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, ` +
    `stats VARCHAR, tags ${MAP})`,
  remove:
    'STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, ' +
    `partitionValues ${MAP}, size BIGINT)`,
  metaData:
    `STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options ${MAP}), ` +
    `schemaString VARCHAR, partitionColumns VARCHAR[], configuration ${MAP}, createdTime BIGINT)`,
  protocol: 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER)',
};

export function checkpointInterval(snapshot: Snapshot, override?: number): number {
  const n = override ?? Number(snapshot.property('delta.checkpointInterval') ?? DEFAULT_CHECKPOINT_INTERVAL);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_CHECKPOINT_INTERVAL;
}

/**
 * Writes the checkpoint of `snapshot` (its version's commit exists already), then `_last_checkpoint`. Both
 * replace any earlier file of the same name atomically: a checkpoint of a version always has the same content.
 */
export async function writeCheckpoint(
  conn: DuckDBConnection,
  snapshot: Snapshot,
): Promise<{ version: number; size: number }> {
  const storage = snapshot.storage;
  // Tombstones younger than the retention stay, so that vacuum still knows about those files.
  const actions = stateActions(snapshot.state, Date.now() - snapshot.deletedFileRetentionHours() * 3_600_000);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'delta-checkpoint-'));
  try {
    const json = path.join(dir, 'actions.json');
    await fs.writeFile(json, actions.map((a) => JSON.stringify(a)).join('\n') + '\n');
    const columns = Object.entries(CHECKPOINT_COLUMNS)
      .map(([k, v]) => `${k}: ${quoteLiteral(v)}`)
      .join(', ');
    const parquet = path.join(dir, `${randomUUID()}.parquet`);
    await conn.run(
      `COPY (SELECT ${Object.keys(CHECKPOINT_COLUMNS).join(', ')} FROM read_json(${quoteLiteral(json)}, ` +
        `format = 'newline_delimited', columns = {${columns}})) TO ${quoteLiteral(parquet)} (FORMAT parquet, COMPRESSION snappy)`,
    );
    const target = checkpointPath(snapshot.version);
    await storage.put(target, await fs.readFile(parquet));
    const last = {
      version: snapshot.version,
      size: actions.length,
      numOfAddFiles: snapshot.state.files.size,
    };
    await storage.put(`${LOG_DIR}/_last_checkpoint`, JSON.stringify(last) + '\n');
    return { version: snapshot.version, size: actions.length };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
