// The warehouse client's values and errors (see ./sql.ts): rows as DuckDB's JavaScript values are on the app's local
// path, the Thrift column types they are read by, and why a query failed.
import { thrift } from '@databricks/sql';
import type { DBSQLClient } from '@databricks/sql';

type Session = Awaited<ReturnType<DBSQLClient['openSession']>>;
type Operation = Awaited<ReturnType<Session['executeStatement']>>;

const TTypeId = thrift.TCLIService_types.TTypeId;

export type WarehouseParam = string | number | boolean | Date | null;
export type WarehouseValue =
  string | number | boolean | Date | null | WarehouseValue[] | { [key: string]: WarehouseValue };
export type WarehouseRow = Record<string, WarehouseValue>;

/** Why a query failed: the app serves its last good data on `unreachable` and `timeout`. */
export type WarehouseErrorReason = 'unauthorized' | 'unreachable' | 'timeout' | 'query' | 'closed';

export class WarehouseError extends Error {
  override name = 'WarehouseError';
  readonly reason: WarehouseErrorReason;
  constructor(reason: WarehouseErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** DuckDB's JavaScript values (`getRowObjectsJS()`) in the warehouse's form: 64-bit integers as numbers. */
export function fromDuckDB(value: unknown): WarehouseValue {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(fromDuckDB);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromDuckDB(v)]));
  }
  return value as WarehouseValue;
}

export async function columnTypes(operation: Operation): Promise<Map<string, number>> {
  const schema = await operation.getSchema();
  const types = new Map<string, number>();
  for (const column of schema?.columns ?? []) {
    const type = column.typeDesc.types[0]?.primitiveEntry?.type;
    if (type !== undefined) types.set(column.columnName, type);
  }
  return types;
}

export function normalizeRows(rows: Record<string, unknown>[], types: Map<string, number>): WarehouseRow[] {
  const columns = [...types.entries()];
  return rows.map((row) => {
    const out: WarehouseRow = {};
    for (const [name, value] of Object.entries(row)) out[name] = normalizeValue(value, types.get(name));
    for (const [name] of columns) if (!(name in out)) out[name] = null;
    return out;
  });
}

function normalizeValue(value: unknown, type: number | undefined): WarehouseValue {
  if (value === null || value === undefined) return null;
  const temporal = type === TTypeId.DATE_TYPE || type === TTypeId.TIMESTAMP_TYPE;
  // Column-based results carry dates and timestamps as text; Arrow results as Dates (or epoch milliseconds).
  if (temporal && typeof value === 'number') return new Date(value);
  if (type === TTypeId.DATE_TYPE && typeof value === 'string') return parseDate(value);
  if (type === TTypeId.TIMESTAMP_TYPE && typeof value === 'string') return parseTimestamp(value);
  if (type === TTypeId.DECIMAL_TYPE && typeof value === 'string') return Number(value);
  return fromDuckDB(value);
}

function parseDate(text: string): Date {
  const match = /^(-?\d{4,})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) throw new WarehouseError('query', `the warehouse sent ${JSON.stringify(text)} for a DATE`);
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  date.setUTCFullYear(Number(match[1]));
  return date;
}

// 'YYYY-MM-DD HH:MM:SS[.ffffff]' (or with a T), in UTC.
function parseTimestamp(text: string): Date {
  const match =
    /^(-?\d{4,}-\d{2}-\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]00(?::?00)?)?$/.exec(text);
  if (!match) throw new WarehouseError('query', `the warehouse sent ${JSON.stringify(text)} for a TIMESTAMP`);
  const day = parseDate(match[1] as string).getTime();
  const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4]);
  const micros =
    BigInt(day) * 1000n + BigInt(seconds) * 1_000_000n + BigInt((match[5] ?? '').padEnd(6, '0').slice(0, 6));
  // Truncating toward zero is what DuckDB does when it makes a Date of a TIMESTAMP.
  return new Date(Number(micros / 1000n));
}
