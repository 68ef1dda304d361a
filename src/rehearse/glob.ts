// File patterns as @actions/glob reads them, which both hashFiles() and actions/upload-artifact use: one pattern
// a line (`#` comments, `!` excludes), relative to the working folder; each pattern's search path is its part
// before the first wildcard segment, and a search path under another is dropped; a pattern also matches what is
// below a folder it matches (implicit descendants); hidden files and folders (a name starting with `.`) are
// passed over where asked, the search path itself included.
import fs from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';

interface Pattern {
  negate: boolean;
  /** Absolute pattern. */
  pattern: string;
  searchPath: string;
}

export interface GlobResult {
  /** Absolute paths of the files matched, in walk order (folders first by name, as readdir gives them sorted). */
  files: string[];
  /** The search paths, as @actions/glob's getSearchPaths gives them. */
  searchPaths: string[];
}

export function parsePatterns(text: string, cwd: string): Pattern[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const body = negate ? line.slice(1).trim() : line;
      const pattern = path.resolve(cwd, body.replace(/^~(?=\/|$)/, process.env.HOME ?? '~'));
      const segments = pattern.split(path.sep);
      const literal = segments.findIndex((s) => /[*?[\]]/.test(s));
      const searchPath = literal < 0 ? pattern : segments.slice(0, literal).join(path.sep) || path.sep;
      return { negate, pattern, searchPath };
    });
}

/** The search paths of the patterns that include, without those that lie under another. */
export function searchPaths(patterns: Pattern[]): string[] {
  const candidates = [...new Set(patterns.filter((p) => !p.negate).map((p) => p.searchPath))];
  return candidates.filter(
    (candidate) => !candidates.some((other) => other !== candidate && isUnder(candidate, other)),
  );
}

export function globFiles(text: string, cwd: string, options: { excludeHidden?: boolean } = {}): GlobResult {
  const patterns = parsePatterns(text, cwd);
  const matchers = patterns.map((p) => ({
    negate: p.negate,
    // Implicit descendants: `dir` also matches `dir/**`.
    test: picomatch([p.pattern, `${p.pattern.replace(/\/+$/, '')}/**`], { dot: true, nobrace: true }),
  }));
  const matches = (file: string) =>
    matchers.reduce((matched, m) => (m.test(file) ? !m.negate : matched), false);
  const roots = searchPaths(patterns);
  const files: string[] = [];
  const seen = new Set<string>();
  const visit = (item: string) => {
    if (options.excludeHidden && path.basename(item).startsWith('.')) return;
    const stats = fs.statSync(item, { throwIfNoEntry: false });
    if (!stats) return;
    if (stats.isDirectory()) {
      for (const name of fs.readdirSync(item).sort()) visit(path.join(item, name));
    } else if (matches(item) && !seen.has(item)) {
      seen.add(item);
      files.push(item);
    }
  };
  for (const root of roots) visit(root);
  return { files, searchPaths: roots };
}

export function isUnder(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}
