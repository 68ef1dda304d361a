// A `run:` step: the script is written to a file in RUNNER_TEMP and run by the shell the runner uses (default
// `bash --noprofile --norc -eo pipefail {0}`), in the working directory (default the workspace), with the
// step's environment. Shells as `defaults.run` or the step's `shell:` name them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isMapping } from '@actions/workflow-parser';
import type { MappingToken, TemplateToken } from '@actions/workflow-parser/templates/tokens/index';
import { evaluateText } from './expressions.ts';
import { runProcess, type ProcessOutcome } from './process.ts';
import { stepScope, type StepCall, type StepDone } from './runtime.ts';
import type { StepIo } from './step-io.ts';
import { child } from './workflow.ts';

const SHELLS: Record<string, string> = {
  bash: 'bash --noprofile --norc -eo pipefail {0}',
  sh: 'sh -e {0}',
  python: 'python3 {0}',
  pwsh: 'pwsh -command ". \'{0}\'"',
};

export async function runScript(call: StepCall): Promise<StepDone> {
  const { runtime: rt, step, io } = call;
  const scope = stepScope(rt, call.env);
  const script = 'run' in step.model ? evaluateText(step.model.run, scope, 'run') : '';
  const defaults = defaultsRun(rt.job.raw) ?? defaultsRun(rt.run.workflow.root);
  const shellToken = child(step.raw, 'shell') ?? defaults?.shell;
  const shell = shellToken ? evaluateText(shellToken, scope, 'shell') : 'bash';
  const dirToken = child(step.raw, 'working-directory') ?? defaults?.dir;
  const cwd = path.resolve(
    rt.place.workspace,
    dirToken ? evaluateText(dirToken, scope, 'working-directory') : '.',
  );
  if (!fs.existsSync(cwd))
    return {
      ok: false,
      reason: `An error occurred trying to start process: working directory '${cwd}' is invalid`,
    };
  const template = SHELLS[shell] ?? (shell.includes('{0}') ? shell : `${shell} {0}`);
  const file = path.join(rt.place.temp, `${crypto.randomUUID()}.sh`);
  fs.writeFileSync(file, script);
  const [program, ...args] = template.split(' ').map((part) => part.replace('{0}', file));
  io.log(`Run ${script.trim().split('\n')[0]}`);
  io.log(`shell: ${template}`);
  const outcome = await runProcess({
    file: program!,
    args,
    cwd,
    env: call.env,
    timeoutMs: Number.isFinite(call.timeoutMs) ? call.timeoutMs : undefined,
    onLine: io.onLine,
  });
  return processDone(outcome, io, call);
}

/** The step's result from its process, with the reason the runner gives. */
export function processDone(outcome: ProcessOutcome, io: StepIo, call: StepCall): StepDone {
  if (outcome.timedOut) {
    const minutes = +(call.timeoutMs / 60_000).toFixed(2);
    const reason = `The action '${call.step?.label ?? 'post'}' has timed out after ${minutes} minutes.`;
    io.error(reason);
    return { ok: false, timedOut: true, reason };
  }
  if (outcome.code === 0) return { ok: true };
  const errors = io.annotations.filter((a) => a.level === 'error').map((a) => a.message);
  const exit = `Process completed with exit code ${outcome.code ?? 'null (killed by a signal)'}.`;
  return { ok: false, reason: errors.length ? errors.join('\n') : exit };
}

function defaultsRun(mapping: MappingToken): { shell?: TemplateToken; dir?: TemplateToken } | undefined {
  const defaults = child(mapping, 'defaults');
  const run = defaults && isMapping(defaults) ? defaults.find('run') : undefined;
  if (!run || !isMapping(run)) return undefined;
  return { shell: run.find('shell'), dir: run.find('working-directory') };
}
