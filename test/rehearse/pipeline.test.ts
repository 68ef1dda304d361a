// pipeline.yml rehearsed as GitHub would run it, from a fresh clone of a copy of this repository with grocery
// files in data/incoming (where the workflow's ingest looks by default), one rehearsal after another on the same
// cloud (a state folder keeps the bucket, the SQL schema and the Delta tables), as the runs follow each other on
// GitHub: the Run workflow button, then the nightly schedule, then a push of new data. The app, started on the
// Delta tables after the first, serves what the load loaded, and shows the pushed data without a restart (it
// reads the live tables). On main before the fix the first rehearsal failed at the load job ("load failed:
// manifest .lakehouse/manifests/ingest-latest.json: not found"): the ingest job uploaded only its run's manifest.
// Mutated copies of the workflow each fail naming the job, the step and the reason.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSource, startApp, type RunningApp } from '../../app/server.ts';
import { openDeltaTable } from '../../src/delta/index.ts';
import { POSTGRES_URL } from '../../src/rehearse/services.ts';
import type { Rehearsal } from '../../src/rehearse/rehearse.ts';
import { needsPostgres } from '../helpers/services.ts';
import { addIncomingData, commitAll, job, rehearseIn, removeRuns, repositoryCopy, step } from './helpers.ts';

let dir: string;
let stateDir: string;
let pipeline: string;
let app: RunningApp | undefined;

/** A copy of pipeline.yml with one change, beside it in the copy's working tree. */
function mutate(name: string, from: string | RegExp, to: string): string {
  const text = pipeline.replace(from, to);
  if (text === pipeline) throw new Error(`mutation ${name}: ${String(from)} not found in pipeline.yml`);
  fs.writeFileSync(path.join(dir, '.github/workflows', `${name}.yml`), text);
  return `${name}.yml`;
}

beforeAll(async () => {
  dir = await repositoryCopy('rehearse-pipeline-');
  await addIncomingData(dir);
  commitAll(dir, 'grocery files in data/incoming');
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rehearse-state-'));
  pipeline = fs.readFileSync(path.join(dir, '.github/workflows/pipeline.yml'), 'utf8');
});
afterAll(async () => {
  await app?.close();
  const tag = fs.existsSync(path.join(stateDir, 'tag'))
    ? fs.readFileSync(path.join(stateDir, 'tag'), 'utf8')
    : '';
  if (tag.trim()) await query(`DROP SCHEMA IF EXISTS rehearse_${tag.trim()} CASCADE`).catch(() => undefined);
  await removeRuns(dir, stateDir);
});

async function query<T>(text: string): Promise<T[]> {
  const client = new pg.Client(POSTGRES_URL);
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

const states = (result: Rehearsal) => result.jobs.map((j) => `${j.id}:${j.state}`);
const GOLD = ['silver.transactions', 'gold.sales_monthly', 'gold.association_rules'];

async function versions(result: Rehearsal): Promise<number[]> {
  return Promise.all(
    GOLD.map((t) => openDeltaTable(path.join(result.deltaRoot!, ...t.split('.'))).latestVersion()),
  );
}

interface Overview {
  transactions: number;
  baskets: number;
  customers: number;
  rules: number;
}

async function overview(): Promise<Overview> {
  const response = await fetch(`${app!.url}/api/overview`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: Overview }).data;
}

/** The counts /api/overview should show, counted independently in the SQL store the load filled. */
async function storeCounts(schema: string): Promise<Omit<Overview, 'rules'>> {
  const [row] = await query<Record<string, string>>(
    `SELECT count(*) AS transactions, count(DISTINCT (member_number, txn_date)) AS baskets,
            count(DISTINCT member_number) AS customers FROM ${schema}.transactions`,
  );
  return {
    transactions: Number(row!.transactions),
    baskets: Number(row!.baskets),
    customers: Number(row!.customers),
  };
}

function rowsInLoaded(result: Rehearsal): { rowsIn: number; loaded: number; quarantined: number } {
  const load = step(job(result, 'load'), './.lakehouse-actions/actions/load');
  const [, rowsIn, loaded, quarantined] =
    /Rows in = rows loaded \+ rows quarantined: ([\d,]+) = ([\d,]+) \+ ([\d,]+)/
      .exec(load.summary)!
      .map((n) => Number(n.replaceAll(',', '')));
  return { rowsIn: rowsIn!, loaded: loaded!, quarantined: quarantined! };
}

const schemaOf = () => `rehearse_${fs.readFileSync(path.join(stateDir, 'tag'), 'utf8').trim()}`;

describe('pipeline.yml, one run after another on the same cloud', () => {
  let first: Rehearsal;

  it('on workflow_dispatch from a fresh clone: ingest, load, the notebooks, gold tables the app serves', async () => {
    if (!(await needsPostgres())) return;
    first = await rehearseIn(dir, 'pipeline.yml', { event: 'workflow_dispatch', stateDir });
    expect(first.commit?.source).toBe('HEAD');
    expect(first.state, JSON.stringify(first.firstFailure)).toBe('success');
    expect(states(first)).toEqual(['ingest:success', 'load:success', 'transform:success']);
    expect(job(first, 'ingest').outputs.uploaded).toBe('24');
    // The hand-off: the run's manifest and ingest-latest.json, which the load reads.
    expect(first.artifacts.map((a) => [a.name, [...a.files].sort()])).toEqual([
      ['ingest-manifest', [expect.stringMatching(/^ingest-\d+-1\.json$/), 'ingest-latest.json']],
    ]);
    const counts = rowsInLoaded(first);
    expect(counts.rowsIn).toBeGreaterThan(0);
    expect(counts.rowsIn).toBe(counts.loaded + counts.quarantined);
    expect(job(first, 'load').outputs).toMatchObject({
      changed: 'true',
      'objects-loaded': '24',
      'rows-loaded': String(counts.loaded),
    });
    expect(step(job(first, 'transform'), './.lakehouse-actions/actions/databricks').summary).toContain(
      'SUCCESS',
    );
    const [silver, monthly, rules] = await Promise.all(
      GOLD.map(async (t) => {
        const snapshot = await openDeltaTable(path.join(first.deltaRoot!, ...t.split('.'))).snapshot();
        return snapshot.scan().reduce((n, f) => n + (f.numRecords ?? 0), 0);
      }),
    );
    expect(silver).toBeGreaterThan(0);
    expect(monthly).toBe(24);
    expect(rules).toBeGreaterThan(0);

    // The app on the tables the rehearsal wrote, and the run history the notebooks recorded.
    app = await startApp({
      source: await localSource({ deltaRoot: first.deltaRoot!, manifestsDir: first.manifestsDir }),
      port: 0,
      versionCheckMs: 0,
    });
    const served = await overview();
    const store = await storeCounts(schemaOf());
    expect(store.transactions).toBe(counts.loaded);
    expect(served).toMatchObject(store);
    expect(served.rules).toBe(rules);
  });

  it('then on the nightly schedule: nothing uploaded, nothing loaded, the transform skipped, the app untouched', async () => {
    if (!first) return;
    const before = { versions: await versions(first), overview: await overview() };
    const nightly = await rehearseIn(dir, 'pipeline.yml', { event: 'schedule', stateDir });
    expect(nightly.trigger).toMatch(/schedule/);
    expect(nightly.state, JSON.stringify(nightly.firstFailure)).toBe('success');
    expect(states(nightly)).toEqual(['ingest:success', 'load:success', 'transform:skipped']);
    expect(job(nightly, 'ingest').outputs).toMatchObject({ uploaded: '0', skipped: '24' });
    expect(job(nightly, 'load').outputs).toMatchObject({
      changed: 'false',
      'objects-loaded': '0',
      'rows-loaded': '0',
    });
    expect(job(nightly, 'transform').reason).toMatch(
      /^if: .*needs\.load\.outputs\.changed == 'true'.* was false$/s,
    );
    expect(await versions(nightly)).toEqual(before.versions);
    expect(nightly.recorded?.renderDeploys).toEqual([]);
    // The same answer, but for the age of the served run, which grows.
    const ageless = (o: Overview) => JSON.stringify(o).replace(/"ageSeconds":\d+/, '');
    expect(ageless(await overview())).toBe(ageless(before.overview));
  });

  it('then on a push of new data to data/incoming: the new rows loaded, the notebooks run, the app shows them live', async () => {
    if (!first) return;
    const before = await overview();
    fs.mkdirSync(path.join(dir, 'data/incoming/late'), { recursive: true });
    const added = [
      'Member_number,Date,itemDescription',
      '9001,2015-12-30,whole milk',
      '9001,2015-12-30,rolls/buns',
      '9002,2015-12-31,soda',
    ];
    fs.writeFileSync(
      path.join(dir, 'data/incoming/late/transactions-2015-12-late.csv'),
      added.join('\n') + '\n',
    );
    commitAll(dir, 'late December transactions');
    const pushed = await rehearseIn(dir, 'pipeline.yml', { event: 'push', stateDir });
    expect(pushed.commit?.changed).toEqual(['data/incoming/late/transactions-2015-12-late.csv']);
    expect(pushed.trigger).toMatch(/push/);
    expect(pushed.state, JSON.stringify(pushed.firstFailure)).toBe('success');
    expect(states(pushed)).toEqual(['ingest:success', 'load:success', 'transform:success']);
    expect(job(pushed, 'ingest').outputs).toMatchObject({ uploaded: '1', skipped: '24' });
    expect(job(pushed, 'load').outputs).toMatchObject({
      changed: 'true',
      'objects-loaded': '1',
      'rows-loaded': '3',
    });
    // No restart, no redeploy: the app reads the live tables and sees their new versions.
    expect(pushed.recorded?.renderDeploys).toEqual([]);
    const after = await overview();
    expect(after.transactions).toBe(before.transactions + 3);
    expect(after.customers).toBe(before.customers + 2);
    expect(after).toMatchObject(await storeCounts(schemaOf()));
  });
});

describe('pipeline.yml dispatch inputs', () => {
  it('last-stage ingest with dry-run: the ingest plans the uploads and writes nothing, the later jobs are skipped', async () => {
    const result = await rehearseIn(dir, 'pipeline.yml', {
      event: 'workflow_dispatch',
      inputs: { 'last-stage': 'ingest', 'dry-run': 'true', datasets: 'transactions' },
    });
    expect(result.state, JSON.stringify(result.firstFailure)).toBe('success');
    expect(states(result)).toEqual(['ingest:success', 'load:skipped', 'transform:skipped']);
    // Every file of data/incoming, the one an earlier push added included.
    const incoming = fs
      .readdirSync(path.join(dir, 'data/incoming'), { recursive: true })
      .filter((f) => String(f).endsWith('.csv'));
    expect(job(result, 'ingest').outputs).toMatchObject({ uploaded: '0', planned: String(incoming.length) });
    expect(job(result, 'load').reason).toMatch(/last-stage/);
  });
});

describe('pipeline.yml with broken wiring', () => {
  const cases: [string, () => string, { job: string; step: string; reason: RegExp }][] = [
    [
      'a wrong artifact name',
      () =>
        mutate(
          'wrong-artifact',
          /(download-artifact@[0-9a-f]{40} # v[\d.]+\n\s+with:\n\s+name: )ingest-manifest/,
          '$1ingest-manifests',
        ),
      {
        job: 'load',
        step: 'actions/download-artifact@',
        reason: /^Unable to download artifact\(s\): Artifact not found for name: ingest-manifests\n/,
      },
    ],
    [
      'a missing needs',
      () => mutate('missing-needs', '    needs: ingest\n', ''),
      {
        job: 'load',
        step: 'actions/download-artifact@',
        reason: /job ingest uploads it, but job load does not need ingest/,
      },
    ],
    [
      'an input the action does not declare',
      () =>
        mutate(
          'undeclared-input',
          "          glob: '**/*.csv'\n",
          "          glob: '**/*.csv'\n          source-folder: data\n",
        ),
      {
        job: 'ingest',
        step: './.lakehouse-actions/actions/ingest',
        reason: /^Unexpected input\(s\) 'source-folder' for \.\/\.lakehouse-actions\/actions\/ingest/,
      },
    ],
    [
      'the source path input left out, so the dataset folder of lakehouse.yml is used and a clone has none',
      () =>
        mutate(
          'required-input',
          "          path: ${{ vars.LAKEHOUSE_SOURCE_PATH || 'data/incoming' }}\n",
          '',
        ),
      {
        job: 'ingest',
        step: './.lakehouse-actions/actions/ingest',
        reason:
          /^ingest failed: dataset transactions: source path \/\S+\/data\/sample: expected a folder, found nothing$/,
      },
    ],
    [
      'a required input missing',
      () => mutate('required-input', '          path: ${{ env.INGEST_MANIFESTS }}/\n', ''),
      {
        job: 'ingest',
        step: 'actions/upload-artifact@',
        reason: /^Input required and not supplied: path$/,
      },
    ],
    [
      'an unknown third-party action',
      () => mutate('unknown-action', 'google-github-actions/auth@', 'google-github-actions/setup-gcloud@'),
      {
        job: 'ingest',
        step: 'google-github-actions/setup-gcloud@',
        reason: /^google-github-actions\/setup-gcloud@[0-9a-f]{40} has no stand-in/,
      },
    ],
    [
      'a bad expression',
      () => mutate('bad-expression', '${{ env.INGEST_MANIFESTS }}/', '${{ env.INGEST_MANIFESTS }/'),
      {
        job: 'ingest',
        step: 'actions/upload-artifact@',
        reason: /bad-expression\.yml \(Line: \d+, Col: \d+\): The expression is not closed/,
      },
    ],
  ];

  it.each(cases)('%s fails naming the job, the step and the reason', async (_name, write, expected) => {
    const result = await rehearseIn(dir, write(), { event: 'workflow_dispatch' });
    expect(result.state).toBe('failure');
    expect(result.firstFailure?.job).toBe(expected.job);
    // A pinned action's step is named by its SHA: the action's name is what the case checks.
    expect(result.firstFailure?.step).toContain(expected.step);
    expect(result.firstFailure?.reason).toMatch(expected.reason);
  });
});
