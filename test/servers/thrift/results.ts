// A DuckDB result as TCLIService sends it: a TTableSchema and COLUMN_BASED_SET pages. Values follow what a Spark
// warehouse puts in column-based results: integers in their own columns, DECIMAL as exact text with precision
// and scale qualifiers, DATE as 'YYYY-MM-DD', TIMESTAMP as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC, arrays, structs
// and maps as JSON text.
import {
  DuckDBArrayValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
} from '@duckdb/node-api';
import type { DuckDBResultReader, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { int64, TTypeId } from './runtime.ts';

type ColumnKind =
  'boolVal' | 'byteVal' | 'i16Val' | 'i32Val' | 'i64Val' | 'doubleVal' | 'stringVal' | 'binaryVal';

interface WireType {
  typeId: number;
  kind: ColumnKind;
  /** DECIMAL precision and scale. */
  decimal?: { precision: number; scale: number };
  convert: (value: DuckDBValue) => unknown;
}

export interface ColumnDesc {
  columnName: string;
  position: number;
  typeDesc: { types: { primitiveEntry: { type: number; typeQualifiers?: object } }[] };
}

/** A finished result, kept whole so that FetchResults can page through it. */
export interface ResultTable {
  readonly schema: { columns: ColumnDesc[] };
  readonly rowCount: number;
  /** TColumn structs (plain objects) for rows [start, end). */
  page(start: number, end: number): object[];
}

const placeholderFor: Record<ColumnKind, unknown> = {
  boolVal: false,
  byteVal: 0,
  i16Val: 0,
  i32Val: 0,
  i64Val: 0,
  doubleVal: 0,
  stringVal: '',
  binaryVal: Buffer.alloc(0),
};

const same = (value: DuckDBValue): unknown => value;
const text = (value: DuckDBValue): unknown => String(value);

export function wireType(type: DuckDBType): WireType {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { typeId: TTypeId.BOOLEAN_TYPE, kind: 'boolVal', convert: same };
    case DuckDBTypeId.TINYINT:
      return { typeId: TTypeId.TINYINT_TYPE, kind: 'byteVal', convert: same };
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.SMALLINT:
      return { typeId: TTypeId.SMALLINT_TYPE, kind: 'i16Val', convert: same };
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.INTEGER:
      return { typeId: TTypeId.INT_TYPE, kind: 'i32Val', convert: same };
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.BIGINT:
      return { typeId: TTypeId.BIGINT_TYPE, kind: 'i64Val', convert: (v) => int64(v as bigint | number) };
    // Spark has no unsigned or 128-bit integers; DuckDB's SUM of integers is HUGEINT, so send DECIMAL(38,0).
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return {
        typeId: TTypeId.DECIMAL_TYPE,
        kind: 'stringVal',
        decimal: { precision: 38, scale: 0 },
        convert: text,
      };
    case DuckDBTypeId.FLOAT:
      return { typeId: TTypeId.FLOAT_TYPE, kind: 'doubleVal', convert: same };
    case DuckDBTypeId.DOUBLE:
      return { typeId: TTypeId.DOUBLE_TYPE, kind: 'doubleVal', convert: same };
    case DuckDBTypeId.DECIMAL:
      return {
        typeId: TTypeId.DECIMAL_TYPE,
        kind: 'stringVal',
        decimal: { precision: type.width, scale: type.scale },
        convert: text,
      };
    case DuckDBTypeId.DATE:
      return { typeId: TTypeId.DATE_TYPE, kind: 'stringVal', convert: text };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return { typeId: TTypeId.TIMESTAMP_TYPE, kind: 'stringVal', convert: text };
    case DuckDBTypeId.TIMESTAMP_TZ:
      // The instant in UTC, as a warehouse whose session time zone is UTC shows it.
      return {
        typeId: TTypeId.TIMESTAMP_TYPE,
        kind: 'stringVal',
        convert: (v) => String(new DuckDBTimestampValue((v as { micros: bigint }).micros)),
      };
    case DuckDBTypeId.BLOB:
      return {
        typeId: TTypeId.BINARY_TYPE,
        kind: 'binaryVal',
        convert: (v) => Buffer.from((v as { bytes: Uint8Array }).bytes),
      };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return { typeId: TTypeId.ARRAY_TYPE, kind: 'stringVal', convert: jsonText };
    case DuckDBTypeId.STRUCT:
      return { typeId: TTypeId.STRUCT_TYPE, kind: 'stringVal', convert: jsonText };
    case DuckDBTypeId.MAP:
      return { typeId: TTypeId.MAP_TYPE, kind: 'stringVal', convert: jsonText };
    case DuckDBTypeId.SQLNULL:
      return { typeId: TTypeId.NULL_TYPE, kind: 'stringVal', convert: text };
    default:
      // VARCHAR, and types Spark lacks (TIME, INTERVAL, UUID, ENUM, ...) as DuckDB's text for them.
      return { typeId: TTypeId.STRING_TYPE, kind: 'stringVal', convert: text };
  }
}

export function resultTable(reader: DuckDBResultReader): ResultTable {
  const types = reader.columnTypes().map(wireType);
  const raw = reader.getColumns();
  const columns = types.map((type, i) => (raw[i] ?? []).map((v) => (v === null ? null : type.convert(v))));
  const names = reader.columnNames();
  return {
    schema: { columns: types.map((type, i) => columnDesc(names[i] ?? `col${i}`, i + 1, type)) },
    rowCount: reader.currentRowCount,
    page: (start, end) => types.map((type, i) => columnPage(type.kind, (columns[i] ?? []).slice(start, end))),
  };
}

function columnDesc(columnName: string, position: number, type: WireType): ColumnDesc {
  const typeQualifiers = type.decimal
    ? {
        qualifiers: {
          precision: { i32Value: type.decimal.precision },
          scale: { i32Value: type.decimal.scale },
        },
      }
    : undefined;
  return {
    columnName,
    position,
    typeDesc: { types: [{ primitiveEntry: { type: type.typeId, typeQualifiers } }] },
  };
}

function columnPage(kind: ColumnKind, values: unknown[]): object {
  const nulls = Buffer.alloc(Math.ceil(values.length / 8));
  const filled = values.map((value, i) => {
    if (value !== null) return value;
    // The driver reads bit i % 8 of byte i / 8, least significant bit first.
    nulls[i >> 3] = (nulls[i >> 3] as number) | (1 << (i & 7));
    return placeholderFor[kind];
  });
  return { [kind]: { values: filled, nulls } };
}

// Spark writes nested values as JSON: maps as objects, numbers as numbers, dates and timestamps as their text.
function jsonText(value: DuckDBValue): string {
  return JSON.stringify(jsonValue(value));
}

function jsonValue(value: DuckDBValue): unknown {
  if (
    value === null ||
    typeof value === 'boolean' ||
    typeof value === 'number' ||
    typeof value === 'string'
  ) {
    return value;
  }
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof DuckDBDecimalValue) return Number(value.toString());
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue)
    return value.items.map(jsonValue);
  if (value instanceof DuckDBStructValue) {
    return Object.fromEntries(Object.entries(value.entries).map(([k, v]) => [k, jsonValue(v)]));
  }
  if (value instanceof DuckDBMapValue) {
    return Object.fromEntries(
      value.entries.map((entry) => [String(jsonValue(entry.key)), jsonValue(entry.value)]),
    );
  }
  return String(value);
}
