// Rows of a Delta table as Spark and as our reader give them, in one comparable form: each row as JSON (Spark's
// to_json, DuckDB's to_json), parsed and brought to one canonical text per Delta type, then sorted.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DeltaType, StructType } from '../../src/delta/index.ts';
import { registerDeltaView } from '../../src/delta/index.ts';
import type { SparkResult } from '../helpers/spark.ts';

/** Spark's to_json options: timestamps to the microsecond, in UTC (the session zone). */
const TO_JSON_OPTIONS = `map('timestampFormat', "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", 'timestampNTZFormat', "yyyy-MM-dd'T'HH:mm:ss.SSSSSS")`;

/** A Delta table at a path, as Spark SQL names it. */
export function deltaPath(location: string): string {
  return `delta.\`${location}\``;
}

/** Spark SQL giving (k, j): `key` on every row, j the row as JSON. */
export function sparkJsonRows(key: string, from: string): string {
  return `SELECT '${key}' AS k, to_json(struct(*), ${TO_JSON_OPTIONS}) AS j FROM ${from}`;
}

/** Splits the (k, j) rows of a union of sparkJsonRows statements by key. */
export function rowsByKey(result: SparkResult): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  for (const [k, j] of result.rows ?? []) {
    const list = out.get(String(k)) ?? [];
    list.push(JSON.parse(String(j)));
    out.set(String(k), list);
  }
  return out;
}

/** Rows (parsed JSON objects) as sorted canonical texts, per the table's schema. */
export function canonicalRows(schema: StructType, rows: unknown[]): string[] {
  return rows.map((row) => JSON.stringify(canonical(schema, row))).sort();
}

/** Our reader's rows of `location` at `version` as JSON objects, through a DuckDB view of the snapshot. */
export async function ourJsonRows(
  conn: DuckDBConnection,
  location: string,
  options: { version?: number; where?: string } = {},
): Promise<{ schema: StructType; rows: unknown[] }> {
  const snapshot = await registerDeltaView(conn, 'interop_view', location, { version: options.version });
  const columns = snapshot.schema.fields.map((f) => {
    const name = `"${f.name.replace(/"/g, '""')}"`;
    // DuckDB's JSON of a BLOB is escaped text; Spark's is base64.
    return f.type === 'binary' ? `base64(${name}) AS ${name}` : name;
  });
  const where = options.where ? ` WHERE ${options.where}` : '';
  const reader = await conn.runAndReadAll(
    `SELECT to_json(r) FROM (SELECT ${columns.join(', ')} FROM interop_view${where}) r`,
  );
  return { schema: snapshot.schema, rows: reader.getRows().map(([j]) => JSON.parse(String(j))) };
}

function canonical(type: DeltaType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof type !== 'string') {
    if (type.type === 'struct') {
      const o = value as Record<string, unknown>;
      return type.fields.map((f) => canonical(f.type, o[f.name]));
    }
    if (type.type === 'array') return (value as unknown[]).map((v) => canonical(type.elementType, v));
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => [k, canonical(type.valueType, v)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries;
  }
  if (type === 'float') return Math.fround(Number(value));
  if (['byte', 'short', 'integer', 'long', 'double'].includes(type) || type.startsWith('decimal'))
    return typeof value === 'string' && /^-?(NaN|Infinity)$/.test(value) ? value : Number(value);
  if (type === 'timestamp' || type === 'timestamp_ntz') return timestampText(String(value));
  return value;
}

// "2024-01-01T10:00:00.123456Z" (Spark) and "2024-01-01 10:00:00.123456+00" (DuckDB) as one text, UTC.
function timestampText(text: string): string {
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d(?::?\d\d)?)?$/.exec(text);
  if (!m) throw new Error(`not a timestamp: ${text}`);
  if (m[4] && !/^(Z|[+-]00(:?00)?)$/.test(m[4])) throw new Error(`timestamp not in UTC: ${text}`);
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0')}`;
}

/** Spark's simpleString of a Delta type (what the Engine reports as a column type). */
export function sparkTypeName(type: DeltaType): string {
  if (typeof type === 'string') {
    const names: Record<string, string> = {
      integer: 'int',
      long: 'bigint',
      short: 'smallint',
      byte: 'tinyint',
    };
    return names[type] ?? type.replace(/\s+/g, '');
  }
  if (type.type === 'struct')
    return `struct<${type.fields.map((f) => `${f.name}:${sparkTypeName(f.type)}`).join(',')}>`;
  if (type.type === 'array') return `array<${sparkTypeName(type.elementType)}>`;
  return `map<${sparkTypeName(type.keyType)},${sparkTypeName(type.valueType)}>`;
}
