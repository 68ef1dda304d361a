// Pieces the MySQL and SQL Server dialects share.
import crypto from 'node:crypto';
import type { ColumnConfig } from '../config/schema.ts';
import type { AuditRecord, LoadTables } from './types.ts';

/** The audit row's identity: bucket, object and generation, hashed to fit a UNIQUE index. */
export function objectKey(r: Pick<AuditRecord, 'bucket' | 'objectName' | 'generation'>): string {
  return crypto.createHash('sha256').update(`${r.bucket}\n${r.objectName}\n${r.generation}`).digest('hex');
}

/** DECIMAL(p,s) within the engine's limits, or an error naming the column. */
export function decimalType(column: ColumnConfig, maxPrecision: number, maxScale: number): string {
  const match = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(column.type);
  if (!match) throw new Error(`column ${column.name}: unsupported type ${JSON.stringify(column.type)}`);
  const [precision, scale] = [Number(match[1]), Number(match[2])];
  if (precision < 1 || precision > maxPrecision || scale > Math.min(precision, maxScale))
    throw new Error(
      `column ${column.name}: expected decimal(p,s) with 1 ≤ p ≤ ${maxPrecision} and s ≤ min(p, ${maxScale}) on this engine, found ${column.type}`,
    );
  return `DECIMAL(${precision},${scale})`;
}

export interface IndexLimits {
  /** The largest index key, in bytes. */
  maxKeyBytes: number;
  /** Bytes a text character may take in the key. */
  bytesPerChar: number;
  /** Bytes kept for each key column that is not text (the widest: a DECIMAL(38) or DECIMAL(65)). */
  bytesPerOtherKey: number;
}

/** Characters each text key column holds so that all key columns fit, together, in one index key (≤ 255). */
export function keyTextLength(t: LoadTables, limits: IndexLimits): number {
  const keyColumns = t.columns.filter((c) => t.keys.includes(c.name));
  const text = keyColumns.filter((c) => c.type === 'string').length;
  const budget = limits.maxKeyBytes - (keyColumns.length - text) * limits.bytesPerOtherKey;
  return Math.min(255, Math.floor(budget / limits.bytesPerChar / Math.max(1, text)));
}

export function keyColumn(t: LoadTables, name: string): ColumnConfig {
  const column = t.columns.find((c) => c.name === name);
  if (!column)
    throw new Error(`key ${name}: expected one of the columns (${t.columns.map((c) => c.name).join(', ')})`);
  return column;
}
