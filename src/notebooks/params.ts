// Turns a statement's tokens into the SQL DuckDB runs: `quoted` names become "quoted" names and
// `:name` parameter markers become typed literals. DuckDB cannot bind prepared parameters in
// view or table definitions, so values are validated by type and rendered as literals, never
// spliced as raw text.
import type { Token } from './lexer.ts';
import { rewriteLambdaFunctions } from './duckdb-lambdas.ts';

export type ParamValue = string | number | boolean | bigint;
export type NotebookParams = Readonly<Record<string, ParamValue>>;

export class ParamError extends Error {
  readonly line: number | undefined;
  constructor(message: string, line?: number) {
    super(message);
    this.name = 'ParamError';
    this.line = line;
  }
}

/** A SQL literal for a parameter value, typed from the JavaScript value. */
export function sqlLiteral(name: string, value: ParamValue): string {
  switch (typeof value) {
    case 'string':
      if (value.includes('\0')) throw new ParamError(`parameter :${name} contains a NUL character`);
      // DuckDB string literals have no backslash escapes: doubling the quote is the only escape.
      return `CAST('${value.replaceAll("'", "''")}' AS VARCHAR)`;
    case 'bigint':
      return `CAST('${value}' AS BIGINT)`;
    case 'boolean':
      return value ? 'TRUE' : 'FALSE';
    case 'number':
      if (!Number.isFinite(value))
        throw new ParamError(`parameter :${name} must be a finite number, got ${value}`);
      // Through a string, so that the double is parsed exactly as JavaScript printed it.
      return Number.isSafeInteger(value) ? `CAST('${value}' AS BIGINT)` : `CAST('${value}' AS DOUBLE)`;
    default:
      throw new ParamError(`parameter :${name} has unsupported type ${typeof value}`);
  }
}

export function paramNames(tokens: readonly Token[]): string[] {
  return [...new Set(tokens.filter((t) => t.kind === 'param').map((t) => t.text.slice(1)))];
}

export function renderForDuckDB(tokens: readonly Token[], params: NotebookParams): string {
  return rewriteLambdaFunctions(tokens)
    .map((t) => {
      switch (t.kind) {
        case 'backquoted':
          return `"${t.text.slice(1, -1).replaceAll('``', '`').replaceAll('"', '""')}"`;
        case 'doublequoted':
          throw new ParamError(
            `${t.text} is a string in Spark SQL but a name in DuckDB: write strings in single quotes and names in backquotes`,
            t.line,
          );
        case 'param': {
          const name = t.text.slice(1);
          if (!Object.hasOwn(params, name)) {
            const given = Object.keys(params);
            throw new ParamError(
              `parameter :${name} has no value (parameters given: ${given.length ? given.join(', ') : 'none'})`,
              t.line,
            );
          }
          return `(${sqlLiteral(name, params[name]!)})`;
        }
        default:
          return t.text;
      }
    })
    .join('')
    .trim();
}
