// Per-file statistics (PROTOCOL.md "Per-file Statistics") from what DuckDB's COPY … RETURN_STATS reports,
// so that no file is read back after writing it.
import type { StructField } from './schema.ts';

/** DuckDB's statistics of one column: min, max, null_count… as strings. */
export type ColumnStats = Map<string, string>;

/** Spark keeps string statistics to a 32-character prefix (delta.dataSkippingStringPrefixLength). */
export const STRING_PREFIX_LENGTH = 32;

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * The `stats` JSON of an add action. Min/max are written for numbers, decimals, strings, dates and timestamps
 * (as Spark does); null counts for every top-level primitive column. Numbers are copied as DuckDB printed
 * them, so BIGINT and DECIMAL values keep every digit.
 */
export function statsJson(
  numRecords: number,
  fields: StructField[],
  columns: Map<string, ColumnStats>,
): string {
  const mins: string[] = [];
  const maxs: string[] = [];
  const nulls: string[] = [];
  for (const field of fields) {
    if (typeof field.type !== 'string') continue;
    const stats = columns.get(field.name);
    if (!stats) continue;
    const key = JSON.stringify(field.name);
    const nullCount = stats.get('null_count');
    if (nullCount !== undefined && /^\d+$/.test(nullCount)) nulls.push(`${key}:${nullCount}`);
    const min = stats.get('min');
    const max = stats.get('max');
    if (min === undefined || max === undefined) continue;
    const bounds = statBounds(field.type, min, max);
    if (!bounds) continue;
    mins.push(`${key}:${bounds[0]}`);
    maxs.push(`${key}:${bounds[1]}`);
  }
  return `{"numRecords":${numRecords},"minValues":{${mins.join(',')}},"maxValues":{${maxs.join(',')}},"nullCount":{${nulls.join(',')}}}`;
}

/** JSON texts of [min, max] for a column of Delta type `type`, or undefined when Spark keeps none. */
function statBounds(type: string, min: string, max: string): [string, string] | undefined {
  switch (type) {
    case 'byte':
    case 'short':
    case 'integer':
    case 'long':
    case 'float':
    case 'double':
      return numberText(min) && numberText(max) ? [numberText(min)!, numberText(max)!] : undefined;
    case 'date':
      return [JSON.stringify(min), JSON.stringify(max)];
    case 'timestamp':
    case 'timestamp_ntz': {
      const lo = timestampText(min, type === 'timestamp');
      const hi = timestampText(max, type === 'timestamp');
      return lo && hi ? [JSON.stringify(lo), JSON.stringify(hi)] : undefined;
    }
    case 'string':
      return [JSON.stringify(truncateMin(min)), JSON.stringify(truncateMax(max))];
    default:
      if (type.startsWith('decimal')) return numberText(min) && numberText(max) ? [min, max] : undefined;
      return undefined;
  }
}

function numberText(s: string): string | undefined {
  if (JSON_NUMBER.test(s)) return s;
  const n = Number(s);
  return Number.isFinite(n) ? String(n) : undefined;
}

/**
 * Spark writes timestamp statistics with millisecond precision ("2024-01-01T10:00:00.123Z"), truncating
 * microseconds; readers allow for that when skipping by max. DuckDB prints "2024-01-01 10:00:00.123456+00".
 */
function timestampText(s: string, utc: boolean): string | undefined {
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?([+-]\d\d(?::?\d\d)?|Z)?$/.exec(s.trim());
  if (!m) return undefined;
  const ms = (m[3] ?? '').padEnd(3, '0').slice(0, 3);
  let zone = m[4] ?? 'Z';
  if (/^[+-]\d\d$/.test(zone)) zone += ':00';
  const date = new Date(`${m[1]}T${m[2]}.${ms}${zone}`);
  if (Number.isNaN(date.getTime())) return undefined;
  return utc ? date.toISOString() : date.toISOString().slice(0, -1);
}

/** A prefix of a string is a valid lower bound. */
function truncateMin(s: string): string {
  const chars = Array.from(s);
  return chars.length <= STRING_PREFIX_LENGTH ? s : chars.slice(0, STRING_PREFIX_LENGTH).join('');
}

/** A prefix followed by the highest code point is above every string with that prefix (UTF-8 byte order). */
function truncateMax(s: string): string {
  const chars = Array.from(s);
  return chars.length <= STRING_PREFIX_LENGTH
    ? s
    : chars.slice(0, STRING_PREFIX_LENGTH).join('') + '\u{10FFFF}';
}

/** DuckDB's column_statistics result (MAP of quoted column name → MAP of stat → value) keyed by plain name. */
export function columnStatsFromDuckDB(value: unknown): Map<string, ColumnStats> {
  const out = new Map<string, ColumnStats>();
  for (const entry of (value as { key: string; value: { key: string; value: string | null }[] }[] | null) ??
    []) {
    const name = unquoteTopLevel(entry.key);
    if (name === undefined) continue;
    const stats: ColumnStats = new Map();
    for (const s of entry.value ?? []) if (s.value !== null) stats.set(s.key, s.value);
    out.set(name, stats);
  }
  return out;
}

// Keys look like "id" or "a"."b" (nested); only top-level columns get statistics here.
function unquoteTopLevel(key: string): string | undefined {
  const m = /^"((?:[^"]|"")*)"$/.exec(key);
  return m ? m[1]!.replace(/""/g, '"') : undefined;
}
