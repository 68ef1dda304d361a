// Runs a bundled action as the GitHub runner does: `node actions/<name>/dist/index.js` in the workspace, each
// input as INPUT_<NAME>, outputs written to $GITHUB_OUTPUT and the job summary to $GITHUB_STEP_SUMMARY.
import { execFile, type ChildProcess } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from './services.ts';

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

export interface RunActionOptions {
  /** The action's folder under actions/. */
  action: string;
  /** The workspace: the working directory, and where the output and summary files go. */
  cwd: string;
  inputs: Record<string, string>;
  /** GITHUB_* and other variables the runner would set. */
  env?: NodeJS.ProcessEnv;
  /** Called with the running process (to signal it as a cancelled workflow would). */
  onStart?: (child: ChildProcess) => void;
}

let runs = 0;

export async function runBundledAction({
  action,
  cwd,
  inputs,
  env = {},
  onStart,
}: RunActionOptions): Promise<ActionRun> {
  const run = ++runs;
  const outputFile = path.join(cwd, `.github-output-${run}`);
  const summaryFile = path.join(cwd, `.github-summary-${run}`);
  await fsp.writeFile(outputFile, '');
  await fsp.writeFile(summaryFile, '');
  const fullEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: cwd,
    ...env,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
  };
  // The runner turns each input into INPUT_<NAME>: upper case, spaces as "_", hyphens kept.
  for (const [name, value] of Object.entries(inputs))
    fullEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const dist = path.join(repoRoot, 'actions', action, 'dist/index.js');
  // execFile is asynchronous: test servers in this process answer while the action runs.
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
    (resolve) => {
      const child = execFile(process.execPath, [dist], { cwd, env: fullEnv }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
      onStart?.(child);
    },
  );
  return {
    code,
    stdout,
    stderr,
    outputs: parseOutputs(await fsp.readFile(outputFile, 'utf8')),
    summary: await fsp.readFile(summaryFile, 'utf8'),
  };
}

/** $GITHUB_OUTPUT holds `name<<DELIMITER\nvalue\nDELIMITER` entries. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const entry = /^([^<\n]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const match of text.matchAll(entry)) outputs[match[1]!] = match[3]!;
  return outputs;
}
