// Delta table schemas: Spark's StructType JSON (the metaData.schemaString), and its mapping to DuckDB types.

export type DeltaType = string | StructType | ArrayType | MapType;

export interface StructField {
  name: string;
  type: DeltaType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

export interface StructType {
  type: 'struct';
  fields: StructField[];
}

export interface ArrayType {
  type: 'array';
  elementType: DeltaType;
  containsNull: boolean;
}

export interface MapType {
  type: 'map';
  keyType: DeltaType;
  valueType: DeltaType;
  valueContainsNull: boolean;
}

const PRIMITIVES = new Set([
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'float',
  'double',
  'boolean',
  'binary',
  'date',
  'timestamp',
  'timestamp_ntz',
]);
const DECIMAL = /^decimal\(\s*(\d+)\s*,\s*(-?\d+)\s*\)$/;

export function parseSchemaString(schemaString: string, where: string): StructType {
  let parsed: unknown;
  try {
    parsed = JSON.parse(schemaString);
  } catch (e) {
    throw new Error(`${where}: schemaString is not JSON (${String(e)})`, { cause: e });
  }
  checkType(parsed, `${where}: schemaString`);
  if (typeof parsed !== 'object' || (parsed as StructType).type !== 'struct') {
    throw new Error(
      `${where}: expected schemaString to be a struct type, found ${schemaString.slice(0, 80)}`,
    );
  }
  return parsed as StructType;
}

function checkType(t: unknown, where: string): void {
  if (typeof t === 'string') {
    if (!PRIMITIVES.has(t) && !DECIMAL.test(t)) throw new Error(`${where}: unsupported type "${t}"`);
    return;
  }
  const o = t as { type?: unknown } | null;
  if (o === null || typeof o !== 'object')
    throw new Error(`${where}: expected a type, found ${JSON.stringify(t)}`);
  if (o.type === 'struct') {
    const fields = (o as StructType).fields;
    if (!Array.isArray(fields)) throw new Error(`${where}: struct without "fields"`);
    for (const f of fields) {
      if (typeof f.name !== 'string') throw new Error(`${where}: field without a name`);
      checkType(f.type, `${where}.${f.name}`);
    }
  } else if (o.type === 'array') {
    checkType((o as ArrayType).elementType, `${where}[]`);
  } else if (o.type === 'map') {
    checkType((o as MapType).keyType, `${where}{key}`);
    checkType((o as MapType).valueType, `${where}{value}`);
  } else {
    throw new Error(`${where}: unsupported type ${JSON.stringify(t)}`);
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The DuckDB type a Delta type reads as. `timestamp` is an instant (TIMESTAMPTZ), `timestamp_ntz` is not. */
export function duckdbType(t: DeltaType): string {
  if (typeof t === 'string') {
    const decimal = DECIMAL.exec(t);
    if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`;
    const map: Record<string, string> = {
      string: 'VARCHAR',
      long: 'BIGINT',
      integer: 'INTEGER',
      short: 'SMALLINT',
      byte: 'TINYINT',
      float: 'FLOAT',
      double: 'DOUBLE',
      boolean: 'BOOLEAN',
      binary: 'BLOB',
      date: 'DATE',
      timestamp: 'TIMESTAMPTZ',
      timestamp_ntz: 'TIMESTAMP',
    };
    const mapped = map[t];
    if (!mapped) throw new Error(`unsupported Delta type "${t}"`);
    return mapped;
  }
  if (t.type === 'struct')
    return `STRUCT(${t.fields.map((f) => `${quoteIdent(f.name)} ${duckdbType(f.type)}`).join(', ')})`;
  if (t.type === 'array') return `${duckdbType(t.elementType)}[]`;
  return `MAP(${duckdbType(t.keyType)}, ${duckdbType(t.valueType)})`;
}

/** The Delta type for a DuckDB column type (as DuckDB prints it). Throws for types Delta cannot store. */
export function deltaTypeFor(duckType: string, column: string): DeltaType {
  const t = duckType.trim();
  const simple: Record<string, string> = {
    VARCHAR: 'string',
    UUID: 'string',
    BIGINT: 'long',
    INTEGER: 'integer',
    SMALLINT: 'short',
    TINYINT: 'byte',
    UTINYINT: 'short',
    USMALLINT: 'integer',
    UINTEGER: 'long',
    FLOAT: 'float',
    DOUBLE: 'double',
    BOOLEAN: 'boolean',
    BLOB: 'binary',
    DATE: 'date',
    TIMESTAMP: 'timestamp',
    'TIMESTAMP WITH TIME ZONE': 'timestamp',
    TIMESTAMP_S: 'timestamp',
    TIMESTAMP_MS: 'timestamp',
    TIMESTAMP_NS: 'timestamp',
  };
  if (simple[t]) return simple[t];
  if (t === 'UBIGINT') return 'decimal(20,0)';
  if (t === 'HUGEINT' || t === 'UHUGEINT') return 'decimal(38,0)';
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  if (t.endsWith('[]')) {
    return { type: 'array', elementType: deltaTypeFor(t.slice(0, -2), `${column}[]`), containsNull: true };
  }
  const struct = /^STRUCT\((.*)\)$/s.exec(t);
  if (struct) {
    return {
      type: 'struct',
      fields: splitTopLevel(struct[1]!).map((part) => {
        const { name, rest } = splitFieldName(part);
        return { name, type: deltaTypeFor(rest, `${column}.${name}`), nullable: true, metadata: {} };
      }),
    };
  }
  const map = /^MAP\((.*)\)$/s.exec(t);
  if (map) {
    const [k, v] = splitTopLevel(map[1]!);
    if (!k || !v) throw new Error(`column "${column}": cannot read map type ${t}`);
    return {
      type: 'map',
      keyType: deltaTypeFor(k, `${column}{key}`),
      valueType: deltaTypeFor(v, `${column}{value}`),
      valueContainsNull: true,
    };
  }
  throw new Error(
    `column "${column}": DuckDB type ${t} has no Delta Lake equivalent; cast it (e.g. to VARCHAR or BIGINT) in the query`,
  );
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      parts.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(s.slice(start).trim());
  return parts.filter((p) => p !== '');
}

function splitFieldName(part: string): { name: string; rest: string } {
  if (part.startsWith('"')) {
    let i = 1;
    let name = '';
    while (i < part.length) {
      if (part[i] === '"' && part[i + 1] === '"') {
        name += '"';
        i += 2;
      } else if (part[i] === '"') break;
      else name += part[i++];
    }
    return { name, rest: part.slice(i + 1).trim() };
  }
  const space = part.indexOf(' ');
  return { name: part.slice(0, space), rest: part.slice(space + 1).trim() };
}

/** SQL converting a query column to the value its Delta type stores (instants in UTC, unsigned widened). */
export function writeExpression(column: string, duckType: string, deltaType: DeltaType): string {
  const c = quoteIdent(column);
  const t = duckType.trim();
  // A timestamp without time zone is taken as UTC, so that the file holds a UTC-adjusted instant (Spark's
  // `timestamp`) whatever the session time zone is.
  if (t === 'TIMESTAMP' || t === 'TIMESTAMP_S' || t === 'TIMESTAMP_MS' || t === 'TIMESTAMP_NS') {
    return `timezone('UTC', CAST(${c} AS TIMESTAMP))`;
  }
  if (t === 'TIMESTAMP WITH TIME ZONE') return c;
  if (duckdbType(deltaType) === t) return c;
  return `CAST(${c} AS ${duckdbType(deltaType)})`;
}

export function schemaString(schema: StructType): string {
  return JSON.stringify({
    type: 'struct',
    fields: schema.fields.map((f) => ({
      name: f.name,
      type: f.type,
      nullable: f.nullable,
      metadata: f.metadata,
    })),
  });
}

export function sameType(a: DeltaType, b: DeltaType): boolean {
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}

function normalise(t: DeltaType): unknown {
  if (typeof t === 'string') return t.replace(/\s+/g, '');
  if (t.type === 'struct') return { s: t.fields.map((f) => [f.name, normalise(f.type)]) };
  if (t.type === 'array') return { a: normalise(t.elementType) };
  return { m: [normalise(t.keyType), normalise(t.valueType)] };
}

const INTEGER_WIDTH: Record<string, number> = { byte: 1, short: 2, integer: 4, long: 8 };

/** True when a value of type `from` may be stored in a column of type `to` (cast on write, column type unchanged). */
export function canWiden(from: DeltaType, to: DeltaType): boolean {
  if (sameType(from, to)) return true;
  if (typeof from !== 'string' || typeof to !== 'string') return false;
  const fw = INTEGER_WIDTH[from];
  const tw = INTEGER_WIDTH[to];
  if (fw !== undefined && tw !== undefined) return fw <= tw;
  // Like Spark's ANSI store assignment, integers and decimals go into float/double columns (DuckDB types a literal
  // such as 0.5 as DECIMAL).
  if (to === 'double' || to === 'float') return from === 'float' || fw !== undefined || DECIMAL.test(from);
  const fd = DECIMAL.exec(from);
  const td = DECIMAL.exec(to);
  if (fd && td) {
    const [fp, fs] = [Number(fd[1]), Number(fd[2])];
    const [tp, ts] = [Number(td[1]), Number(td[2])];
    return ts >= fs && tp - ts >= fp - fs;
  }
  if (fw !== undefined && td) {
    const digits = { 1: 3, 2: 5, 4: 10, 8: 19 }[fw]!;
    return Number(td[1]) - Number(td[2]) >= digits;
  }
  return false;
}

export function typeName(t: DeltaType): string {
  if (typeof t === 'string') return t;
  if (t.type === 'struct') return `struct<${t.fields.map((f) => `${f.name}:${typeName(f.type)}`).join(',')}>`;
  if (t.type === 'array') return `array<${typeName(t.elementType)}>`;
  return `map<${typeName(t.keyType)},${typeName(t.valueType)}>`;
}
