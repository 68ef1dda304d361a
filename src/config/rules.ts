// Rules the schema cannot state: no secret written in the file, and nothing written outside the project's folder
// unless the profile says so. Both read the document as written (before defaults), so that they are told together
// with the schema's mistakes.
import path from 'node:path';
import type { Mistake } from './issues.ts';

export const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE_ENV_REF = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/;
/** Keys whose values are secrets: they must come from the environment, never be written in the file. */
export const SECRET_KEYS = new Set(['password', 'token', 'clientSecret', 'apiKey', 'deployHookUrl']);

/** A secret key with a literal value, or a password written into any URL or connection string. */
export function inlineSecretMistakes(document: unknown): Mistake[] {
  const mistakes: Mistake[] = [];
  walk(document, [], (value, keyPath) => {
    const key = String(keyPath[keyPath.length - 1]);
    if (SECRET_KEYS.has(key) ? !WHOLE_ENV_REF.test(value) : hasInlinePassword(value, key === 'connection'))
      mistakes.push({
        path: keyPath,
        text: 'expected a reference to an environment variable like ${env:NAME}, found a literal secret (secrets must come from the environment)',
      });
  });
  return mistakes;
}

/**
 * A password left in the text once its ${env:NAME} references are taken out: in a URL's user info, with or without
 * a user name (`postgres://:pw@host`, `mysql://u:pw@h`), in a query string (`?password=…`), or, in a connection
 * string, as a `Password=`/`Pwd=` pair (SQL Server, ODBC).
 */
function hasInlinePassword(text: string, connection: boolean): boolean {
  const literal = text.replace(ENV_REF, '');
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:[^/?#@]+@/i.test(literal)) return true;
  if (/[?&](password|pwd|pass)=[^&#]/i.test(literal)) return true;
  return connection && /(^|;)\s*(password|pwd)\s*=\s*[^;\s]/i.test(literal);
}

/** The profile keys that name a folder the pipeline writes to. */
const WRITTEN_FOLDERS = ['bucket', 'delta', 'manifests', 'sql.path'] as const;

/**
 * Folders a profile writes to (a file:// bucket, the Delta tables, the manifests, a PGlite store) that resolve
 * outside the project's folder, unless the profile sets `allowOutsideProject: true`: a typo like `file://../data`
 * must not write into a neighbouring project.
 */
export function outsideProjectMistakes(document: unknown, projectDir: string): Mistake[] {
  const root = path.resolve(projectDir);
  const profiles = field(document, 'profiles');
  if (!profiles || typeof profiles !== 'object') return [];
  const mistakes: Mistake[] = [];
  for (const [name, profile] of Object.entries(profiles as Record<string, unknown>)) {
    if (field(profile, 'allowOutsideProject') === true) continue;
    for (const key of WRITTEN_FOLDERS) {
      const keyPath = key.split('.');
      const value = keyPath.reduce<unknown>(field, profile);
      const folder = writtenFolder(key, value, profile);
      if (folder === undefined) continue;
      const resolved = path.resolve(root, folder);
      if (resolved === root || resolved.startsWith(root + path.sep)) continue;
      mistakes.push({
        path: ['profiles', name, ...keyPath],
        text: `expected a folder inside the project (${root}), found ${JSON.stringify(value)}, which is ${resolved} (set allowOutsideProject: true on the profile to write there)`,
      });
    }
  }
  return mistakes;
}

/** The local folder a key names, or undefined (a gs:// bucket, a network SQL store, a reference to resolve). */
function writtenFolder(key: string, value: unknown, profile: unknown): string | undefined {
  if (typeof value !== 'string' || value.includes('${env:')) return undefined;
  if (key === 'bucket') return value.startsWith('file://') ? value.slice('file://'.length) : undefined;
  if (key === 'sql.path') return field(field(profile, 'sql'), 'engine') === 'pglite' ? value : undefined;
  return value;
}

function field(value: unknown, key: string): unknown {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function walk(value: unknown, keyPath: PropertyKey[], visit: (v: string, p: PropertyKey[]) => void): void {
  if (typeof value === 'string') visit(value, keyPath);
  else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...keyPath, i], visit));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) walk(v, [...keyPath, k], visit);
}
