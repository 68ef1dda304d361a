// Loading lakehouse.yml: YAML → schema validation → the chosen profile with ${env:NAME} resolved.
// Every mistake becomes one line naming the file, the line, the key path, what was expected and what was found.
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { configSchema, type DatasetConfig, type LakehouseConfig, type ProfileConfig } from './schema.ts';
import { registerSecret } from '../util/secrets.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ResolvedConfig {
  /** Absolute path of lakehouse.yml; relative paths in it are relative to its folder. */
  file: string;
  root: string;
  config: LakehouseConfig;
  profileName: string;
  profile: ProfileConfig;
}

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** Keys whose values are secrets: they must come from the environment, never be written in the file. */
const SECRET_KEYS = new Set(['password', 'token', 'clientSecret', 'apiKey', 'deployHookUrl']);

export interface LoadOptions {
  /**
   * Resolve ${env:NAME} only in these sections of the profile; the others keep their references as written. A
   * stage that needs only Databricks is then not given the SQL store's password. Default: every section but
   * `databricks` and `render`, so that ingest and load need neither the Databricks token nor the Render key (only
   * the transform on Databricks and the deploy ask for them).
   */
  resolve?: (keyof ProfileConfig)[];
}

/** Sections resolved only when a stage asks for them; every other section is resolved by default. */
const RESOLVED_ON_REQUEST: (keyof ProfileConfig)[] = ['databricks', 'render'];

export function loadConfig(
  file = 'lakehouse.yml',
  profileName?: string,
  options: LoadOptions = {},
): ResolvedConfig {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute))
    throw new ConfigError(
      `${file}: config file not found (expected lakehouse.yml in ${path.dirname(absolute)})`,
    );
  return parseConfig(fs.readFileSync(absolute, 'utf8'), absolute, profileName, options);
}

export function parseConfig(
  text: string,
  file: string,
  profileName?: string,
  options: LoadOptions = {},
): ResolvedConfig {
  const where = path.basename(file);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = lines.linePos(syntax.pos[0]);
    throw new ConfigError(`${where}:${pos.line}:${pos.col}: invalid YAML: ${syntax.message.split('\n')[0]}`);
  }
  const result = configSchema.safeParse(doc.toJS() ?? {}, { reportInput: true });
  if (!result.success) throw new ConfigError(describeIssue(result.error.issues[0]!, doc, lines, where));
  const config = result.data;
  rejectInlineSecrets(config, where);

  const name = profileName ?? process.env.LAKEHOUSE_PROFILE ?? config.defaultProfile;
  const rawProfile = config.profiles[name];
  if (!rawProfile)
    throw new ConfigError(
      `${where}: profiles.${name}: expected a profile named "${name}", found only ${Object.keys(config.profiles).join(', ')}`,
    );
  const resolved = (key: keyof ProfileConfig) =>
    options.resolve ? options.resolve.includes(key) : !RESOLVED_ON_REQUEST.includes(key);
  const profile = Object.fromEntries(
    Object.entries(rawProfile).map(([key, value]) => [
      key,
      resolved(key as keyof ProfileConfig) ? resolveEnv(value, `profiles.${name}.${key}`, where) : value,
    ]),
  ) as ProfileConfig;
  return { file, root: path.dirname(file), config, profileName: name, profile };
}

/**
 * Lets an action input stand in for a value the profile takes from the environment: for each key of `section`
 * given a value, every variable its ${env:NAME} references names, and the environment lacks, is set to that value.
 * (An action's inputs, secrets included, then reach the config the way the CLI's environment does.)
 */
export function supplyEnvReferences(
  configFile: string,
  profileName: string | undefined,
  section: keyof ProfileConfig,
  values: Record<string, string | undefined>,
): void {
  if (!fs.existsSync(configFile)) return;
  const doc = parseDocument(fs.readFileSync(configFile, 'utf8')).toJS() as {
    defaultProfile?: string;
    profiles?: Record<string, Record<string, unknown>>;
  } | null;
  const name = profileName ?? process.env.LAKEHOUSE_PROFILE ?? doc?.defaultProfile ?? 'local';
  const settings = doc?.profiles?.[name]?.[section];
  if (!settings || typeof settings !== 'object') return;
  for (const [key, value] of Object.entries(values)) {
    const reference = (settings as Record<string, unknown>)[key];
    if (value === undefined || typeof reference !== 'string') continue;
    for (const [, variable] of reference.matchAll(ENV_REF))
      if (!process.env[variable!]) process.env[variable!] = value;
  }
}

export function findDataset(config: LakehouseConfig, name: string): DatasetConfig {
  const dataset = config.datasets.find((d) => d.name === name);
  if (!dataset)
    throw new ConfigError(
      `dataset "${name}" is not defined in lakehouse.yml (datasets: ${config.datasets.map((d) => d.name).join(', ')})`,
    );
  return dataset;
}

/** Resolves a path from the config relative to the config file's folder. */
export function configPath(resolved: ResolvedConfig, p: string): string {
  return path.resolve(resolved.root, p);
}

function describeIssue(issue: z.core.$ZodIssue, doc: Document, lines: LineCounter, where: string): string {
  const keyPath = issue.path.length ? formatPath(issue.path) : '(top level)';
  const line = lineOf(doc, lines, issue.path);
  const prefix = `${where}${line ? `:${line}` : ''}: ${keyPath}`;
  const found = 'input' in issue ? describeValue(issue.input) : 'nothing';
  switch (issue.code) {
    case 'unrecognized_keys':
      return `${prefix}: unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling; see the config reference in README.md)`;
    case 'invalid_type':
      return issue.input === undefined
        ? `${prefix}: expected ${issue.expected}, found nothing (the key is required)`
        : `${prefix}: expected ${issue.expected}, found ${found}`;
    case 'invalid_value':
      return `${prefix}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${found}`;
    case 'invalid_union': {
      // A discriminated union reports the whole object as input; the discriminator's value is what was wrong.
      const discriminator = (issue as { discriminator?: string }).discriminator;
      const options = (issue as { options?: unknown[] }).options;
      if (discriminator && options && issue.input && typeof issue.input === 'object')
        return `${prefix}: expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, found ${describeValue((issue.input as Record<string, unknown>)[discriminator])}`;
      return `${prefix}: expected ${unionExpectation(issue)}, found ${found}`;
    }
    case 'invalid_format':
      return `${prefix}: expected ${issue.message.replace(/^Invalid string: must match pattern .*$/, 'a valid value')}, found ${found}`;
    case 'too_small':
    case 'too_big':
      return `${prefix}: ${issue.message.replace(/^Too (small|big): /, 'expected ').toLowerCase()}, found ${found}`;
    default:
      return `${prefix}: ${issue.message.startsWith('expected') ? issue.message : `expected ${issue.message}`}`;
  }
}

function unionExpectation(issue: z.core.$ZodIssueInvalidUnion): string {
  const options = issue.errors
    .flat()
    .map((e) => (e.code === 'invalid_value' ? e.values.map((v) => JSON.stringify(v)).join(', ') : e.message))
    .filter((m) => m);
  return options.length ? `one of ${[...new Set(options)].join(' or ')}` : 'a valid value';
}

function formatPath(p: PropertyKey[]): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('');
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${String(v)}`;
}

function lineOf(doc: Document, lines: LineCounter, p: PropertyKey[]): number | undefined {
  for (let n = p.length; n >= 0; n--) {
    const node = doc.getIn(p.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

function rejectInlineSecrets(config: LakehouseConfig, where: string): void {
  walk(config, [], (value, keyPath) => {
    const key = String(keyPath[keyPath.length - 1]);
    const inline =
      (SECRET_KEYS.has(key) && !/^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/.test(value)) ||
      (key === 'connection' && hasInlinePassword(value));
    if (inline)
      throw new ConfigError(
        `${where}: ${formatPath(keyPath)}: expected a reference to an environment variable like \${env:NAME}, found a literal secret (secrets must come from the environment)`,
      );
  });
}

function isSecretKey(keyPath: string): boolean {
  const key = keyPath.slice(keyPath.lastIndexOf('.') + 1);
  return SECRET_KEYS.has(key) || key === 'connection';
}

function hasInlinePassword(connection: string): boolean {
  const withoutRefs = connection.replace(ENV_REF, '');
  return /(password|pwd)\s*=\s*[^;\s]/i.test(withoutRefs) || /:\/\/[^/:@]+:[^@]+@/.test(withoutRefs);
}

function resolveEnv(value: unknown, keyPath: string, where: string): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_, name: string) => {
      const env = process.env[name];
      if (env === undefined || env === '')
        throw new ConfigError(
          `${where}: ${keyPath}: environment variable ${name} is not set (expected by \${env:${name}})`,
        );
      if (isSecretKey(keyPath)) registerSecret(env);
      return env;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnv(v, `${keyPath}[${i}]`, where));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveEnv(v, `${keyPath}.${k}`, where)]),
    );
  return value;
}

function walk(value: unknown, keyPath: PropertyKey[], visit: (v: string, p: PropertyKey[]) => void): void {
  if (typeof value === 'string') visit(value, keyPath);
  else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...keyPath, i], visit));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) walk(v, [...keyPath, k], visit);
}
