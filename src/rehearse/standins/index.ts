// Third-party actions run as named stand-ins: each says what the action does on GitHub and what it does here,
// accepts the inputs the real action declares (another key fails the step, naming it), and answers through the
// same files (GITHUB_OUTPUT, GITHUB_ENV) as the real one. A `uses:` is matched by owner/repo whatever its ref (a
// tag or a 40-character SHA); one without a stand-in fails its step, naming it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { StepCall, StepDone } from '../runtime.ts';
import { downloadArtifact, uploadArtifact } from './artifacts.ts';
import { checkout } from './checkout.ts';
import { googleAuth } from './google-auth.ts';
import { setupJava, setupNode } from './setup.ts';

export interface Standin {
  /** owner/repo, as `uses:` names it before the `@`. */
  action: string;
  onGitHub: string;
  here: string;
  /** The inputs the real action.yml declares. */
  inputs: string[];
  run(call: StepCall): Promise<StepDone>;
}

export const STANDINS: Standin[] = [
  checkout,
  setupNode,
  setupJava,
  uploadArtifact,
  downloadArtifact,
  googleAuth,
];

export async function runStandin(call: StepCall, uses: string): Promise<StepDone> {
  const at = uses.lastIndexOf('@');
  const name = (at < 0 ? uses : uses.slice(0, at)).toLowerCase();
  const standin = STANDINS.find((s) => s.action === name);
  if (!standin)
    return {
      ok: false,
      reason: `${uses} has no stand-in: the rehearsal runs only ${STANDINS.map((s) => s.action).join(', ')} (see \`lakehouse rehearse --help\`)`,
    };
  const unexpected = Object.keys(call.inputs).filter((k) => !standin.inputs.includes(k));
  if (unexpected.length)
    return {
      ok: false,
      reason: `Unexpected input(s) '${unexpected.join("', '")}' for ${standin.action}: it declares ['${standin.inputs.join("', '")}']`,
    };
  call.io.log(`${standin.action} (stand-in): ${standin.here}`);
  return standin.run(call);
}

/** The stand-ins, one paragraph each, for `--help` and the README. */
export function describeStandins(): string {
  return STANDINS.map((s) => `${s.action}\n  on GitHub: ${s.onGitHub}\n  here: ${s.here}`).join('\n');
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
