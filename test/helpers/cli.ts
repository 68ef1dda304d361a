import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './services.ts';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `lakehouse` command as a user would, in its own process. */
export async function lakehouse(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [path.join(repoRoot, 'bin/lakehouse.js'), ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : 1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    };
  }
}

/** A throwaway project: the repository's lakehouse.yml with a smaller sample, in a temp folder (or `dir`). */
export async function tempProject(sampleRows = 3000, dir?: string): Promise<{ dir: string; config: string }> {
  const folder = dir ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'lakehouse-project-')));
  await fsp.mkdir(folder, { recursive: true });
  const text = fs
    .readFileSync(path.join(repoRoot, 'lakehouse.yml'), 'utf8')
    .replace(/sample: \{ rows: \d+, seed: \d+ \}/, `sample: { rows: ${sampleRows}, seed: 7 }`)
    .replace(/notebooks:\n(\s+- .*\n)+/, (block) =>
      block.replace(/- notebooks\//g, `- ${repoRoot}/notebooks/`),
    );
  const config = path.join(folder, 'lakehouse.yml');
  await fsp.writeFile(config, text);
  return { dir: folder, config };
}
