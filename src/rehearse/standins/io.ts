// What every stand-in shares: its description, and answering the runner as @actions/core does (outputs and
// variables as `name<<delimiter` blocks in the step's files), reading boolean inputs as it does, failing with
// an ::error::.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { StepCall, StepDone } from '../runtime.ts';

export interface Standin {
  /** owner/repo, as `uses:` names it before the `@`. */
  action: string;
  onGitHub: string;
  here: string;
  /** The inputs the real action.yml declares. */
  inputs: string[];
  run(call: StepCall): Promise<StepDone>;
}

/** As @actions/core writes an output or a variable: a `name<<delimiter` block in the step's file. */
export function writeFileCommand(file: string, name: string, value: string): void {
  const delimiter = `ghadelimiter_${crypto.randomUUID()}`;
  fs.appendFileSync(file, `${name}<<${delimiter}\n${value}\n${delimiter}\n`);
}

export function setOutput(call: StepCall, name: string, value: string): void {
  writeFileCommand(call.io.files.GITHUB_OUTPUT, name, value);
}

export function exportVariable(call: StepCall, name: string, value: string): void {
  writeFileCommand(call.io.files.GITHUB_ENV, name, value);
}

/** An input as a boolean, as @actions/core's getBooleanInput reads it. */
export function booleanInput(call: StepCall, name: string, fallback: boolean): boolean {
  const value = (call.inputs[name] ?? '').trim();
  if (value === '') return fallback;
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new Error(
    `Input does not meet YAML 1.2 "Core Schema" specification: ${name}\nSupport boolean input list: \`true | True | TRUE | false | False | FALSE\``,
  );
}

export function failed(call: StepCall, reason: string): StepDone {
  call.io.error(reason);
  return { ok: false, reason };
}

/** A success that leaves a post step doing `cleanup` (under always(), as the real actions' posts). */
export function succeededWithCleanup(call: StepCall, cleanup: () => void): StepDone {
  return {
    ok: true,
    post: {
      label: `Post ${call.step.label}`,
      condition: 'always()',
      state: {},
      run: async () => {
        cleanup();
        return { ok: true };
      },
    },
  };
}
