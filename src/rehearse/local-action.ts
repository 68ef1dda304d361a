// One of our actions (`uses: ./actions/<name>`), run from the checked-out workspace as the runner's node handler
// runs a JavaScript action: action.yml read with GitHub's action parser, each input as INPUT_<NAME> (upper case,
// spaces as `_`), defaults from action.yml, `node <main>` in the workspace, its exit code, and `runs.post` as a
// post step (a local action's `pre` is not run: the runner cannot run it before the checkout that brings it).
// Stricter than the runner where a mistake would only surface later: an input the action does not declare (the
// runner warns "Unexpected input(s)") and a required input left empty fail the step, naming the input.
import fs from 'node:fs';
import path from 'node:path';
import { NoOperationTraceWriter } from '@actions/workflow-parser';
import {
  convertActionTemplate,
  parseAction,
  type ActionRunsNode,
  type ActionTemplate,
} from '@actions/workflow-parser/actions/index';
import { evaluateText } from './expressions.ts';
import { runProcess } from './process.ts';
import { processDone } from './run-step.ts';
import { stepScope, type StepCall, type StepDone } from './runtime.ts';

export async function runLocalAction(call: StepCall, uses: string): Promise<StepDone> {
  const { runtime: rt, io } = call;
  const dir = path.resolve(rt.place.workspace, uses);
  const manifest = ['action.yml', 'action.yaml'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!manifest)
    return {
      ok: false,
      reason: `Can't find 'action.yml', 'action.yaml' or 'Dockerfile' under '${dir}'. Did you forget to run actions/checkout before running your local action?`,
    };
  const action = readAction(manifest, rt.place.workspace);
  const runs = action.runs;
  if (!runs.using.startsWith('node'))
    return { ok: false, reason: `${uses}: runs.using ${runs.using} is not rehearsed (node actions only)` };
  const node = runs as ActionRunsNode;
  const inputs = actionInputs(call, action, uses);
  const env = { ...call.env, ...inputEnvironment(inputs), GITHUB_ACTION_PATH: dir };
  const local = process.versions.node.split('.')[0];
  if (`node${local}` !== node.using)
    io.log(`${uses} declares ${node.using}; it runs here on the local Node ${process.versions.node}`);
  const done = processDone(
    await runProcess({
      file: process.execPath,
      args: [path.join(dir, node.main)],
      cwd: rt.place.workspace,
      env,
      timeoutMs: Number.isFinite(call.timeoutMs) ? call.timeoutMs : undefined,
      onLine: io.onLine,
    }),
    io,
    call,
  );
  if (!node.post) return done;
  const post = node.post;
  return {
    ...done,
    post: {
      label: `Post ${call.step.label}`,
      condition: node.postIf ?? 'always()',
      state: {},
      run: async (postCall) =>
        processDone(
          await runProcess({
            file: process.execPath,
            args: [path.join(dir, post)],
            cwd: rt.place.workspace,
            env: { ...postCall.env, ...inputEnvironment(inputs) },
            onLine: postCall.io.onLine,
          }),
          postCall.io,
          postCall,
        ),
    },
  };
}

export class ActionInputError extends Error {}

function readAction(file: string, workspace: string): ActionTemplate {
  const name = path.relative(workspace, file);
  const parsed = parseAction({ name, content: fs.readFileSync(file, 'utf8') }, new NoOperationTraceWriter());
  const error = parsed.context.errors.getErrors()[0];
  if (error || !parsed.value) throw new ActionInputError(error?.message ?? `${name}: not an action`);
  return convertActionTemplate(parsed.context, parsed.value);
}

/** Given inputs and action.yml's defaults, checked against what the action declares. */
function actionInputs(call: StepCall, action: ActionTemplate, uses: string): Record<string, string> {
  const declared = action.inputs ?? [];
  const names = new Set(declared.map((i) => i.id.toLowerCase()));
  const unexpected = Object.keys(call.inputs).filter((k) => !names.has(k.toLowerCase()));
  if (unexpected.length)
    throw new ActionInputError(
      `Unexpected input(s) '${unexpected.join("', '")}' for ${uses}: its action.yml declares ['${declared.map((i) => i.id).join("', '")}'] (GitHub only warns, and the value is lost)`,
    );
  const scope = stepScope(call.runtime, call.env);
  const inputs: Record<string, string> = {};
  for (const input of declared) {
    const given = Object.entries(call.inputs).find(([k]) => k.toLowerCase() === input.id.toLowerCase());
    let value = given?.[1];
    if (value === undefined && input.default) {
      value = evaluateText(input.default, scope, `${uses} input ${input.id} default`);
      value = call.runtime.run.standins.inputDefaults[value] ?? value;
    }
    if (input.required && !value)
      throw new ActionInputError(
        `Input required and not supplied: ${input.id} (${uses} declares it required${given ? '; the workflow gives it an empty value' : ''})`,
      );
    inputs[input.id] = value ?? '';
  }
  return inputs;
}

/** INPUT_<NAME>: the name upper-cased, spaces as `_` (hyphens kept), as the runner names them. */
export function inputEnvironment(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]),
  );
}
