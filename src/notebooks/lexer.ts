// A small SQL tokenizer shared by the notebook parser and the runner. It knows just enough of
// Spark SQL and DuckDB to split statements safely (`;` inside strings and comments), to find
// `:name` parameter markers, and to spot the constructs the two engines read differently.

export type TokenKind =
  | 'word' // identifier or keyword
  | 'number'
  | 'string' // '...'
  | 'backquoted' // `identifier` (Spark)
  | 'doublequoted' // "..." : a string in Spark, an identifier in DuckDB
  | 'comment'
  | 'space'
  | 'param' // :name
  | 'symbol';

export interface Token {
  kind: TokenKind;
  text: string;
  /** 1-based line, counted from the start of the text given to tokenize (plus firstLine - 1). */
  line: number;
}

export class SqlSyntaxError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.name = 'SqlSyntaxError';
    this.line = line;
  }
}

const wordStart = /[\p{L}_]/u;
const wordPart = /[\p{L}\p{N}_$]/u;
const digit = /[0-9]/;

export function tokenize(sql: string, firstLine = 1): Token[] {
  const tokens: Token[] = [];
  let line = firstLine;
  let i = 0;
  const push = (kind: TokenKind, end: number) => {
    const text = sql.slice(i, end);
    tokens.push({ kind, text, line });
    for (const ch of text) if (ch === '\n') line++;
    i = end;
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (/\s/.test(ch)) {
      let j = i + 1;
      while (j < sql.length && /\s/.test(sql[j]!)) j++;
      push('space', j);
    } else if (ch === '-' && next === '-') {
      const j = sql.indexOf('\n', i);
      push('comment', j === -1 ? sql.length : j);
    } else if (ch === '/' && next === '*') {
      const j = sql.indexOf('*/', i + 2);
      if (j === -1) throw new SqlSyntaxError('unterminated /* comment */', line);
      push('comment', j + 2);
    } else if (ch === "'") {
      push('string', endOfString(sql, i, line));
    } else if (ch === '`' || ch === '"') {
      const j = endOfQuoted(sql, i, ch, line);
      push(ch === '`' ? 'backquoted' : 'doublequoted', j);
    } else if (ch === ':' && next === ':') {
      push('symbol', i + 2);
    } else if (ch === ':' && next !== undefined && wordStart.test(next)) {
      const previous = sql[i - 1];
      // `col:field` (no space) is Databricks' JSON path syntax, not a parameter marker.
      if (previous !== undefined && (wordPart.test(previous) || previous === ')' || previous === ']')) {
        throw new SqlSyntaxError(
          `'${sql.slice(i - 1, i + 12).trim()}…': a ':' right after a name is JSON path syntax, which the local runner does not support; write parameter markers after a space or an operator`,
          line,
        );
      }
      let j = i + 1;
      while (j < sql.length && wordPart.test(sql[j]!)) j++;
      push('param', j);
    } else if (wordStart.test(ch)) {
      let j = i + 1;
      while (j < sql.length && wordPart.test(sql[j]!)) j++;
      push('word', j);
    } else if (digit.test(ch)) {
      const m = /^[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?/.exec(sql.slice(i))!;
      push('number', i + m[0].length);
    } else {
      push('symbol', i + 1);
    }
  }
  return tokens;
}

function endOfString(sql: string, start: number, line: number): number {
  let j = start + 1;
  for (;;) {
    const k = sql.indexOf("'", j);
    if (k === -1) throw new SqlSyntaxError('unterminated string literal', line);
    // Spark reads \' as an escaped quote, DuckDB as a backslash that ends the string.
    if (sql[k - 1] === '\\') {
      throw new SqlSyntaxError(
        `string literal ${sql.slice(start, k + 1)}… has a backslash before a quote, which Spark and DuckDB read differently; double the quote instead ('')`,
        line,
      );
    }
    if (sql[k + 1] === "'") {
      j = k + 2;
      continue;
    }
    return k + 1;
  }
}

function endOfQuoted(sql: string, start: number, quote: string, line: number): number {
  let j = start + 1;
  for (;;) {
    const k = sql.indexOf(quote, j);
    if (k === -1) throw new SqlSyntaxError(`unterminated ${quote}quoted${quote} name`, line);
    if (sql[k + 1] === quote) {
      j = k + 2;
      continue;
    }
    return k + 1;
  }
}

export const isSignificant = (t: Token) => t.kind !== 'space' && t.kind !== 'comment';

/** The value of a '...' literal. */
export function stringValue(token: Token): string {
  return token.text.slice(1, -1).replaceAll("''", "'");
}

/** The name inside a word or a `quoted` identifier. */
export function identifierValue(token: Token): string {
  return token.kind === 'backquoted' ? token.text.slice(1, -1).replaceAll('``', '`') : token.text;
}

export function joinTokens(tokens: readonly Token[]): string {
  return tokens
    .map((t) => t.text)
    .join('')
    .trim();
}
