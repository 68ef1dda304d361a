// Runs an action's run() in this process, as `npx @github/local-action` does: each input as INPUT_<NAME>, outputs
// in a $GITHUB_OUTPUT file, the job summary in a $GITHUB_STEP_SUMMARY file. The environment and the exit code are
// restored afterwards.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { parseOutputs } from '../helpers/github-action.ts';

export interface InProcessRun {
  failed: boolean;
  /** What the action wrote to stdout: its log and workflow commands (::error::, ::add-mask::). */
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
}

let runs = 0;

/**
 * `dir` holds the output and summary files. @actions/core keeps the first summary file it is given, so a test file
 * passes the same `dir` to every run.
 */
export async function runInProcess(
  run: () => Promise<void>,
  dir: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<InProcessRun> {
  const outputFile = path.join(dir, `.github-output-${++runs}`);
  const summaryFile = path.join(dir, '.github-summary');
  await fsp.writeFile(outputFile, '');
  await fsp.writeFile(summaryFile, '');
  const variables: Record<string, string> = {
    ...env,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
  };
  for (const [name, value] of Object.entries(inputs))
    variables[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const saved = Object.fromEntries(Object.keys(variables).map((k) => [k, process.env[k]]));
  Object.assign(process.env, variables);
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    await run();
    return {
      failed: process.exitCode === 1,
      stdout,
      outputs: parseOutputs(await fsp.readFile(outputFile, 'utf8')),
      summary: await fsp.readFile(summaryFile, 'utf8'),
    };
  } finally {
    process.stdout.write = write;
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    process.exitCode = undefined;
  }
}
