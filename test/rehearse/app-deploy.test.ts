// app-deploy.yml rehearsed on a push that changes app/**: the test job, then the deploy job, which deploys the
// pushed commit on the Render stand-in and follows it until it is live, while GitHub (the GitHub stand-in)
// records the production deployment with the app's URL. The test job runs a mutated copy of the workflow, and
// says why: `npm ci` in a fresh clone and the whole test/app suite take minutes on this machine, so the copy links
// this checkout's node_modules instead of installing, and runs one file of test/app (health.test.ts), printing
// the CI variable first. The step keeps the workflow's `env: CI: false`, which must win over the runner's CI=true,
// as on GitHub: this rehearsal once let CI=true through. (The browser tests are left out: whether they run depends
// on this machine's Chromium, and under the rehearsal's GitHub variables they test a run of GitHub's, not ours.)
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/services.ts';
import { commitAll, job, rehearseIn, removeRuns, repositoryCopy, step } from './helpers.ts';

let dir: string;
const SUBSET = 'npx vitest run test/app/health.test.ts';

beforeAll(async () => {
  dir = await repositoryCopy('rehearse-app-deploy-');
  const file = path.join(dir, '.github/workflows/app-deploy.yml');
  const workflow = fs.readFileSync(file, 'utf8');
  const mutated = workflow
    .replace(
      '      - run: npm ci\n',
      `      - run: ln -s ${path.join(repoRoot, 'node_modules')} node_modules\n`,
    )
    .replace('      - run: npx vitest run test/app\n', `      - run: echo "CI=$CI" && ${SUBSET}\n`);
  expect(mutated.split('\n').length).toBe(workflow.split('\n').length);
  expect(mutated).toContain(SUBSET);
  expect(mutated).toContain('ln -s');
  fs.writeFileSync(file, mutated);
  commitAll(dir, 'app-deploy.yml: the test step runs one file of test/app');
  fs.appendFileSync(path.join(dir, 'app/README.md'), '\nA line the push adds.\n');
  commitAll(dir, 'app: a change to the README');
});
afterAll(() => removeRuns(dir));

describe('app-deploy.yml on a push to app/**', () => {
  it('tests the app (CI: false wins over CI=true), deploys on Render and records the GitHub deployment', async () => {
    const result = await rehearseIn(dir, 'app-deploy.yml', { event: 'push' });
    expect(result.commit?.changed).toEqual(['app/README.md']);
    expect(result.trigger).toBe('push to main changing app/README.md');
    expect(result.state, JSON.stringify(result.firstFailure)).toBe('success');
    expect(result.jobs.map((j) => `${j.id}:${j.state}`)).toEqual(['test:success', 'deploy:success']);

    const tests = step(job(result, 'test'), `Run echo "CI=$CI" && ${SUBSET}`);
    // eslint-disable-next-line no-control-regex
    const log = fs.readFileSync(tests.logFile!, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
    expect(log).toContain('CI=false');
    expect(log).not.toContain('CI=true');
    expect(log).toMatch(/Test Files\s+1 passed \(1\)/);

    const sha = result.commit!.sha;
    expect(result.recorded?.renderDeploys).toEqual([
      expect.objectContaining({ serviceId: 'srv-rehearsal', status: 'live', commit: sha }),
    ]);
    expect(result.recorded?.githubDeployments).toEqual([
      {
        environment: 'production',
        sha,
        statuses: [
          { state: 'in_progress', environmentUrl: '' },
          { state: 'success', environmentUrl: 'https://lakehouse-app.onrender.com' },
        ],
      },
    ]);
  });
});
