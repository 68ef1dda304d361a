// action.yml and the entry agree: every input the entry reads is declared and described, every declared input is
// read, every output the entry sets is declared, and the action runs its bundle on node24.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/services.ts';

const dir = path.join(repoRoot, 'actions/ingest');
const action = parse(fs.readFileSync(path.join(dir, 'action.yml'), 'utf8')) as {
  name: string;
  description: string;
  inputs: Record<string, { description?: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description?: string }>;
  runs: { using: string; main: string };
};
// The entry's code: main.ts (run) and inputs.ts (the inputs it reads).
const main = ['main.ts', 'inputs.ts'].map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
const namesIn = (pattern: RegExp) => new Set([...main.matchAll(pattern)].map((m) => m[1]!));

describe('actions/ingest/action.yml', () => {
  it('runs the committed bundle on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(fs.existsSync(path.join(dir, action.runs.main))).toBe(true);
    expect(action.description.length).toBeGreaterThan(40);
  });

  it('declares and describes exactly the inputs the entry reads', () => {
    const read = namesIn(
      /(?:getInput\(|(?:booleanInput|wholeNumberInput|positiveInput)\(text, )'([a-z-]+)'/g,
    );
    expect(new Set(Object.keys(action.inputs))).toEqual(read);
    for (const [name, input] of Object.entries(action.inputs)) {
      expect(input.description?.trim().length, name).toBeGreaterThan(15);
      // Required inputs have no default; optional ones say what they default to.
      expect(input.required ? input.default === undefined : input.default !== undefined, name).toBe(true);
    }
    expect(
      Object.entries(action.inputs)
        .filter(([, i]) => i.required)
        .map(([n]) => n),
    ).toEqual([]);
  });

  it('declares and describes every output the entry sets', () => {
    const set = namesIn(/setOutput\(\s*'([a-z-]+)'/g);
    expect(new Set(Object.keys(action.outputs))).toEqual(set);
    for (const [name, output] of Object.entries(action.outputs))
      expect(output.description?.trim().length, name).toBeGreaterThan(15);
  });
});
