// A throwaway copy of this repository as a user's GitHub repository would hold it (tracked and untracked
// files, nothing ignored), with its own git history: the rehearsal clones from it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateGroceries } from '../../src/generate/groceries.ts';
import { rehearse, type Rehearsal, type RehearseOptions } from '../../src/rehearse/rehearse.ts';
import type { JobReport, StepReport } from '../../src/rehearse/types.ts';
import { repoRoot } from '../helpers/services.ts';

const git = (args: string[], cwd: string) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], {
    cwd,
    encoding: 'utf8',
  });

export async function repositoryCopy(prefix: string): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  const files = git(['ls-files', '-co', '--exclude-standard', '-z'], repoRoot).split('\0').filter(Boolean);
  for (const file of files) {
    const from = path.join(repoRoot, file);
    if (!fs.existsSync(from) || fs.statSync(from).isDirectory()) continue;
    await fsp.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fsp.copyFile(from, path.join(dir, file));
  }
  git(['init', '-q', '-b', 'main'], dir);
  git(['add', '-A'], dir);
  git(['commit', '-qm', 'copy of the repository'], dir);
  return dir;
}

/** Commits every change of the working tree of `dir`, as a push would bring it. */
export function commitAll(dir: string, message: string): void {
  git(['add', '-A'], dir);
  git(['commit', '-qm', message], dir);
}

/** Grocery CSV files in data/incoming, where pipeline.yml's ingest looks by default. */
export async function addIncomingData(dir: string, rows = 3000): Promise<void> {
  await generateGroceries({
    rows,
    seed: 7,
    outDir: path.join(dir, 'data/incoming'),
    dirtyShare: 0.01,
    split: 'month',
  });
}

/** A small repository of its own: these files, committed on main. */
export async function miniRepository(files: Record<string, string>): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'rehearse-mini-'));
  for (const [file, text] of Object.entries(files)) {
    await fsp.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fsp.writeFile(path.join(dir, file), text);
  }
  git(['init', '-q', '-b', 'main'], dir);
  git(['add', '-A'], dir);
  git(['commit', '-qm', 'fixture'], dir);
  return dir;
}

const made: string[] = [];

/** Rehearses `.github/workflows/<name>` of `dir`; the run folder is removed by `removeRuns`. */
export async function rehearseIn(
  dir: string,
  name: string,
  options: Omit<RehearseOptions, 'workflow'> = { event: 'workflow_dispatch' },
): Promise<Rehearsal> {
  const result = await rehearse({ ...options, workflow: path.join(dir, '.github/workflows', name) });
  if (result.runDir) made.push(result.runDir);
  return result;
}

export async function removeRuns(...dirs: string[]): Promise<void> {
  for (const dir of [...made.splice(0), ...dirs]) await fsp.rm(dir, { recursive: true, force: true });
}

export function job(result: Rehearsal, id: string): JobReport {
  const found = result.jobs.find((j) => j.id === id);
  if (!found) throw new Error(`no job ${id} in ${result.jobs.map((j) => j.id).join(', ')}`);
  return found;
}

export function step(report: JobReport, label: string): StepReport {
  const found = report.steps.find((s) => s.label === label || s.id === label);
  if (!found) throw new Error(`no step ${label} in ${report.steps.map((s) => s.label).join(', ')}`);
  return found;
}

/** actions/checkout pinned by a full commit SHA, as a pinned workflow names it. */
export const CHECKOUT = 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2';
