// The statement forms the local runner executes (DESIGN.md, "Notebooks: one source, two engines").
// Recognising them is pure token work; anything else is rejected with the list of forms.
import { identifierValue, isSignificant, joinTokens, stringValue, type Token } from './lexer.ts';

export interface TableName {
  schema: string;
  name: string;
}

export const EXTRACTION_FORMATS = ['sqlserver', 'jdbc', 'org.apache.spark.sql.jdbc'] as const;

export type Statement =
  | { kind: 'extract'; view: string; format: string; options: Record<string, string> }
  | { kind: 'create-table'; table: TableName; partitionBy: string[]; query: Token[]; ifNotExists: boolean }
  | { kind: 'insert'; table: TableName; query: Token[] }
  | { kind: 'merge'; table: TableName; targetAlias: string; tail: Token[] }
  | { kind: 'temp-view'; view: string; query: Token[] }
  | { kind: 'cache-table'; view: string; query: Token[] }
  | { kind: 'create-schema'; schema: string }
  | { kind: 'query'; query: Token[]; assertion: boolean };

export const STATEMENT_FORMS = [
  'CREATE OR REPLACE TEMPORARY VIEW v USING sqlserver|jdbc|org.apache.spark.sql.jdbc OPTIONS (...)',
  'CREATE OR REPLACE TABLE schema.table [USING DELTA] [PARTITIONED BY (...)] AS SELECT ...',
  'CREATE TABLE IF NOT EXISTS schema.table [USING DELTA] [PARTITIONED BY (...)] AS SELECT ...',
  'INSERT INTO schema.table SELECT ...',
  'MERGE INTO schema.table [AS] alias USING ...',
  'CREATE OR REPLACE TEMP[ORARY] VIEW v AS SELECT ...',
  'CACHE TABLE v AS SELECT ...',
  'CREATE SCHEMA IF NOT EXISTS schema',
  'SELECT ... (a query, including assert_true checks)',
];

export class StatementFormError extends Error {
  readonly line: number | undefined;
  constructor(message: string, line: number | undefined) {
    super(message);
    this.name = 'StatementFormError';
    this.line = line;
  }
}

export const tableNameText = (t: TableName) => `${t.schema}.${t.name}`;

const queryStarts = new Set(['SELECT', 'WITH', 'VALUES', 'FROM']);

/** Walks the significant tokens of one statement. */
class Cursor {
  readonly tokens: readonly Token[];
  readonly significant: number[];
  position = 0;
  constructor(tokens: readonly Token[]) {
    this.tokens = tokens;
    this.significant = tokens.flatMap((t, i) => (isSignificant(t) ? [i] : []));
  }
  peek(offset = 0): Token | undefined {
    const index = this.significant[this.position + offset];
    return index === undefined ? undefined : this.tokens[index];
  }
  isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.kind === 'word' && t.text.toUpperCase() === word;
  }
  isSymbol(symbol: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.kind === 'symbol' && t.text === symbol;
  }
  acceptWord(...words: string[]): boolean {
    if (!words.every((w, i) => this.isWord(w, i))) return false;
    this.position += words.length;
    return true;
  }
  expectWord(word: string, context: string): void {
    if (!this.acceptWord(word)) this.fail(`expected ${word} ${context}`);
  }
  expectSymbol(symbol: string, context: string): void {
    if (!this.isSymbol(symbol)) this.fail(`expected '${symbol}' ${context}`);
    this.position++;
  }
  identifier(context: string): string {
    const t = this.peek();
    if (t?.kind !== 'word' && t?.kind !== 'backquoted') this.fail(`expected a name ${context}`);
    this.position++;
    return identifierValue(t);
  }
  tableName(context: string): TableName {
    const parts = [this.identifier(context)];
    while (this.isSymbol('.')) {
      this.position++;
      parts.push(this.identifier(context));
    }
    if (parts.length !== 2) {
      this.fail(`expected a two-part table name schema.table ${context}, found '${parts.join('.')}'`);
    }
    return { schema: parts[0]!, name: parts[1]! };
  }
  /** All tokens from the current significant token on (comments and spaces kept). */
  rest(): Token[] {
    const index = this.significant[this.position];
    return index === undefined ? [] : this.tokens.slice(index);
  }
  found(): string {
    const t = this.peek();
    return t ? `'${t.text}' (line ${t.line})` : 'the end of the statement';
  }
  fail(message: string): never {
    throw new StatementFormError(`${message}, found ${this.found()}`, this.peek()?.line);
  }
}

export function classifyStatement(tokens: readonly Token[]): Statement {
  const c = new Cursor(tokens);
  const first = c.peek();
  if (!first) throw new StatementFormError('empty statement', undefined);
  if (c.isWord('CREATE')) return classifyCreate(c);
  if (c.acceptWord('CACHE', 'TABLE')) {
    // Spark computes the query once and keeps it as a temporary view (locally: a temporary table).
    const view = c.identifier('after CACHE TABLE');
    c.expectWord('AS', `after CACHE TABLE ${view} (CACHE TABLE v AS <query>)`);
    return { kind: 'cache-table', view, query: expectQuery(c, 'after AS') };
  }
  if (c.acceptWord('INSERT')) {
    if (!c.acceptWord('INTO')) c.fail('expected INSERT INTO (INSERT OVERWRITE is not a supported form)');
    c.acceptWord('TABLE');
    const table = c.tableName('after INSERT INTO');
    return { kind: 'insert', table, query: expectQuery(c, `after INSERT INTO ${tableNameText(table)}`) };
  }
  if (c.acceptWord('MERGE', 'INTO')) {
    const table = c.tableName('after MERGE INTO');
    c.acceptWord('AS');
    const targetAlias = c.isWord('USING')
      ? table.name
      : c.identifier('(the target alias) after the table name');
    if (!c.isWord('USING')) c.fail(`expected USING after MERGE INTO ${tableNameText(table)} ${targetAlias}`);
    return { kind: 'merge', table, targetAlias, tail: c.rest() };
  }
  if (isQueryStart(c)) {
    const query = c.rest();
    const assertion = query.some((t) => t.kind === 'word' && t.text.toLowerCase() === 'assert_true');
    return { kind: 'query', query, assertion };
  }
  return unsupported(c);
}

function classifyCreate(c: Cursor): Statement {
  if (c.acceptWord('CREATE', 'SCHEMA') || c.acceptWord('CREATE', 'DATABASE')) {
    if (!c.acceptWord('IF', 'NOT', 'EXISTS')) c.fail('expected CREATE SCHEMA IF NOT EXISTS');
    const schema = c.identifier('after CREATE SCHEMA IF NOT EXISTS');
    if (c.peek()) c.fail(`expected the end of CREATE SCHEMA IF NOT EXISTS ${schema}`);
    return { kind: 'create-schema', schema };
  }
  if (c.acceptWord('CREATE', 'TABLE', 'IF', 'NOT', 'EXISTS')) return createTable(c, true);
  if (!c.acceptWord('CREATE', 'OR', 'REPLACE')) return unsupported(c);
  if (c.acceptWord('TABLE')) return createTable(c, false);
  if (!c.acceptWord('TEMPORARY') && !c.acceptWord('TEMP')) return unsupported(c);
  c.expectWord('VIEW', 'after CREATE OR REPLACE TEMPORARY');
  const view = c.identifier('after CREATE OR REPLACE TEMPORARY VIEW');
  if (c.acceptWord('AS')) return { kind: 'temp-view', view, query: expectQuery(c, 'after AS') };
  if (!c.acceptWord('USING')) c.fail(`expected AS or USING after CREATE OR REPLACE TEMPORARY VIEW ${view}`);
  const format = [c.identifier('after USING')];
  while (c.isSymbol('.')) {
    c.position++;
    format.push(c.identifier('after USING'));
  }
  const formatName = format.join('.').toLowerCase();
  if (!(EXTRACTION_FORMATS as readonly string[]).includes(formatName)) {
    throw new StatementFormError(
      `expected USING ${EXTRACTION_FORMATS.join(' | ')} for an extraction view, found USING ${format.join('.')}`,
      c.peek(-1)?.line,
    );
  }
  c.expectWord('OPTIONS', `after USING ${formatName}`);
  const options = parseOptions(c);
  if (c.peek()) c.fail('expected the end of the statement after OPTIONS (...)');
  return { kind: 'extract', view, format: formatName, options };
}

/** The rest of CREATE OR REPLACE TABLE / CREATE TABLE IF NOT EXISTS, from the table name on. */
function createTable(c: Cursor, ifNotExists: boolean): Statement {
  const form = ifNotExists ? 'CREATE TABLE IF NOT EXISTS' : 'CREATE OR REPLACE TABLE';
  const table = c.tableName(`after ${form}`);
  if (c.acceptWord('USING') && !c.acceptWord('DELTA'))
    c.fail('expected USING DELTA (tables are Delta tables)');
  const partitionBy: string[] = [];
  if (c.acceptWord('PARTITIONED', 'BY')) {
    c.expectSymbol('(', 'after PARTITIONED BY');
    for (;;) {
      partitionBy.push(c.identifier('in PARTITIONED BY (...)'));
      if (!c.isSymbol(',')) break;
      c.position++;
    }
    c.expectSymbol(')', 'to close PARTITIONED BY (...)');
  }
  c.expectWord('AS', `before the query of ${form} ${tableNameText(table)}`);
  return { kind: 'create-table', table, partitionBy, query: expectQuery(c, 'after AS'), ifNotExists };
}

/**
 * OPTIONS (key 'value', key = 'value', user secret('scope', 'key'), ...). Keys are lower-cased (Spark
 * options are case-insensitive). A secret() value is kept as its source text: it is never resolved
 * locally, where the SQL store's own configuration supplies the credentials.
 */
function parseOptions(c: Cursor): Record<string, string> {
  const options: Record<string, string> = {};
  c.expectSymbol('(', 'after OPTIONS');
  while (!c.isSymbol(')')) {
    const keyToken = c.peek();
    let key: string;
    if (keyToken?.kind === 'string') {
      c.position++;
      key = stringValue(keyToken);
    } else {
      const parts = [c.identifier('(an option name) in OPTIONS (...)')];
      while (c.isSymbol('.')) {
        c.position++;
        parts.push(c.identifier('in an option name'));
      }
      key = parts.join('.');
    }
    if (c.isSymbol('=')) c.position++;
    options[key.toLowerCase()] = optionValue(c, key);
    if (c.isSymbol(',')) c.position++;
    else if (!c.isSymbol(')')) c.fail(`expected ',' or ')' after the value of option ${key}`);
  }
  c.position++;
  return options;
}

function optionValue(c: Cursor, key: string): string {
  const t = c.peek();
  if (t?.kind === 'string' || t?.kind === 'number') {
    c.position++;
    return t.kind === 'string' ? stringValue(t) : t.text;
  }
  if (c.isWord('TRUE') || c.isWord('FALSE')) {
    c.position++;
    return t!.text.toLowerCase();
  }
  if (c.isWord('SECRET') && c.isSymbol('(', 1)) {
    c.position += 2;
    const args: string[] = [];
    while (!c.isSymbol(')')) {
      const arg = c.peek();
      if (arg?.kind !== 'string') c.fail(`expected secret('scope', 'key') as the value of option ${key}`);
      args.push(arg.text);
      c.position++;
      if (c.isSymbol(',')) c.position++;
    }
    if (args.length !== 2) {
      throw new StatementFormError(
        `expected secret('scope', 'key') with two arguments for option ${key}, found secret(${args.join(', ')})`,
        t?.line,
      );
    }
    c.position++;
    return `secret(${args.join(', ')})`;
  }
  return c.fail(`expected a string, number, boolean or secret('scope', 'key') as the value of option ${key}`);
}

/** SELECT, WITH, VALUES or FROM, possibly inside parentheses; `(a, b)` is a column list, not a query. */
function isQueryStart(c: Cursor): boolean {
  let offset = 0;
  while (c.isSymbol('(', offset)) offset++;
  const t = c.peek(offset);
  return t?.kind === 'word' && queryStarts.has(t.text.toUpperCase());
}

function expectQuery(c: Cursor, context: string): Token[] {
  if (!isQueryStart(c)) c.fail(`expected a query (SELECT, WITH, VALUES or FROM) ${context}`);
  return c.rest();
}

function unsupported(c: Cursor): never {
  c.position = 0;
  const text = joinTokens(c.rest().filter((t) => t.kind !== 'comment')).replace(/\s+/g, ' ');
  const start = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  throw new StatementFormError(
    `'${start}' is not one of the statement forms the local runner executes: ${STATEMENT_FORMS.join('; ')}`,
    c.peek()?.line,
  );
}

/**
 * Two-part names (`schema.table`) a statement mentions. `alias.column` pairs are found too; the
 * store answers that no such table exists, which costs one catalog lookup.
 */
export function referencedTables(tokens: readonly Token[]): TableName[] {
  const t = tokens.filter(isSignificant);
  const isName = (k: Token | undefined) => k?.kind === 'word' || k?.kind === 'backquoted';
  const isDot = (k: Token | undefined) => k?.kind === 'symbol' && k.text === '.';
  const found = new Map<string, TableName>();
  for (let i = 0; i + 2 < t.length; i++) {
    if (!isName(t[i]) || !isDot(t[i + 1]) || !isName(t[i + 2])) continue;
    if (isDot(t[i - 1]) || isDot(t[i + 3]) || (t[i + 3]?.kind === 'symbol' && t[i + 3]!.text === '('))
      continue;
    const unquote = (k: Token) =>
      k.kind === 'backquoted' ? k.text.slice(1, -1).replaceAll('``', '`') : k.text;
    const name = { schema: unquote(t[i]!), name: unquote(t[i + 2]!) };
    found.set(tableNameText(name), name);
  }
  return [...found.values()];
}
