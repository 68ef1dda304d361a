// pipeline.yml as a reusable workflow, called from another repository: the README's example caller
// (examples/caller-workflow.yml, which the README shows verbatim) in a repository of its own (its lakehouse.yml,
// notebooks and incoming files, no actions), rehearsed on workflow_dispatch. Its `uses:
// <owner>/<repo>/.github/workflows/pipeline.yml@v1` is read from a copy of this repository, and the called jobs'
// checkout of <owner>/<repo> (the lakehouse actions) clones that copy. It ends with gold tables, and the caller
// job's outputs (from on.workflow_call.outputs) reach the job that needs it. Calls the called workflow refuses
// fail naming the caller job and the reason.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDeltaTable } from '../../src/delta/index.ts';
import type { Rehearsal } from '../../src/rehearse/rehearse.ts';
import { needsPostgres, repoRoot } from '../helpers/services.ts';
import {
  addIncomingData,
  commitAll,
  job,
  miniRepository,
  rehearseIn,
  removeRuns,
  repositoryCopy,
  step,
} from './helpers.ts';

const example = fs.readFileSync(path.join(repoRoot, 'examples/caller-workflow.yml'), 'utf8');
let lakehouse: string;
let caller: string;

/** A copy of the example caller with one change, beside it in the caller's working tree. */
function mutate(name: string, from: string, to: string): string {
  const text = example.replace(from, to);
  if (text === example) throw new Error(`mutation ${name}: ${from} not found in the example`);
  fs.writeFileSync(path.join(caller, '.github/workflows', `${name}.yml`), text);
  return `${name}.yml`;
}

beforeAll(async () => {
  lakehouse = await repositoryCopy('rehearse-called-');
  const files: Record<string, string> = {
    'lakehouse.yml': fs.readFileSync(path.join(repoRoot, 'lakehouse.yml'), 'utf8'),
    '.github/workflows/lakehouse.yml': example,
  };
  for (const notebook of fs.readdirSync(path.join(repoRoot, 'notebooks')))
    files[`notebooks/${notebook}`] = fs.readFileSync(path.join(repoRoot, 'notebooks', notebook), 'utf8');
  caller = await miniRepository(files);
  await addIncomingData(caller);
  commitAll(caller, 'grocery files in data/incoming');
});
afterAll(() => removeRuns(lakehouse, caller));

const states = (result: Rehearsal) => result.jobs.map((j) => `${j.id}:${j.state}`);
const GOLD = ['silver.transactions', 'gold.sales_monthly', 'gold.association_rules'];

describe('the example caller of the reusable pipeline', () => {
  it('is in the README verbatim', () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    expect(readme).toContain('```yaml\n' + example + '```\n');
  });

  it('runs the whole pipeline on its own repository and ends with gold tables', async () => {
    if (!(await needsPostgres())) return;
    const result = await rehearseIn(caller, 'lakehouse.yml', {
      event: 'workflow_dispatch',
      calledRepository: lakehouse,
    });
    expect(result.state, JSON.stringify(result.firstFailure)).toBe('success');
    expect(states(result)).toEqual([
      'pipeline:success',
      'pipeline/ingest:success',
      'pipeline/load:success',
      'pipeline/transform:success',
      'report:success',
    ]);
    // The remote reference is read from the copy of this repository, and the output says so.
    expect(job(result, 'pipeline').notes.join('\n')).toContain(
      `calls <owner>/<repo>/.github/workflows/pipeline.yml@v1: the rehearsal has no other repository, so <owner>/<repo> is the repository at ${lakehouse}`,
    );
    // The caller's own incoming files, uploaded and loaded by the actions checked out from <owner>/<repo>.
    expect(job(result, 'pipeline/ingest').outputs.uploaded).toBe('24');
    const load = job(result, 'pipeline/load');
    expect(step(load, './.lakehouse-actions/actions/load').state).toBe('success');
    expect(load.outputs).toMatchObject({ changed: 'true', 'objects-loaded': '24' });
    // on.workflow_call.outputs, as needs.pipeline.outputs of the caller's next job.
    expect(job(result, 'pipeline').outputs).toEqual({
      uploaded: '24',
      changed: 'true',
      'objects-loaded': '24',
      'rows-loaded': load.outputs['rows-loaded'],
    });
    const counts = await Promise.all(
      GOLD.map(async (t) => {
        const snapshot = await openDeltaTable(path.join(result.deltaRoot!, ...t.split('.'))).snapshot();
        return snapshot.scan().reduce((n, f) => n + (f.numRecords ?? 0), 0);
      }),
    );
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBe(24);
    expect(counts[2]).toBeGreaterThan(0);
  });

  it('with secrets: inherit and typed inputs: a dry run of the ingest only', async () => {
    const name = mutate(
      'inherit',
      'secrets:\n      SQLSERVER_CONNECTION_STRING: ${{ secrets.SQLSERVER_CONNECTION_STRING }}\n      DATABRICKS_TOKEN: ${{ secrets.DATABRICKS_TOKEN }}\n',
      'secrets: inherit\n',
    );
    fs.writeFileSync(
      path.join(caller, '.github/workflows', name),
      fs
        .readFileSync(path.join(caller, '.github/workflows', name), 'utf8')
        .replace(
          'datasets: transactions\n',
          'datasets: transactions\n      dry-run: true\n      last-stage: ingest\n',
        ),
    );
    const result = await rehearseIn(caller, name, {
      event: 'workflow_dispatch',
      calledRepository: lakehouse,
    });
    expect(result.state, JSON.stringify(result.firstFailure)).toBe('success');
    expect(states(result)).toEqual([
      'pipeline:success',
      'pipeline/ingest:success',
      'pipeline/load:skipped',
      'pipeline/transform:skipped',
      'report:success',
    ]);
    expect(job(result, 'pipeline/ingest').outputs).toMatchObject({ uploaded: '0', planned: '24' });
  });
});

describe('calls the reusable pipeline refuses', () => {
  const cases: [string, () => string, Record<string, string>, RegExp][] = [
    [
      'an input it does not declare',
      () => mutate('unknown-input', 'datasets: transactions', 'dataset: transactions'),
      {},
      /Invalid input, dataset is not defined in the referenced workflow\./,
    ],
    [
      'a required secret left out',
      () =>
        mutate(
          'missing-secret',
          '      SQLSERVER_CONNECTION_STRING: ${{ secrets.SQLSERVER_CONNECTION_STRING }}\n',
          '',
        ),
      {},
      /Secret SQLSERVER_CONNECTION_STRING is required, but not provided while calling\./,
    ],
    [
      'a required secret inherited from a repository that has none',
      () =>
        mutate(
          'inherit-missing',
          'secrets:\n      SQLSERVER_CONNECTION_STRING: ${{ secrets.SQLSERVER_CONNECTION_STRING }}\n      DATABRICKS_TOKEN: ${{ secrets.DATABRICKS_TOKEN }}\n',
          'secrets: inherit\n',
        ),
      { SQLSERVER_CONNECTION_STRING: '' },
      /^Secret SQLSERVER_CONNECTION_STRING is required by <owner>\/<repo>\/\.github\/workflows\/pipeline\.yml@v1, but the caller has no such secret \(secrets: inherit\)\.$/,
    ],
    [
      'a boolean input given a string',
      () =>
        mutate('typed-input', 'datasets: transactions\n', "datasets: transactions\n      dry-run: 'yes'\n"),
      {},
      /The input 'dry-run' of .* is of type boolean, but the call gives "yes"/,
    ],
    [
      'less permission than the called jobs ask for',
      () => mutate('permissions', '      id-token: write\n', ''),
      {},
      /^The nested job 'ingest' is requesting 'id-token: write', but is only allowed 'id-token: none'\.$/,
    ],
  ];

  it.each(cases)('%s fails naming the caller job and the reason', async (_name, write, secrets, reason) => {
    const result = await rehearseIn(caller, write(), {
      event: 'workflow_dispatch',
      calledRepository: lakehouse,
      secrets,
    });
    expect(result.state).toBe('failure');
    expect(result.firstFailure?.job).toBe('pipeline');
    expect(result.firstFailure?.reason).toMatch(reason);
    expect(result.jobs.filter((j) => j.id.startsWith('pipeline/'))).toEqual([]);
  });
});
