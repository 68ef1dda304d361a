// Steps that use actions: one of ours run as the runner's node handler runs it (INPUT_*, defaults, required and
// undeclared inputs, GITHUB_STATE and the post step, masking, ::error::), the artifact stand-ins with
// upload-artifact's path rules, a third-party action without a stand-in, and the triggers' filters.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactRoot } from '../../src/rehearse/standins/artifacts.ts';
import { globFiles } from '../../src/rehearse/glob.ts';
import { decideTrigger, matchesFilter, TriggerError } from '../../src/rehearse/triggers.ts';
import { CHECKOUT, job, miniRepository, rehearseIn, removeRuns, step } from './helpers.ts';

const ACTION_YML = `
name: greet
description: test action
inputs:
  who:
    description: whom
    required: true
  greeting text:
    description: an input with a space
    default: Hello
  token:
    description: defaults to the job token
    default: \${{ github.token }}
outputs:
  line:
    description: what it said
runs:
  using: node24
  main: main.mjs
  post: post.mjs
`;

const MAIN = `
import fs from 'node:fs';
const line = process.env['INPUT_GREETING_TEXT'] + ', ' + process.env.INPUT_WHO;
console.log('::add-mask::' + process.env.INPUT_WHO);
console.log('saying ' + line);
fs.appendFileSync(process.env.GITHUB_OUTPUT, 'line=' + line + '\\n');
fs.appendFileSync(process.env.GITHUB_OUTPUT, 'token-set=' + (process.env.INPUT_TOKEN.length > 10) + '\\n');
fs.appendFileSync(process.env.GITHUB_STATE, 'said=' + line + '\\n');
fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, '### greeted\\n');
if (process.env.INPUT_WHO === 'nobody') { console.log('::error::nobody to greet'); process.exitCode = 1; }
`;

const POST = `
import fs from 'node:fs';
fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, 'post saw ' + (process.env.STATE_said ?? 'nothing'));
`;

const wf = (steps: string, extra = '') => `
name: actions
on: workflow_dispatch
jobs:
  main:
    runs-on: ubuntu-latest
    outputs:
      line: \${{ steps.greet.outputs.line }}
      token-set: \${{ steps.greet.outputs.token-set }}
    steps:
      - uses: ${CHECKOUT}
${steps}
${extra}`;

const GREET = `      - id: greet
        uses: ./actions/greet
        with:
          who: world`;

const ARTIFACTS = `
name: artifacts
on: workflow_dispatch
jobs:
  make:
    runs-on: ubuntu-latest
    steps:
      - uses: ${CHECKOUT}
      - run: |
          mkdir -p out/a out/b/c .hidden
          echo 1 > out/a/one.txt; echo 2 > out/b/c/two.txt; echo 3 > out/single.json; echo 4 > .hidden/h.txt
          echo 5 > out/.dotfile
      - uses: actions/upload-artifact@v4
        with:
          name: several
          path: |
            out/a/
            out/b/c/*.txt
      - uses: actions/upload-artifact@v4
        with:
          name: one-file
          path: out/single.json
      - uses: actions/upload-artifact@v4
        with:
          name: folder
          path: out
      - uses: actions/upload-artifact@v4
        with:
          name: hidden
          path: .hidden
          if-no-files-found: warn
  use:
    needs: make
    runs-on: ubuntu-latest
    outputs:
      files: \${{ steps.list.outputs.files }}
    steps:
      - uses: actions/download-artifact@v4
        with:
          name: several
          path: got/several
      - uses: actions/download-artifact@v4
        with:
          name: one-file
          path: got
      - id: list
        run: echo "files=$(cd got && find . -type f | sort | tr '\\n' ' ')" >> "$GITHUB_OUTPUT"
      - uses: actions/download-artifact@v4
        with:
          name: no-such-artifact
  unrelated:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@v4
        with:
          name: several
`;

let dir: string;

beforeAll(async () => {
  dir = await miniRepository({
    'actions/greet/action.yml': ACTION_YML,
    'actions/greet/main.mjs': MAIN,
    'actions/greet/post.mjs': POST,
    '.github/workflows/ok.yml': wf(GREET),
    '.github/workflows/nobody.yml': wf(GREET.replace('who: world', 'who: nobody')),
    '.github/workflows/undeclared.yml': wf(`${GREET}\n          colour: blue`),
    '.github/workflows/required.yml': wf(GREET.replace('who: world', "who: ''")),
    '.github/workflows/before-checkout.yml': wf('').replace(`      - uses: ${CHECKOUT}\n`, `${GREET}\n`),
    '.github/workflows/unknown.yml': wf(
      '      - uses: acme/deploy-anything@v3\n        with:\n          target: prod',
    ),
    '.github/workflows/artifacts.yml': ARTIFACTS,
  });
});
afterAll(() => removeRuns(dir));

describe('our actions, run from the workspace as the node handler runs them', () => {
  it('passes inputs as INPUT_*, with defaults and expressions, and runs the post step with the state', async () => {
    const result = await rehearseIn(dir, 'ok.yml');
    expect(result.state, JSON.stringify(result.firstFailure)).toBe('success');
    const main = job(result, 'main');
    // The action masked `who`: an output that shows it is left out, as GitHub leaves it out.
    expect(main.outputs).toEqual({ 'token-set': 'true' });
    expect(main.notes).toContain('output line left out: it may contain a secret (as GitHub skips it)');
    const greet = step(main, 'greet');
    expect(greet.summary).toBe('### greeted\n');
    expect(fs.readFileSync(greet.logFile!, 'utf8')).toContain('saying Hello, ***');
    // The checkout is pinned by a 40-character SHA (its comment is YAML's): its stand-in runs all the same.
    const checkout = CHECKOUT.split(' ')[0]!;
    expect(main.steps.map((s) => s.label)).toEqual([
      checkout,
      './actions/greet',
      'Post ./actions/greet',
      `Post ${checkout}`,
    ]);
    expect(main.steps.every((s) => s.state === 'success')).toBe(true);
    expect(step(main, 'Post ./actions/greet').summary).toBe('post saw Hello, ***');
    expect(fs.existsSync(path.join(result.runDir!, 'jobs/main'))).toBe(false);
  });

  it('fails the step with the ::error:: the action reports, masked', async () => {
    const result = await rehearseIn(dir, 'nobody.yml');
    expect(result.firstFailure).toEqual({ job: 'main', step: './actions/greet', reason: '*** to greet' });
  });

  it('fails a step that gives an input the action does not declare, or leaves a required one empty', async () => {
    const undeclared = await rehearseIn(dir, 'undeclared.yml');
    expect(undeclared.firstFailure?.step).toBe('./actions/greet');
    expect(undeclared.firstFailure?.reason).toMatch(/^Unexpected input\(s\) 'colour' for \.\/actions\/greet/);
    const required = await rehearseIn(dir, 'required.yml');
    expect(required.firstFailure?.reason).toMatch(/^Input required and not supplied: who \(/);
  });

  it('cannot find a local action before the checkout that brings it', async () => {
    const result = await rehearseIn(dir, 'before-checkout.yml');
    expect(result.firstFailure?.reason).toMatch(
      /Did you forget to run actions\/checkout before running your local action\?$/,
    );
  });

  it('names a third-party action that has no stand-in', async () => {
    const result = await rehearseIn(dir, 'unknown.yml');
    expect(result.firstFailure).toMatchObject({ job: 'main', step: 'acme/deploy-anything@v3' });
    expect(result.firstFailure?.reason).toMatch(
      /^acme\/deploy-anything@v3 has no stand-in: the rehearsal runs only actions\/checkout, /,
    );
  });
});

describe('artifacts', () => {
  it('stores files relative to upload-artifact’s root, extracts them into path, and names a missing one', async () => {
    const result = await rehearseIn(dir, 'artifacts.yml');
    const stored = Object.fromEntries(result.artifacts.map((a) => [a.name, a.files]));
    expect(stored).toEqual({
      // Two search paths: their least common ancestor (out) is the root.
      several: ['a/one.txt', 'b/c/two.txt'],
      // One file given by its path: stored under its own name.
      'one-file': ['single.json'],
      // A folder: its files relative to it, hidden ones left out.
      folder: ['a/one.txt', 'b/c/two.txt', 'single.json'],
    });
    expect(step(job(result, 'make'), 'actions/upload-artifact@v4').state).toBe('success');
    const use = job(result, 'use');
    expect(use.outputs.files).toBe('./several/a/one.txt ./several/b/c/two.txt ./single.json ');
    expect(use.state).toBe('failure');
    expect(use.steps.find((s) => s.state === 'failure')?.reason).toMatch(
      /^Unable to download artifact\(s\): Artifact not found for name: no-such-artifact\n/,
    );
    // A job that does not need the uploader may run before it on GitHub: the artifact is not there for it.
    expect(job(result, 'unrelated').steps.find((s) => s.state === 'failure')?.reason).toMatch(
      /job make uploads it, but job unrelated does not need make/,
    );
  });

  it('follows upload-artifact’s search rules', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'glob-'));
    for (const f of ['x/a.txt', 'x/y/b.txt', 'x/.h/c.txt', 'z/d.txt']) {
      fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      fs.writeFileSync(path.join(root, f), f);
    }
    const found = globFiles('x/**/*.txt\n!x/y/**', root, { excludeHidden: true });
    expect(found.files.map((f) => path.relative(root, f))).toEqual(['x/a.txt']);
    expect(found.searchPaths).toEqual([path.join(root, 'x')]);
    const two = globFiles('x/y/b.txt\nz/d.txt', root);
    expect(artifactRoot(two.files, two.searchPaths)).toBe(root);
    const one = globFiles('x/y/b.txt', root);
    expect(artifactRoot(one.files, one.searchPaths)).toBe(path.join(root, 'x/y'));
    fs.rmSync(root, { recursive: true, force: true });
  });
});

describe('triggers', () => {
  const events = {
    push: { branches: ['main', 'release/*'], paths: ['data/incoming/**', '!data/incoming/**/*.md'] },
    workflow_dispatch: {
      inputs: {
        n: { type: 'number' as never, default: 1 },
        mode: { type: 'choice' as never, options: ['a', 'b'], required: true },
      },
    },
  };
  const push = (branch: string, changed: string[]) =>
    decideTrigger(events, { event: 'push', branch, changed, inputs: {} });

  it('decides a push by its branch and the paths it changed', () => {
    expect(push('main', ['data/incoming/a.csv']).runs).toBe(true);
    expect(push('release/1', ['data/incoming/x/a.csv']).runs).toBe(true);
    expect(push('release/1/x', ['data/incoming/a.csv']).reason).toBe(
      'branch release/1/x is not in push.branches [main, release/*]',
    );
    expect(push('main', ['app/x.ts', 'data/incoming/README.md']).runs).toBe(false);
    expect(matchesFilter(['**', '!docs/**'], 'docs/a.md')).toBe(false);
  });

  it('types dispatch inputs and refuses what GitHub refuses', () => {
    const dispatch = (inputs: Record<string, string>) =>
      decideTrigger(events, { event: 'workflow_dispatch', branch: 'main', changed: [], inputs });
    expect(dispatch({ mode: 'b' }).inputs).toEqual({ n: 1, mode: 'b' });
    expect(() => dispatch({ mode: 'c' })).toThrow('input mode: expected one of a, b, found "c"');
    expect(() => dispatch({})).toThrow("Required input 'mode' not provided");
    expect(() => dispatch({ mode: 'a', extra: '1' })).toThrow(TriggerError);
    expect(decideTrigger(events, { event: 'schedule', branch: 'main', changed: [], inputs: {} }).runs).toBe(
      false,
    );
  });
});
