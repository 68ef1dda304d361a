// Spark SQL parameter markers (`:name`, or `?` for ordinal parameters) turned into DuckDB prepared-statement
// parameters. Values are never written into the SQL text: each marker becomes `CAST($p AS <type>)` with the value
// bound as a VARCHAR parameter, and <type> comes from a fixed table of Spark type names, so neither the value nor
// the type string the client sent can change the statement.

/** TSparkParameter as the generated Thrift reader gives it. */
export interface SparkParameter {
  name?: string | null;
  type?: string | null;
  value?: { stringValue?: string | null; doubleValue?: number | null; booleanValue?: boolean | null } | null;
}

export interface BoundStatement {
  sql: string;
  /** Named DuckDB parameters (`$name`) or positional ones (`$1`, `$2`, ...): VARCHAR text, or null. */
  values: Record<string, string | null> | (string | null)[];
}

export class ParameterError extends Error {
  override name = 'ParameterError';
}

const duckdbTypeForSparkType: Record<string, string> = {
  STRING: 'VARCHAR',
  VARCHAR: 'VARCHAR',
  CHAR: 'VARCHAR',
  BOOLEAN: 'BOOLEAN',
  TINYINT: 'TINYINT',
  BYTE: 'TINYINT',
  SMALLINT: 'SMALLINT',
  SHORT: 'SMALLINT',
  INT: 'INTEGER',
  INTEGER: 'INTEGER',
  BIGINT: 'BIGINT',
  LONG: 'BIGINT',
  FLOAT: 'FLOAT',
  REAL: 'FLOAT',
  DOUBLE: 'DOUBLE',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
  TIMESTAMP_LTZ: 'TIMESTAMP',
  TIMESTAMP_NTZ: 'TIMESTAMP',
};

interface TypedValue {
  /** DuckDB type to cast the VARCHAR parameter to; undefined for NULL. */
  duckdbType: string | undefined;
  text: string | null;
}

/** Rewrites the markers of `sql` for DuckDB. Without parameters the SQL is returned unchanged. */
export function bindSparkParameters(
  sql: string,
  parameters: readonly SparkParameter[] | null | undefined,
): BoundStatement {
  if (!parameters || parameters.length === 0) return { sql, values: {} };
  const named = parameters.every((p) => typeof p.name === 'string' && p.name !== '');
  const positional = parameters.every((p) => !p.name);
  if (!named && !positional)
    throw new ParameterError('parameters must be all named or all positional, not a mix');

  if (named) {
    const byName = new Map(parameters.map((p) => [p.name as string, typedValue(p, `:${p.name}`)]));
    const values: Record<string, string | null> = {};
    const rewritten = rewriteMarkers(sql, (marker) => {
      if (!marker.startsWith(':')) return undefined;
      const name = marker.slice(1);
      const typed = byName.get(name);
      if (!typed)
        throw new ParameterError(
          `UNBOUND_SQL_PARAMETER: found the unbound parameter :${name} in the statement`,
        );
      values[name] = typed.text;
      return placeholder(`$${name}`, typed);
    });
    return { sql: rewritten, values };
  }

  const typed = parameters.map((p, i) => typedValue(p, `parameter ${i + 1}`));
  let next = 0;
  const rewritten = rewriteMarkers(sql, (marker) => {
    if (marker !== '?') return undefined;
    const value = typed[next];
    if (!value)
      throw new ParameterError(`the statement has more ? markers than the ${typed.length} parameters given`);
    next += 1;
    return placeholder(`$${next}`, value);
  });
  if (next !== typed.length) {
    throw new ParameterError(
      `${typed.length} positional parameters were given but the statement has ${next} ? markers`,
    );
  }
  return { sql: rewritten, values: typed.map((t) => t.text) };
}

function placeholder(parameter: string, typed: TypedValue): string {
  return typed.duckdbType ? `CAST(${parameter} AS ${typed.duckdbType})` : parameter;
}

function typedValue(parameter: SparkParameter, where: string): TypedValue {
  const text = parameterText(parameter);
  const sparkType = parameter.type?.trim().toUpperCase();
  if (text === null || sparkType === undefined || sparkType === 'VOID' || sparkType === 'NULL') {
    return { duckdbType: undefined, text: null };
  }
  const simple = duckdbTypeForSparkType[sparkType];
  if (simple) return { duckdbType: simple, text };
  const decimal = /^DECIMAL(?:\((\d+)\s*,\s*(\d+)\))?$/.exec(sparkType);
  if (decimal) return { duckdbType: decimalType(decimal[1], decimal[2], text), text };
  throw new ParameterError(`${where} has type ${parameter.type}, which this server does not support`);
}

function parameterText(parameter: SparkParameter): string | null {
  const value = parameter.value;
  if (!value) return null;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.doubleValue === 'number') return String(value.doubleValue);
  if (typeof value.booleanValue === 'boolean') return value.booleanValue ? 'true' : 'false';
  return null;
}

// A bare DECIMAL parameter takes the scale of its own digits, as Spark does.
function decimalType(precision: string | undefined, scale: string | undefined, text: string): string {
  if (precision !== undefined && scale !== undefined)
    return `DECIMAL(${Number(precision)}, ${Number(scale)})`;
  const fraction = /\.(\d+)/.exec(text)?.[1] ?? '';
  return `DECIMAL(38, ${Math.min(fraction.length, 37)})`;
}

/**
 * Calls `replace` for each `:name` or `?` outside string literals, quoted identifiers and comments; a returned
 * string replaces the marker, undefined keeps it. `::` casts are left alone.
 */
export function rewriteMarkers(sql: string, replace: (marker: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === "'" || c === '"' || c === '`') {
      const end = closingQuote(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === ':' && next === ':') {
      out += '::';
      i += 2;
    } else if (c === ':' && next !== undefined && /[A-Za-z_]/.test(next)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))?.[0] as string;
      const marker = `:${name}`;
      out += replace(marker) ?? marker;
      i += marker.length;
    } else if (c === '?') {
      out += replace('?') ?? '?';
      i += 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

// Index just past the quote that closes the one at `start`; a doubled quote is part of the text.
function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i += 1;
    }
  }
  return sql.length;
}
