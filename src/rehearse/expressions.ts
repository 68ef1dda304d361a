// Every `${{ }}` is evaluated by GitHub's own @actions/expressions (lexer, parser, evaluator and its built-in
// functions: contains, startsWith, endsWith, format, join, toJSON, fromJSON, case). What the runner adds is added
// here: the status functions success(), failure(), cancelled(), always() and hashFiles(). The workflow parser
// has already turned each value with expressions into one expression (`gs://${{ x }}/raw` becomes
// `format('gs://{0}/raw', x)`) and checked which contexts and functions it may use.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import { TokenType, type Token } from '@actions/expressions/lexer';
import type { FunctionDefinition } from '@actions/expressions/funcs/info';
import { truthy } from '@actions/expressions/result';
import {
  isBasicExpression,
  isBoolean,
  isMapping,
  isNumber,
  isSequence,
  isString,
} from '@actions/workflow-parser';
import { NullToken, type TemplateToken } from '@actions/workflow-parser/templates/tokens/index';
import { globFiles, isUnder } from './glob.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The contexts (github, env, steps …) and the functions an expression may use where it stands. */
export interface Scope {
  contexts: Record<string, Json>;
  functions: FunctionDefinition[];
}

export class ExpressionFailure extends Error {}

export function toData(value: Json): data.ExpressionData {
  return JSON.parse(JSON.stringify(value), data.reviver) as data.ExpressionData;
}

export function fromData(value: data.ExpressionData): Json {
  return JSON.parse(JSON.stringify(value, data.replacer) ?? 'null') as Json;
}

export function evaluateExpression(expression: string, scope: Scope): data.ExpressionData {
  try {
    const tokens = new Lexer(expression).lex().tokens.map(unescapeString);
    const tree = new Parser(tokens, Object.keys(scope.contexts), scope.functions).parse();
    const contexts = new data.Dictionary(
      ...Object.entries(scope.contexts).map(([key, value]) => ({ key, value: toData(value) })),
    );
    const functions = new Map(scope.functions.map((f) => [f.name.toLowerCase(), f]));
    return new Evaluator(tree, contexts, functions).evaluate();
  } catch (e) {
    throw new ExpressionFailure(
      `the expression \${{ ${expression} }} failed: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/**
 * @actions/expressions 0.3.61 unescapes only the first `''` of a string literal (`value.replace("''", "'")`),
 * where GitHub unescapes every one; a workflow's `run: echo 'a' 'b'` with an expression in it becomes such a
 * string (the parser turns it into format('echo ''a'' ''b'' …', …)). The value is taken again from the lexeme.
 */
function unescapeString(token: Token): Token {
  if (token.type !== TokenType.STRING) return token;
  return { ...token, value: token.lexeme.slice(1, -1).replaceAll("''", "'") };
}

/** A token of the workflow (literal, expression, sequence or mapping) as a plain value. */
export function evaluateToken(token: TemplateToken, scope: Scope): Json {
  if (isBasicExpression(token)) return fromData(evaluateExpression(token.expression, scope));
  if (isString(token) || isNumber(token) || isBoolean(token)) return token.value;
  if (isSequence(token)) return [...token].map((item) => evaluateToken(item, scope));
  if (isMapping(token)) {
    const result: Record<string, Json> = {};
    for (const { key, value } of token)
      result[String(evaluateToken(key, scope))] = evaluateToken(value, scope);
    return result;
  }
  if (token instanceof NullToken) return null;
  throw new ExpressionFailure(`unsupported template token ${token.typeName()}`);
}

/** As the runner turns a value into an input or a variable: strings as they are, booleans and numbers as text. */
export function evaluateText(token: TemplateToken, scope: Scope, what: string): string {
  const value = evaluateToken(token, scope);
  if (value === null) return '';
  if (typeof value === 'object')
    throw new ExpressionFailure(
      `${what}: expected a string, found ${Array.isArray(value) ? 'a sequence' : 'a mapping'}`,
    );
  return typeof value === 'string' ? value : toData(value).coerceString();
}

export function evaluateCondition(expression: string, scope: Scope): boolean {
  return truthy(evaluateExpression(expression, scope));
}

/** The mapping under a token, each value as text (env, with, outputs). */
export function evaluateMapping(
  token: TemplateToken | undefined,
  scope: Scope,
  what: string,
): Record<string, string> {
  if (!token) return {};
  if (!isMapping(token)) {
    const value = evaluateToken(token, scope);
    if (value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value))
      throw new ExpressionFailure(`${what}: expected a mapping`);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null ? '' : String(v)]));
  }
  const result: Record<string, string> = {};
  for (const { key, value } of token) {
    const name = String(evaluateToken(key, scope));
    result[name] = evaluateText(value, scope, `${what}.${name}`);
  }
  return result;
}

export type JobStatus = 'success' | 'failure' | 'cancelled';

/** success(), failure(), cancelled(), always(): where they stand, the status is the job's so far (or its needs'). */
export function statusFunctions(status: () => JobStatus): FunctionDefinition[] {
  const fn = (name: string, call: () => boolean): FunctionDefinition => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    call: () => new data.BooleanData(call()),
  });
  return [
    fn('success', () => status() === 'success'),
    fn('failure', () => status() === 'failure'),
    fn('cancelled', () => status() === 'cancelled'),
    fn('always', () => true),
  ];
}

/** hashFiles(patterns…): the SHA-256 of the files' SHA-256s, files under the workspace only; '' when none. */
export function hashFilesFunction(workspace: string): FunctionDefinition {
  return {
    name: 'hashFiles',
    minArgs: 1,
    maxArgs: 255,
    call: (...args) => {
      const patterns = args.map((a) => a.coerceString()).join('\n');
      const files = globFiles(patterns, workspace).files.filter((f) => isUnder(f, workspace));
      if (!files.length) return new data.StringData('');
      const result = crypto.createHash('sha256');
      for (const file of files)
        result.update(crypto.createHash('sha256').update(fs.readFileSync(file)).digest());
      return new data.StringData(result.digest('hex'));
    },
  };
}
