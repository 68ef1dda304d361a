// The types notebooks give their parameters. A notebook declares a parameter's type where it reads it:
// `CAST(:min_support AS DOUBLE)` is how Spark SQL (and so Databricks, whose widgets pass every value as text) turns
// the marker into a number, and it is the cast that fails at run time on a value like "lots". Reading the casts
// lets a value be refused before anything runs, with the notebook, the parameter, the type and the value.
import { isSignificant, type Token } from './lexer.ts';
import type { ParamValue } from './params.ts';
import type { Notebook } from './parser.ts';

export interface ParameterDeclaration {
  name: string;
  /** The SQL type cast to, as written but upper case: DOUBLE, INT, DECIMAL(10,2), … */
  type: string;
  notebook: string;
  line: number;
}

/** Every `CAST(:name AS type)` in the notebook's SQL cells. */
export function parameterDeclarations(notebook: Notebook): ParameterDeclaration[] {
  const found: ParameterDeclaration[] = [];
  for (const cell of notebook.cells)
    for (const statement of cell.statements) {
      const t = statement.tokens.filter(isSignificant);
      for (let i = 0; i + 4 < t.length; i++) {
        if (!isWord(t[i], 'CAST') || !isSymbol(t[i + 1], '(') || t[i + 2]!.kind !== 'param') continue;
        if (!isWord(t[i + 3], 'AS')) continue;
        const type = typeText(t, i + 4);
        if (type)
          found.push({ name: t[i + 2]!.text.slice(1), type, notebook: notebook.path, line: t[i + 2]!.line });
      }
    }
  return found;
}

/** The names of every `:name` marker in the notebook. */
export function parameterUses(notebook: Notebook): { name: string; line: number }[] {
  return notebook.cells
    .flatMap((c) => c.statements.flatMap((s) => s.tokens))
    .filter((t) => t.kind === 'param')
    .map((t) => ({ name: t.text.slice(1), line: t.line }));
}

/**
 * What a value must look like to be cast to `type` (undefined when it can: strings, and types not checked here).
 * Values come from lakehouse.yml (numbers, booleans, text) or `--param` (text), as widgets pass them.
 */
export function parameterTypeProblem(value: ParamValue, type: string): string | undefined {
  const base = type.replace(/\(.*$/, '');
  const text = typeof value === 'string' ? value.trim() : undefined;
  if (NUMBER_TYPES.has(base)) {
    const ok =
      typeof value === 'number' ? Number.isFinite(value) : typeof value === 'bigint' || isNumeric(text);
    return ok ? undefined : 'a number';
  }
  const range = INTEGER_RANGES[base];
  if (range) {
    const whole =
      typeof value === 'bigint'
        ? value
        : typeof value === 'number' && Number.isInteger(value)
          ? BigInt(value)
          : text !== undefined && /^[+-]?\d+$/.test(text)
            ? BigInt(text)
            : undefined;
    return whole !== undefined && whole >= range[0] && whole <= range[1]
      ? undefined
      : `a whole number from ${range[0]} to ${range[1]}`;
  }
  if (base === 'BOOLEAN')
    return typeof value === 'boolean' || /^(true|false)$/i.test(text ?? '') ? undefined : 'true or false';
  if (base === 'DATE') return isDate(text) ? undefined : 'a date (YYYY-MM-DD)';
  if (base === 'TIMESTAMP')
    return isDate(text?.slice(0, 10)) && TIMESTAMP.test(text ?? '')
      ? undefined
      : 'a timestamp (YYYY-MM-DD HH:MM:SS)';
  return undefined;
}

const NUMBER_TYPES = new Set(['DOUBLE', 'FLOAT', 'REAL', 'DECIMAL', 'DEC', 'NUMERIC']);
const INTEGER_RANGES: Record<string, [bigint, bigint]> = {
  TINYINT: [-128n, 127n],
  BYTE: [-128n, 127n],
  SMALLINT: [-32768n, 32767n],
  SHORT: [-32768n, 32767n],
  INT: [-2147483648n, 2147483647n],
  INTEGER: [-2147483648n, 2147483647n],
  BIGINT: [-(2n ** 63n), 2n ** 63n - 1n],
  LONG: [-(2n ** 63n), 2n ** 63n - 1n],
};
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

function isNumeric(text: string | undefined): boolean {
  return text !== undefined && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text);
}

function isDate(text: string | undefined): boolean {
  const m = text === undefined ? null : /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === text;
}

/** The type after AS, up to the cast's closing parenthesis: `DECIMAL ( 10 , 2 )` → DECIMAL(10,2). */
function typeText(tokens: Token[], start: number): string | undefined {
  let depth = 0;
  let text = '';
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (isSymbol(t, '(')) depth++;
    if (isSymbol(t, ')') && depth-- === 0) return text.toUpperCase() || undefined;
    text += t.text;
  }
  return undefined;
}

function isWord(t: Token | undefined, word: string): boolean {
  return t?.kind === 'word' && t.text.toUpperCase() === word;
}

function isSymbol(t: Token | undefined, symbol: string): boolean {
  return t?.kind === 'symbol' && t.text === symbol;
}
