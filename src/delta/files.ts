// Writing data files: one DuckDB COPY per write, Hive-style partition folders, statistics from RETURN_STATS.
import type { DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AddFile } from './actions.ts';
import { encodeActionPath } from './actions.ts';
import type { DeltaType, StructField } from './schema.ts';
import { quoteIdent, quoteLiteral } from './schema.ts';
import { columnStatsFromDuckDB, statsJson } from './stats.ts';
import type { DeltaStorage } from './storage.ts';

export interface DataColumn {
  field: StructField;
  /** SQL over the source query's columns giving the value to store (already in the Delta type). */
  expr: string;
}

export interface WrittenFiles {
  adds: AddFile[];
  rows: number;
  bytes: number;
}

/**
 * The expression to partition by. DuckDB names the folder after the value as it prints it, which for integers,
 * dates, booleans and decimals is already the protocol's serialisation ("Partition Value Serialization");
 * other types are formatted here. Nulls (and empty strings, as Spark does) go to `__HIVE_DEFAULT_PARTITION__`.
 */
function partitionBySql(expr: string, type: DeltaType): string {
  if (typeof type === 'string' && /^(byte|short|integer|long|date|boolean|decimal\(.*\))$/.test(type))
    return expr;
  if (type === 'string') return `NULLIF(${expr}, '')`;
  if (type === 'timestamp') return `strftime(timezone('UTC', ${expr}), '%Y-%m-%d %H:%M:%S.%f')`;
  if (type === 'timestamp_ntz') return `strftime(${expr}, '%Y-%m-%d %H:%M:%S.%f')`;
  if (type === 'binary') return `NULLIF(decode(${expr}), '')`;
  return `NULLIF(CAST(${expr} AS VARCHAR), '')`;
}

/**
 * Writes the rows of `sourceSql` as new Parquet files of the table: data columns in schema order, partition
 * columns as folders. File names hold a fresh UUID, so no file is ever overwritten.
 */
export async function writeDataFiles(
  conn: DuckDBConnection,
  storage: DeltaStorage,
  sourceSql: string,
  dataColumns: DataColumn[],
  partitionColumns: DataColumn[],
): Promise<WrittenFiles> {
  const local = storage.localPath !== undefined;
  const root = local ? storage.localPath!('') : await fs.mkdtemp(path.join(os.tmpdir(), 'delta-write-'));
  await fs.mkdir(root, { recursive: true });
  try {
    const select = [
      ...dataColumns.map((c) => `${c.expr} AS ${quoteIdent(c.field.name)}`),
      ...partitionColumns.map(
        (c) => `${partitionBySql(c.expr, c.field.type)} AS ${quoteIdent(c.field.name)}`,
      ),
    ];
    const query = `SELECT ${select.join(', ')} FROM (${sourceSql}) AS __delta_source`;
    const options = ['FORMAT parquet', 'COMPRESSION snappy', 'RETURN_STATS true'];
    let target: string;
    if (partitionColumns.length > 0) {
      target = root;
      options.push(
        `PARTITION_BY (${partitionColumns.map((c) => quoteIdent(c.field.name)).join(', ')})`,
        'APPEND',
        `FILENAME_PATTERN 'part-00000-{uuid}-c000.snappy'`,
      );
    } else {
      target = path.join(root, `part-00000-${randomUUID()}-c000.snappy.parquet`);
    }
    const reader = await conn.runAndReadAll(
      `COPY (${query}) TO ${quoteLiteral(target)} (${options.join(', ')})`,
    );
    const now = Date.now();
    const fields = dataColumns.map((c) => c.field);
    const adds: AddFile[] = [];
    let rows = 0;
    let bytes = 0;
    for (const row of reader.getRowObjectsJson()) {
      const file = String(row.filename);
      const relative = path.relative(root, file).split(path.sep).join('/');
      if (!local) await storage.put(relative, await fs.readFile(file), { ifAbsent: true });
      const count = Number(row.count);
      const size = Number(row.file_size_bytes);
      const partitionValues: Record<string, string | null> = {};
      const keys = new Map(
        ((row.partition_keys as { key: string; value: string | null }[] | null) ?? []).map((e) => [
          e.key,
          e.value,
        ]),
      );
      for (const c of partitionColumns) partitionValues[c.field.name] = keys.get(c.field.name) || null;
      adds.push({
        path: encodeActionPath(relative),
        partitionValues,
        size,
        modificationTime: now,
        dataChange: true,
        stats: statsJson(count, fields, columnStatsFromDuckDB(row.column_statistics)),
      });
      rows += count;
      bytes += size;
    }
    return { adds, rows, bytes };
  } finally {
    if (!local) await fs.rm(root, { recursive: true, force: true });
  }
}
