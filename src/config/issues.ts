// How lakehouse.yml's mistakes are told: each as one line naming the file, the line, the key path, what was expected
// and what was found; all of them at once (fix them all, run once more), then how many there were.
import { isNode, type Document, type LineCounter } from 'yaml';
import type { z } from 'zod';
import { count } from '../util/format.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
  /** One line per mistake (a single mistake is the whole message). */
  readonly mistakes: string[];
  constructor(message: string, mistakes: string[] = [message]) {
    super(message);
    this.mistakes = mistakes;
  }
}

/** A mistake at a key: its path in the document and what is wrong ("expected …, found …"). */
export interface Mistake {
  path: PropertyKey[];
  text: string;
  /** Not a key of the file (a profile named on the command line): told without a line. */
  unlocated?: boolean;
}

/** Where a mistake is told: the file's name, its document and lines. */
export interface ConfigSource {
  where: string;
  doc: Document;
  lines: LineCounter;
}

/** The mistakes as one error: a line each, in the order of the file, and their count when there are several. */
export function configError(source: ConfigSource, mistakes: Mistake[]): ConfigError {
  const told = mistakes
    .map((m) => ({ line: m.unlocated ? undefined : lineOf(source, m.path), text: m.text, path: m.path }))
    .sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity))
    .map((m) => `${source.where}${m.line ? `:${m.line}` : ''}: ${formatPath(m.path)}: ${m.text}`);
  return mistakesError([...new Set(told)], source.where);
}

/** Lines already told as one error: the line itself when alone, else each line and then their count. */
export function mistakesError(lines: string[], where: string): ConfigError {
  if (lines.length === 1) return new ConfigError(lines[0]!);
  return new ConfigError(`${lines.join('\n')}\n${count(lines.length, 'mistake')} in ${where}`, lines);
}

export function describeIssue(issue: z.core.$ZodIssue): Mistake {
  const found = 'input' in issue ? describeValue(issue.input) : 'nothing';
  const mistake = (text: string): Mistake => ({ path: issue.path, text });
  switch (issue.code) {
    case 'unrecognized_keys':
      return mistake(
        `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling; see the config reference in README.md)`,
      );
    case 'invalid_type':
      return mistake(
        issue.input === undefined
          ? `expected ${issue.expected}, found nothing (the key is required)`
          : `expected ${issue.expected}, found ${found}`,
      );
    case 'invalid_value':
      return mistake(
        `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${found}`,
      );
    case 'invalid_union': {
      // A discriminated union reports the whole object as input; the discriminator's value is what was wrong.
      const discriminator = (issue as { discriminator?: string }).discriminator;
      const options = (issue as { options?: unknown[] }).options;
      if (discriminator && options && issue.input && typeof issue.input === 'object')
        return mistake(
          `expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, found ${describeValue((issue.input as Record<string, unknown>)[discriminator])}`,
        );
      return mistake(`expected ${unionExpectation(issue)}, found ${found}`);
    }
    case 'invalid_format':
      return mistake(
        `expected ${issue.message.replace(/^Invalid string: must match pattern .*$/, 'a valid value')}, found ${found}`,
      );
    case 'too_small':
    case 'too_big':
      return mistake(
        `${issue.message.replace(/^Too (small|big): /, 'expected ').toLowerCase()}, found ${found}`,
      );
    default:
      return mistake(issue.message.startsWith('expected') ? issue.message : `expected ${issue.message}`);
  }
}

function unionExpectation(issue: z.core.$ZodIssueInvalidUnion): string {
  const options = issue.errors
    .flat()
    .map((e) => (e.code === 'invalid_value' ? e.values.map((v) => JSON.stringify(v)).join(', ') : e.message))
    .filter((m) => m);
  return options.length ? `one of ${[...new Set(options)].join(' or ')}` : 'a valid value';
}

export function formatPath(p: readonly PropertyKey[]): string {
  if (p.length === 0) return '(top level)';
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('');
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${String(v)}`;
}

/** The line of the key, or of the nearest enclosing key the document has. */
function lineOf({ doc, lines }: ConfigSource, p: PropertyKey[]): number | undefined {
  for (let n = p.length; n >= 0; n--) {
    const node = doc.getIn(p.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
