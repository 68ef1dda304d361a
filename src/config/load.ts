// src/config/ holds lakehouse.yml: its schema (schema.ts), loading and profiles (this file), the rules the schema
// cannot state (rules.ts) and how every mistake is told, all at once (issues.ts).
//
// Loading lakehouse.yml: YAML → schema validation → the chosen profile with ${env:NAME} resolved.
// Every mistake becomes one line naming the file, the line, the key path, what was expected and what was found.
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { registerSecret } from '../util/secrets.ts';
import { ConfigError, configError, describeIssue, type Mistake } from './issues.ts';
import { ENV_REF, inlineSecretMistakes, outsideProjectMistakes, SECRET_KEYS } from './rules.ts';
import { configSchema, type DatasetConfig, type LakehouseConfig, type ProfileConfig } from './schema.ts';

export { ConfigError } from './issues.ts';

export interface ResolvedConfig {
  /** Absolute path of lakehouse.yml; relative paths in it are relative to its folder. */
  file: string;
  root: string;
  config: LakehouseConfig;
  profileName: string;
  profile: ProfileConfig;
}

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
  const root = path.dirname(file);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors[0]) throw syntaxError(doc.errors[0], lines, where);
  const source = { where, doc, lines };
  const written = doc.toJS() ?? {};
  const result = configSchema.safeParse(written, { reportInput: true });
  const mistakes = [
    ...(result.success ? [] : result.error.issues.map(describeIssue)),
    ...inlineSecretMistakes(written),
    ...outsideProjectMistakes(written, root),
  ];
  const name = profileName ?? process.env.LAKEHOUSE_PROFILE ?? result.data?.defaultProfile ?? 'local';
  const profiles = (written as { profiles?: Record<string, unknown> }).profiles;
  const rawProfile = result.data?.profiles[name];
  if (profiles && typeof profiles === 'object' && !(name in profiles))
    mistakes.push({
      path: ['profiles', name],
      text: `expected a profile named "${name}", found only ${Object.keys(profiles).join(', ')}`,
      unlocated: true,
    });
  const profile = rawProfile && resolveProfile(rawProfile, name, options, mistakes);
  if (mistakes.length || !result.success || !profile) throw configError(source, mistakes);
  return { file, root, config: result.data, profileName: name, profile };
}

/** The profile with ${env:NAME} resolved in the sections asked for; each unset variable is a mistake. */
function resolveProfile(
  raw: ProfileConfig,
  name: string,
  options: LoadOptions,
  mistakes: Mistake[],
): ProfileConfig {
  const resolved = (key: keyof ProfileConfig) =>
    options.resolve ? options.resolve.includes(key) : !RESOLVED_ON_REQUEST.includes(key);
  return Object.fromEntries(
    Object.entries(raw).map(([key, value]) => [
      key,
      resolved(key as keyof ProfileConfig) ? resolveEnv(value, ['profiles', name, key], mistakes) : value,
    ]),
  ) as ProfileConfig;
}

/** The first YAML syntax error, with its line and column: the ones after it are mostly its consequences. */
function syntaxError(error: YAMLError, lines: LineCounter, where: string): ConfigError {
  const pos = lines.linePos(error.pos[0]);
  return new ConfigError(`${where}:${pos.line}:${pos.col}: invalid YAML: ${error.message.split('\n')[0]}`);
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

function isSecretKey(keyPath: readonly PropertyKey[]): boolean {
  const key = String(keyPath[keyPath.length - 1]);
  return SECRET_KEYS.has(key) || key === 'connection';
}

function resolveEnv(value: unknown, keyPath: PropertyKey[], mistakes: Mistake[]): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (reference, name: string) => {
      const env = process.env[name];
      if (env === undefined || env === '') {
        mistakes.push({
          path: keyPath,
          text: `environment variable ${name} is not set (expected by \${env:${name}})`,
        });
        return reference;
      }
      if (isSecretKey(keyPath)) registerSecret(env);
      return env;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnv(v, [...keyPath, i], mistakes));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveEnv(v, [...keyPath, k], mistakes)]),
    );
  return value;
}
