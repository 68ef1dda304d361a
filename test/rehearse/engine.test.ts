// The rehearsal engine on small workflows of a repository of their own: contexts and functions evaluated by
// @actions/expressions, env precedence, step and job outputs, if rules with the implicit success(), needs
// ordering, continue-on-error, timeouts, a bad expression placed in its job and step, the GitHub deployment
// GitHub records for a job with `environment:`.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKOUT, job, miniRepository, rehearseIn, removeRuns, step } from './helpers.ts';

const CONTEXTS = `
name: contexts
on:
  workflow_dispatch:
    inputs:
      flag: { type: boolean, default: false }
      size: { type: choice, options: [small, large], default: small }
env:
  LEVEL: workflow
  SHARED: workflow
jobs:
  facts:
    runs-on: \${{ vars.MISSING_RUNNER || 'ubuntu-latest' }}
    env:
      SHARED: job
      JOB_ONLY: job
    outputs:
      event: \${{ steps.facts.outputs.event }}
      flag: \${{ steps.facts.outputs.flag }}
      format: \${{ steps.facts.outputs.format }}
      join: \${{ steps.facts.outputs.join }}
      checks: \${{ steps.facts.outputs.checks }}
      hash: \${{ steps.facts.outputs.hash }}
      env: \${{ steps.facts.outputs.env }}
      after-github-env: \${{ steps.after.outputs.shared }}
      step-env-wins: \${{ steps.stepwins.outputs.shared }}
      secret: \${{ steps.facts.outputs.secret }}
      runner: \${{ steps.facts.outputs.runner }}
      ci: \${{ steps.overrides.outputs.ci }}
    steps:
      - uses: ${CHECKOUT}
      - id: facts
        env:
          SHARED: step
        run: |
          echo "event=\${{ github.event_name }}" >> "$GITHUB_OUTPUT"
          echo "flag=\${{ inputs.flag && 'yes' || 'no' }}" >> "$GITHUB_OUTPUT"
          echo "format=\${{ format('{0}-{1}', inputs.size, github.run_attempt) }}" >> "$GITHUB_OUTPUT"
          echo "join=\${{ join(fromJSON('["a","b"]'), '+') }}" >> "$GITHUB_OUTPUT"
          echo 'checks=\${{ contains('abc', 'b') && startsWith('lakehouse', 'LAKE') && toJSON(github.event.inputs.flag) }}' >> "$GITHUB_OUTPUT"
          echo "hash=\${{ hashFiles('data/*.txt') }}" >> "$GITHUB_OUTPUT"
          echo "env=$LEVEL/$SHARED/$JOB_ONLY" >> "$GITHUB_OUTPUT"
          echo "secret=\${{ secrets.DATABRICKS_TOKEN }}" >> "$GITHUB_OUTPUT"
          echo "runner=$RUNNER_OS $GITHUB_REPOSITORY $GITHUB_REF $CI" >> "$GITHUB_OUTPUT"
          echo "token is \${{ secrets.DATABRICKS_TOKEN }}"
      - run: echo "SHARED=from-github-env" >> "$GITHUB_ENV"
      - id: after
        run: echo "shared=$SHARED" >> "$GITHUB_OUTPUT"
      - id: stepwins
        env:
          SHARED: step
        run: echo "shared=$SHARED" >> "$GITHUB_OUTPUT"
      # CI can be overridden (app-deploy.yml's test step sets CI: false); GITHUB_* cannot.
      - id: overrides
        env:
          CI: false
          GITHUB_REPOSITORY: mine
        run: echo "ci=$CI $GITHUB_REPOSITORY" >> "$GITHUB_OUTPUT"
`;

const STATUS = `
name: status
on: workflow_dispatch
jobs:
  report:
    needs: [build, on-failure]
    if: always()
    runs-on: ubuntu-latest
    outputs:
      seen: \${{ steps.seen.outputs.seen }}
    steps:
      - id: seen
        run: echo "seen=\${{ needs.build.result }}/\${{ needs.on-failure.result }}/\${{ needs.build.outputs.soft }}" >> "$GITHUB_OUTPUT"
  after-build:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - run: echo never
  on-failure:
    needs: build
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - run: echo "the build failed"
  build:
    runs-on: ubuntu-latest
    outputs:
      soft: \${{ steps.cleanup.outputs.soft }}
    steps:
      - id: ok
        run: echo ok
      - id: soft
        continue-on-error: true
        run: exit 3
      - id: hard
        run: |
          echo "::error::the hard step broke"
          exit 4
      - id: never
        run: echo never
      - id: cleanup
        if: always()
        run: echo "soft=\${{ steps.soft.outcome }},\${{ steps.soft.conclusion }},\${{ steps.never.conclusion }}" >> "$GITHUB_OUTPUT"
      - id: on-failure
        if: failure()
        run: echo "reacting"
`;

const TIMEOUTS = `
name: timeouts
on: workflow_dispatch
jobs:
  step-timeout:
    runs-on: ubuntu-latest
    steps:
      - id: slow
        timeout-minutes: 0.02
        run: sleep 30
      - id: later
        if: always()
        run: echo "still runs"
  job-timeout:
    runs-on: ubuntu-latest
    timeout-minutes: 0.03
    steps:
      - id: slow
        run: sleep 30
      - id: normal
        run: echo "does not run"
      - id: cleanup
        if: always()
        run: echo "cleans up"
`;

const BAD_EXPRESSION = `
name: bad
on: workflow_dispatch
jobs:
  first:
    runs-on: ubuntu-latest
    steps:
      - run: echo fine
  second:
    runs-on: ubuntu-latest
    steps:
      - run: echo fine
      - name: Broken
        run: echo "\${{ steps.x.outputs.y }"
`;

const ENVIRONMENTS = `
name: environments
on: workflow_dispatch
jobs:
  staging:
    runs-on: ubuntu-latest
    environment:
      name: staging
      url: \${{ steps.out.outputs.url }}
    steps:
      - id: out
        run: echo "url=https://staging.example.com/\${{ github.run_id }}" >> "$GITHUB_OUTPUT"
  broken:
    runs-on: ubuntu-latest
    environment: preview
    steps:
      - run: exit 3
`;

const CALLED = `
name: called
on:
  workflow_call:
    inputs:
      who: { type: string, required: true }
      loud: { type: boolean, default: false }
    secrets:
      token: { required: true }
    outputs:
      greeting:
        value: \${{ jobs.greet.outputs.greeting }}
env:
  PREFIX: hello
jobs:
  greet:
    runs-on: ubuntu-latest
    outputs:
      greeting: \${{ steps.say.outputs.greeting }}
    steps:
      - id: say
        env:
          TOKEN: \${{ secrets.token }}
        run: |
          echo "greeting=$PREFIX \${{ inputs.who }}\${{ inputs.loud && '!' || '' }} on \${{ github.event_name }} in \${{ github.workflow }}" >> "$GITHUB_OUTPUT"
          echo "token length \${#TOKEN}, a secret not passed: [\${{ secrets.DATABRICKS_TOKEN }}]"
`;

const CALLER = `
name: caller
on: workflow_dispatch
jobs:
  call:
    uses: ./.github/workflows/called.yml
    with:
      who: \${{ github.actor }}
      loud: true
    secrets:
      token: \${{ secrets.DATABRICKS_TOKEN }}
  after:
    needs: call
    runs-on: ubuntu-latest
    outputs:
      seen: \${{ steps.seen.outputs.seen }}
    steps:
      - id: seen
        run: echo "seen=\${{ needs.call.outputs.greeting }}" >> "$GITHUB_OUTPUT"
`;

let dir: string;

beforeAll(async () => {
  dir = await miniRepository({
    '.github/workflows/contexts.yml': CONTEXTS,
    '.github/workflows/status.yml': STATUS,
    '.github/workflows/timeouts.yml': TIMEOUTS,
    '.github/workflows/bad.yml': BAD_EXPRESSION,
    '.github/workflows/environments.yml': ENVIRONMENTS,
    '.github/workflows/called.yml': CALLED,
    '.github/workflows/caller.yml': CALLER,
    'data/a.txt': 'alpha\n',
    'data/b.txt': 'beta\n',
  });
});
afterAll(() => removeRuns(dir));

describe('lakehouse rehearse: expressions and contexts', () => {
  it('evaluates contexts and functions with GitHub’s evaluator, and env with GitHub’s precedence', async () => {
    const result = await rehearseIn(dir, 'contexts.yml', {
      event: 'workflow_dispatch',
      inputs: { flag: 'true', size: 'large' },
    });
    expect(result.state, JSON.stringify(result.firstFailure)).toBe('success');
    const facts = job(result, 'facts');
    const sha = (text: string) => crypto.createHash('sha256').update(text).digest();
    const expectedHash = crypto
      .createHash('sha256')
      .update(sha('alpha\n'))
      .update(sha('beta\n'))
      .digest('hex');
    expect(facts.outputs).toEqual({
      event: 'workflow_dispatch',
      flag: 'yes',
      format: 'large-1',
      join: 'a+b',
      checks: '"true"',
      hash: expectedHash,
      env: 'workflow/step/job',
      'after-github-env': 'from-github-env',
      'step-env-wins': 'step',
      runner: 'Linux local/' + dir.split('/').pop() + ' refs/heads/main true',
      ci: 'false local/' + dir.split('/').pop(),
    });
    // An output that would show a secret is left out, and the log shows *** in its place.
    expect(facts.notes.join('\n')).toContain('output secret left out');
    const log = fs.readFileSync(step(facts, 'facts').logFile!, 'utf8');
    expect(log).toContain('token is ***');
    expect(facts.runsOn).toBe('ubuntu-latest');
  });
});

describe('lakehouse rehearse: if, needs, continue-on-error', () => {
  it('orders jobs by needs, skips what a failure skips, and runs what always() and failure() ask for', async () => {
    const result = await rehearseIn(dir, 'status.yml');
    expect(result.jobs.map((j) => `${j.id}:${j.state}`)).toEqual([
      'build:failure',
      'after-build:skipped',
      'on-failure:success',
      'report:success',
    ]);
    const build = job(result, 'build');
    expect(build.steps.map((s) => `${s.id}:${s.outcome}/${s.state}`)).toEqual([
      'ok:success/success',
      'soft:failure/success',
      'hard:failure/failure',
      'never:skipped/skipped',
      'cleanup:success/success',
      'on-failure:success/success',
    ]);
    expect(step(build, 'hard').reason).toBe('the hard step broke');
    expect(step(build, 'soft').reason).toBe('Process completed with exit code 3.');
    expect(job(result, 'after-build').reason).toBe('if: success() was false (needs build: failure)');
    expect(job(result, 'report').outputs.seen).toBe('failure/success/failure,success,skipped');
    expect(result.state).toBe('failure');
    expect(result.firstFailure).toEqual({
      job: 'build',
      step: 'Run echo "::error::the hard step broke"',
      reason: 'the hard step broke',
    });
  });

  it('stops a step at its timeout-minutes, and cancels a job at its own', async () => {
    const result = await rehearseIn(dir, 'timeouts.yml');
    const stepTimeout = job(result, 'step-timeout');
    expect(step(stepTimeout, 'slow').state).toBe('failure');
    expect(step(stepTimeout, 'slow').reason).toBe(
      "The action 'Run sleep 30' has timed out after 0.02 minutes.",
    );
    expect(step(stepTimeout, 'later').state).toBe('success');
    const jobTimeout = job(result, 'job-timeout');
    expect(jobTimeout.state).toBe('failure');
    expect(jobTimeout.reason).toBe('The job has exceeded the maximum execution time of 0.03 minutes.');
    expect(jobTimeout.steps.map((s) => `${s.id}:${s.state}`)).toEqual([
      'slow:cancelled',
      'normal:skipped',
      'cleanup:success',
    ]);
  });

  it('places an expression GitHub’s parser rejects in its job and step', async () => {
    const result = await rehearseIn(dir, 'bad.yml');
    expect(result.state).toBe('failure');
    expect(result.firstFailure?.job).toBe('second');
    expect(result.firstFailure?.step).toBe('Broken');
    expect(result.firstFailure?.reason).toMatch(/\(Line: 14, Col: \d+\): The expression is not closed/);
  });
});

describe('lakehouse rehearse: environments', () => {
  it('records a GitHub deployment for each job with environment:, in_progress then how the job ended', async () => {
    const result = await rehearseIn(dir, 'environments.yml');
    expect(result.state).toBe('failure');
    expect(result.recorded?.githubDeployments).toEqual([
      {
        environment: 'staging',
        sha: result.commit!.sha,
        statuses: [
          { state: 'in_progress', environmentUrl: '' },
          {
            state: 'success',
            environmentUrl: expect.stringMatching(/^https:\/\/staging\.example\.com\/\d+$/),
          },
        ],
      },
      {
        environment: 'preview',
        sha: result.commit!.sha,
        statuses: [
          { state: 'in_progress', environmentUrl: '' },
          { state: 'failure', environmentUrl: '' },
        ],
      },
    ]);
    expect(job(result, 'staging').notes.join('\n')).toMatch(
      /^environment staging \(url https:\/\/staging\.example\.com\/\d+\): GitHub deployment \d+ of [0-9a-f]{12} recorded, in_progress then success$/m,
    );
  });
});

describe('lakehouse rehearse: a reusable workflow of the same repository', () => {
  it('runs the called jobs with the inputs and secrets the call gives, and hands its outputs to needs', async () => {
    const result = await rehearseIn(dir, 'caller.yml');
    expect(result.state, JSON.stringify(result.firstFailure)).toBe('success');
    expect(result.jobs.map((j) => `${j.id}:${j.state}`)).toEqual([
      'call:success',
      'call/greet:success',
      'after:success',
    ]);
    expect(job(result, 'call').notes[0]).toMatch(/^calls \.\/\.github\/workflows\/called\.yml \(local\//);
    // The called file's env, typed inputs, the caller's github context, and only the secrets passed.
    expect(job(result, 'call').outputs).toEqual({
      greeting: 'hello lakehouse-rehearsal! on workflow_dispatch in caller',
    });
    expect(job(result, 'after').outputs.seen).toBe(
      'hello lakehouse-rehearsal! on workflow_dispatch in caller',
    );
    const log = fs.readFileSync(step(job(result, 'call/greet'), 'say').logFile!, 'utf8');
    expect(log).toMatch(/token length [1-9]\d*, a secret not passed: \[\]/);
  });
});
