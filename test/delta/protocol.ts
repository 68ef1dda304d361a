// Checks of a table's log against PROTOCOL.md, shared by the write and concurrency tests.
import type { DuckDBConnection } from '@duckdb/node-api';
import { expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Action, AddFile } from '../../src/delta/index.ts';
import { openDeltaTable, replay } from '../../src/delta/index.ts';
import { listLog, readCheckpoint } from '../../src/delta/log.ts';
import { parseCommit } from '../../src/delta/actions.ts';
import { decodeActionPath } from '../../src/delta/actions.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ACTION_KEYS = new Set(['protocol', 'metaData', 'add', 'remove', 'txn', 'commitInfo']);

export function commitsOf(location: string): Action[][] {
  const dir = path.join(location, '_delta_log');
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{20}\.json$/.test(f))
    .sort()
    .map((f, i) => {
      expect(f, 'versions are contiguous from 0').toBe(`${String(i).padStart(20, '0')}.json`);
      return parseCommit(fs.readFileSync(path.join(dir, f), 'utf8'), f);
    });
}

function checkSchemaString(schemaString: string): void {
  const schema = JSON.parse(schemaString) as { type: string; fields: Record<string, unknown>[] };
  expect(schema.type).toBe('struct');
  for (const f of schema.fields) {
    expect(Object.keys(f).sort()).toEqual(['metadata', 'name', 'nullable', 'type']);
    expect(typeof f.name).toBe('string');
    expect(typeof f.nullable).toBe('boolean');
    expect(f.metadata).toEqual({});
    if (typeof f.type === 'string') {
      expect(f.type).toMatch(
        /^(string|long|integer|short|byte|float|double|boolean|binary|date|timestamp|decimal\(\d+,\d+\))$/,
      );
    } else {
      expect(['struct', 'array', 'map']).toContain((f.type as { type: string }).type);
    }
  }
}

/** Every action of every commit has the fields PROTOCOL.md requires; returns the commits. */
export function checkLog(location: string, options: { removedFilesMayBeGone?: boolean } = {}): Action[][] {
  const commits = commitsOf(location);
  let partitionColumns: string[] = [];
  commits.forEach((actions, version) => {
    const where = `version ${version}`;
    for (const a of actions)
      expect(
        Object.keys(a).filter((k) => ACTION_KEYS.has(k)),
        where,
      ).toHaveLength(1);
    const infos = actions.filter((a) => a.commitInfo);
    expect(infos, `${where}: one commitInfo`).toHaveLength(1);
    const info = infos[0]!.commitInfo!;
    expect(typeof info.timestamp).toBe('number');
    expect(typeof info.operation).toBe('string');
    expect(typeof info.operationParameters).toBe('object');
    expect(typeof info.isBlindAppend).toBe('boolean');
    for (const v of Object.values(info.operationMetrics ?? {})) expect(typeof v).toBe('string');
    if (version > 0) expect(info.readVersion, where).toBeLessThan(version);
    if (version === 0) {
      expect(actions.find((a) => a.protocol)?.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
      expect(actions.some((a) => a.metaData)).toBe(true);
    }
    for (const { metaData } of actions.filter((a) => a.metaData)) {
      expect(metaData!.id).toMatch(GUID);
      expect(metaData!.format).toEqual({ provider: 'parquet', options: {} });
      expect(Array.isArray(metaData!.partitionColumns)).toBe(true);
      expect(typeof metaData!.configuration).toBe('object');
      expect(typeof metaData!.createdTime).toBe('number');
      checkSchemaString(metaData!.schemaString);
      partitionColumns = metaData!.partitionColumns;
    }
    for (const { add } of actions.filter((a) => a.add)) {
      expect(add!.path.startsWith('/')).toBe(false);
      expect(Object.keys(add!.partitionValues).sort()).toEqual([...partitionColumns].sort());
      expect(typeof add!.modificationTime).toBe('number');
      expect(add!.dataChange).toBe(true);
      const file = path.join(location, decodeActionPath(add!.path));
      if (!options.removedFilesMayBeGone || fs.existsSync(file))
        expect(fs.statSync(file).size, add!.path).toBe(add!.size);
      const stats = JSON.parse(add!.stats!) as Record<string, unknown>;
      expect(Object.keys(stats)).toEqual(['numRecords', 'minValues', 'maxValues', 'nullCount']);
    }
    for (const { remove } of actions.filter((a) => a.remove)) {
      expect(typeof remove!.path).toBe('string');
      expect(typeof remove!.deletionTimestamp).toBe('number');
      expect(typeof remove!.dataChange).toBe('boolean');
    }
  });
  return commits;
}

const STATS_TYPES =
  /^(BIGINT|INTEGER|SMALLINT|TINYINT|DOUBLE|FLOAT|DECIMAL.*|VARCHAR|DATE|TIMESTAMP WITH TIME ZONE)$/;

/** numRecords, minValues, maxValues and nullCount of every live file equal what DuckDB computes from the file. */
export async function checkStats(conn: DuckDBConnection, location: string): Promise<void> {
  const snapshot = await openDeltaTable(location, { conn }).snapshot();
  for (const add of snapshot.files) await checkFileStats(conn, location, add, snapshot.partitionColumns);
}

async function checkFileStats(
  conn: DuckDBConnection,
  location: string,
  add: AddFile,
  partitionColumns: string[],
): Promise<void> {
  const file = path.join(location, decodeActionPath(add.path)).replace(/'/g, "''");
  const from = `read_parquet('${file}', hive_partitioning = false)`;
  const stats = JSON.parse(add.stats!) as {
    numRecords: number;
    minValues: Record<string, unknown>;
    maxValues: Record<string, unknown>;
    nullCount: Record<string, number>;
  };
  const columns = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRows().map(([n, t]) => ({
    name: String(n),
    type: String(t),
  }));
  expect(
    columns.some((c) => partitionColumns.includes(c.name)),
    'partition columns are not in data files',
  ).toBe(false);
  const count = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${from}`)).getRows()[0]![0]);
  expect(stats.numRecords, add.path).toBe(count);
  for (const c of columns) {
    const q = `"${c.name}"`;
    const [nulls, min, max] = (
      await conn.runAndReadAll(
        `SELECT count(*) FILTER (WHERE ${q} IS NULL), min(${q})::VARCHAR, max(${q})::VARCHAR FROM ${from}`,
      )
    ).getRowsJson()[0]!;
    if (!/^(STRUCT|MAP)|\[\]$/.test(c.type))
      expect(stats.nullCount[c.name], `${add.path} ${c.name} nullCount`).toBe(Number(nulls));
    if (!STATS_TYPES.test(c.type) || min === null) {
      expect(stats.minValues[c.name]).toBeUndefined();
      continue;
    }
    expect(normalise(stats.minValues[c.name], c.type, 'min'), `${add.path} ${c.name} min`).toBe(
      normalise(min, c.type, 'min'),
    );
    expect(normalise(stats.maxValues[c.name], c.type, 'max'), `${add.path} ${c.name} max`).toBe(
      normalise(max, c.type, 'max'),
    );
  }
}

// Statistics follow Spark's conventions: timestamps at millisecond precision, strings cut to 32 characters.
function normalise(value: unknown, type: string, bound: 'min' | 'max'): string {
  if (type === 'TIMESTAMP WITH TIME ZONE') {
    const s = String(value).replace(' ', 'T').replace(/\+00$/, 'Z');
    return new Date(s.replace(/(\.\d{3})\d+/, '$1')).toISOString();
  }
  if (type === 'VARCHAR') {
    const chars = Array.from(String(value));
    if (chars.length <= 32) return String(value);
    return chars.slice(0, 32).join('') + (bound === 'max' ? '\u{10FFFF}' : '');
  }
  if (type === 'DOUBLE' || type === 'FLOAT' || type.startsWith('DECIMAL')) return String(Number(value));
  return String(value);
}

/** The newest checkpoint holds exactly the state that replaying the JSON commits gives. */
export async function checkCheckpoint(conn: DuckDBConnection, location: string): Promise<number> {
  const table = openDeltaTable(location, { conn });
  const listing = await listLog(table.storage);
  const checkpoint = listing.checkpoints.at(-1)!;
  expect(checkpoint, 'a checkpoint exists').toBeDefined();
  const last = JSON.parse(fs.readFileSync(path.join(location, '_delta_log/_last_checkpoint'), 'utf8')) as {
    version: number;
    size: number;
  };
  expect(last.version).toBe(checkpoint.version);
  const rows = await readCheckpoint(conn, table.storage, checkpoint);
  expect(rows.length).toBe(last.size);
  for (const row of rows) expect(Object.keys(row)).toHaveLength(1);
  const fromCheckpoint = replay(undefined, [{ version: checkpoint.version, actions: rows }], 'checkpoint');
  const commits = commitsOf(location)
    .slice(0, checkpoint.version + 1)
    .map((actions, version) => ({ version, actions }));
  const fromJson = replay(undefined, commits, 'json');
  expect(fromCheckpoint.protocol).toEqual(fromJson.protocol);
  expect(fromCheckpoint.metadata).toEqual(fromJson.metadata);
  const files = (s: typeof fromJson) =>
    [...s.files.values()]
      .map((f) => ({ ...f, dataChange: false }))
      .sort((a, b) => a.path.localeCompare(b.path));
  expect(files(fromCheckpoint)).toEqual(files(fromJson));
  expect([...fromCheckpoint.txns.entries()]).toEqual([...fromJson.txns.entries()]);
  expect([...fromCheckpoint.tombstones.keys()].sort()).toEqual([...fromJson.tombstones.keys()].sort());
  return checkpoint.version;
}
