// The commit a rehearsal runs: HEAD when the working tree is clean, else a temporary commit of the working tree
// (tracked changes and untracked files that are not ignored) made through a separate index, so that neither the
// branch nor the index moves. A temporary ref keeps it reachable while the jobs clone it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RehearsedCommit } from './types.ts';

export function git(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('git', args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

export function repositoryRoot(from: string): string {
  return git(['rev-parse', '--show-toplevel'], from);
}

export function prepareCommit(repoRoot: string, runId: string): RehearsedCommit {
  const head = git(['rev-parse', 'HEAD'], repoRoot);
  const dirty = git(['status', '--porcelain', '--untracked-files=all'], repoRoot) !== '';
  const sha = dirty ? workingTreeCommit(repoRoot, head) : head;
  const ref = `refs/lakehouse-rehearse/${runId}`;
  git(['update-ref', ref, sha], repoRoot);
  const parents = git(['rev-list', '--parents', '-n', '1', sha], repoRoot).split(' ').slice(1);
  const changed = parents.length
    ? git(['diff', '--name-only', parents[0]!, sha], repoRoot).split('\n').filter(Boolean)
    : git(['ls-tree', '-r', '--name-only', sha], repoRoot).split('\n').filter(Boolean);
  return { sha, source: dirty ? 'working tree' : 'HEAD', ref, changed };
}

export function dropCommitRef(repoRoot: string, commit: RehearsedCommit): void {
  git(['update-ref', '-d', commit.ref], repoRoot);
}

function workingTreeCommit(repoRoot: string, head: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakehouse-rehearse-index-'));
  try {
    const env = { GIT_INDEX_FILE: path.join(dir, 'index') };
    git(['read-tree', head], repoRoot, env);
    git(['add', '--all', '.'], repoRoot, env);
    const tree = git(['write-tree'], repoRoot, env);
    return git(
      [
        '-c',
        'user.name=lakehouse rehearse',
        '-c',
        'user.email=rehearse@localhost',
        'commit-tree',
        tree,
        '-p',
        head,
      ],
      repoRoot,
      { ...env, GIT_AUTHOR_DATE: new Date().toISOString() },
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Clones the rehearsed commit into `target` as actions/checkout does: origin is GitHub, the branch checked out. */
export function cloneCommit(
  repoRoot: string,
  commit: RehearsedCommit,
  target: string,
  options: { repository: string; branch: string; depth: number },
): void {
  fs.mkdirSync(target, { recursive: true });
  git(['init', '--quiet', target], target);
  git(['remote', 'add', 'origin', `https://github.com/${options.repository}`], target);
  const depth = options.depth > 0 ? [`--depth=${options.depth}`] : [];
  const remoteRef = `refs/remotes/origin/${options.branch}`;
  git(
    ['fetch', '--quiet', '--no-tags', ...depth, `file://${repoRoot}`, `+${commit.ref}:${remoteRef}`],
    target,
  );
  git(['checkout', '--quiet', '--force', '-B', options.branch, remoteRef], target);
}
