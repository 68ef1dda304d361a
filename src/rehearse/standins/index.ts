// Third-party actions run as named stand-ins: each says what the action does on GitHub and what it does here,
// accepts the inputs the real action declares (another key fails the step, naming it), and answers through the
// same files (GITHUB_OUTPUT, GITHUB_ENV) as the real one. A `uses:` is matched by owner/repo whatever its ref (a
// tag or a 40-character SHA); one without a stand-in fails its step, naming it.
import type { StepCall, StepDone } from '../runtime.ts';
import { downloadArtifact, uploadArtifact } from './artifacts.ts';
import { checkout } from './checkout.ts';
import { googleAuth } from './google-auth.ts';
import type { Standin } from './io.ts';
import { setupJava, setupNode } from './setup.ts';

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
