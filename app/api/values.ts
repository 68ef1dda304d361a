// Value conversions: the API builds every answer from the rows with these, so that DuckDB and the Databricks
// warehouse, which type the same column differently, give identical JSON.
import type { SourceValue } from '../source.ts';

export function num(value: SourceValue | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

export function int(value: SourceValue | undefined): number | null {
  const n = num(value);
  return n === null ? null : Math.trunc(n);
}

export function text(value: SourceValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : String(value);
}

export function isoDate(value: SourceValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value).slice(0, 10);
}

/** A table cell of any type: Dates at midnight UTC as dates, other Dates as ISO instants. */
export function cell(value: SourceValue): SourceValue {
  if (value instanceof Date) {
    return value.getTime() % 86_400_000 === 0 ? value.toISOString().slice(0, 10) : value.toISOString();
  }
  if (typeof value === 'number' && !Number.isFinite(value))
    return Number.isNaN(value) ? 'NaN' : String(value);
  if (Array.isArray(value)) return value.map(cell);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cell(v)]));
  }
  return value;
}
