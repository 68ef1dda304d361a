// The bundled deploy-render action (actions/deploy-render/dist/index.js), run as GitHub runs it: INPUT_* variables
// and GITHUB_* variables in, outputs in $GITHUB_OUTPUT, a job summary in $GITHUB_STEP_SUMMARY, against the fake
// Render API and the fake GitHub Deployments API (GITHUB_API_URL points Octokit at it).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { runBundledAction, type ActionRun } from '../helpers/github-action.ts';
import { repoRoot } from '../helpers/services.ts';
import { startGitHubServer, type GitHubServer } from '../../src/standins/github/server.ts';
import { startRenderServer, type RenderServer } from '../../src/standins/render/server.ts';

const ACTION = path.join(repoRoot, 'actions/deploy-render');
const DIST = path.join(ACTION, 'dist/index.js');
const LIVE = 'srv-d0actionlivevvvvvvvv';
const FAILING = 'srv-d0actionfailingggggg';
const STUCK = 'srv-d0actionstuckkkkkkkk';
const API_KEY = 'rnd_actionApiKeyNeverShown42';
const HOOK_KEY = 'hookKeyNeverShownInLogs7';
const TOKEN = 'ghs_actionToken0123456789';
const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('the bundled deploy-render action', () => {
  let render: RenderServer;
  let github: GitHubServer;
  let dir: string;

  beforeAll(async () => {
    render = await startRenderServer({
      apiKey: API_KEY,
      services: [
        { id: LIVE, url: 'https://lakehouse-app.onrender.com', hookKey: HOOK_KEY },
        { id: FAILING, outcome: 'build_failed' },
        { id: STUCK, outcome: 'never' },
      ],
    });
    github = await startGitHubServer({ tokens: [TOKEN], repositories: ['octo-org/lakehouse'] });
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'deploy-render-action-'));
  });
  afterAll(async () => {
    await render?.close();
    await github?.close();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  function action(
    inputs: Record<string, string>,
    onStart?: (child: ChildProcess) => void,
  ): Promise<ActionRun> {
    const defaults = { 'github-token': TOKEN, 'api-url': render.apiUrl, 'poll-seconds': '0.01' };
    return runBundledAction({
      action: 'deploy-render',
      cwd: dir,
      inputs: { ...defaults, ...inputs },
      env: {
        GITHUB_REPOSITORY: 'octo-org/lakehouse',
        GITHUB_SHA: SHA,
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_RUN_ID: '4242',
        GITHUB_API_URL: github.url,
      },
      onStart,
    });
  }

  /** No secret anywhere but in the ::add-mask:: commands the runner consumes. */
  function expectNoSecrets(result: ActionRun, secrets: string[]) {
    const shown = [
      ...result.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')),
      result.stderr,
      result.summary,
      JSON.stringify(result.outputs),
    ].join('\n');
    for (const secret of secrets) expect(shown).not.toContain(secret);
  }

  it('declares node24 and dist/index.js, and the inputs it reads', () => {
    const yml = parse(fs.readFileSync(path.join(ACTION, 'action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string }>;
      outputs: Record<string, unknown>;
      runs: { using: string; main: string };
    };
    expect(yml.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(fs.existsSync(DIST)).toBe(true);
    expect(Object.keys(yml.outputs).sort()).toEqual(['deploy-id', 'status', 'url']);
    expect(yml.inputs['github-token']!.default).toBe('${{ github.token }}');
    expect(yml.inputs.environment!.default).toBe('production');
    expect(yml.inputs.wait!.default).toBe('true');
    expect(yml.inputs['create-github-deployment']!.default).toBe('true');
  });

  it('deploys the commit to live, sets its outputs, records the GitHub deployment and shows no secret', async () => {
    const before = github.deployments.size;
    const result = await action({ 'service-id': LIVE, 'api-key': API_KEY });
    expect(result.stdout).not.toContain('::error::');
    expect(result.code).toBe(0);
    expect(result.outputs).toEqual({
      'deploy-id': expect.stringMatching(/^dep-\d+$/),
      status: 'live',
      url: 'https://lakehouse-app.onrender.com',
    });
    expect(render.deploys.get(result.outputs['deploy-id']!)!.commit).toEqual({ id: SHA });
    expect(github.deployments.size).toBe(before + 1);
    const deployment = [...github.deployments.values()].at(-1)!;
    expect(deployment).toMatchObject({ ref: SHA, environment: 'production', auto_merge: false });
    expect(deployment.statuses.map((s) => [s.state, s.environment_url, s.log_url])).toEqual([
      ['in_progress', '', 'https://github.com/octo-org/lakehouse/actions/runs/4242'],
      [
        'success',
        'https://lakehouse-app.onrender.com',
        'https://github.com/octo-org/lakehouse/actions/runs/4242',
      ],
    ]);
    expect(result.summary).toContain('<h2>Deploy to Render</h2>');
    expect(result.summary).toContain('<tr><td>Status</td><td>live</td></tr>');
    expect(result.summary).toContain('<tr><td>URL</td><td>https://lakehouse-app.onrender.com</td></tr>');
    expect(result.summary).toContain(
      `<tr><td>GitHub deployment</td><td>${deployment.id} (production)</td></tr>`,
    );
    expect(result.stdout).toContain(`::add-mask::${API_KEY}`);
    expectNoSecrets(result, [API_KEY, TOKEN]);
  });

  it('fails with the Render status on build_failed, after setting its outputs and a failure status', async () => {
    const result = await action({ 'service-id': FAILING, 'api-key': API_KEY, 'clear-cache': 'true' });
    expect(result.code).toBe(1);
    expect(result.outputs.status).toBe('build_failed');
    const error = result.stdout.split('\n').find((l) => l.startsWith('::error::'));
    expect(error).toMatch(
      /^::error::deploy-render failed: Render deploy dep-\d+ of srv-d0actionfailingggggg ended build_failed \(the build command failed/,
    );
    expect(render.requests.filter((r) => r.method === 'POST').at(-1)!.body).toEqual({
      clearCache: 'clear',
      commitId: SHA,
    });
    const deployment = [...github.deployments.values()].at(-1)!;
    expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
    expect(result.summary).toContain('<tr><td>Status</td><td>build_failed</td></tr>');
    expectNoSecrets(result, [API_KEY, TOKEN]);
  });

  it('a cancelled workflow (SIGTERM) stops following the deploy and marks the deployment error', async () => {
    const polled = () =>
      render.requests.some((r) => r.method === 'GET' && r.path.includes(`${STUCK}/deploys/`));
    const result = await action(
      { 'service-id': STUCK, 'api-key': API_KEY, 'poll-seconds': '0.05' },
      (child) => {
        void vi.waitUntil(polled, { timeout: 30_000, interval: 20 }).then(() => child.kill('SIGTERM'));
      },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('::warning::SIGTERM: no longer following the Render deploy');
    expect(result.stdout).toMatch(
      /::error::deploy-render failed: Render deploy dep-\d+ of srv-\w+: the wait was aborted/,
    );
    const deployment = [...github.deployments.values()].at(-1)!;
    expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'error']);
    expectNoSecrets(result, [API_KEY, TOKEN]);
  });

  it('deploys through the hook when there is no API key, never showing the hook URL or its key', async () => {
    const hookUrl = render.hookUrl(LIVE);
    const result = await action({ 'deploy-hook-url': hookUrl, 'service-id': LIVE, 'api-key': '' });
    expect(result.code).toBe(0);
    expect(result.outputs.status).toBe('triggered');
    expect(render.deploys.get(result.outputs['deploy-id']!)!.trigger).toBe('deploy_hook');
    expect(result.summary).toContain('The deploy hook starts a deploy but cannot follow it');
    expect(result.stdout).toContain(`::add-mask::${hookUrl}`);
    expectNoSecrets(result, [hookUrl, HOOK_KEY, TOKEN]);
  });

  it('takes the service id from the hook URL when given an API key and the hook, and deploys through the API', async () => {
    const result = await action({ 'deploy-hook-url': render.hookUrl(LIVE), 'api-key': API_KEY });
    expect(result.code).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'live', url: 'https://lakehouse-app.onrender.com' });
    expect(render.deploys.get(result.outputs['deploy-id']!)!.trigger).toBe('api');
    expectNoSecrets(result, [API_KEY, HOOK_KEY, TOKEN]);
  });

  it('fails on a wrong API key with a clear error that does not show it', async () => {
    const wrongKey = 'rnd_wrongActionKeyNotShown';
    const result = await action({
      'service-id': LIVE,
      'api-key': wrongKey,
      'create-github-deployment': 'false',
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `::error::deploy-render failed: Render API POST /v1/services/${LIVE}/deploys: HTTP 401 Unauthorized: unauthorized`,
    );
    expectNoSecrets(result, [wrongKey]);
  });

  it.each([
    [
      { 'service-id': 'my-app', 'api-key': API_KEY },
      'input service-id: expected a Render service id like srv-d0abc123',
    ],
    [
      { 'api-key': API_KEY },
      'input service-id: expected a Render service id (srv-…) to go with api-key, found none',
    ],
    [
      {},
      'inputs api-key and service-id, or deploy-hook-url: expected a Render API key and service id, or a deploy hook URL; found none of them',
    ],
    [
      { 'deploy-hook-url': `https://example.com/hooks?token=${HOOK_KEY}` },
      'input deploy-hook-url: expected a Render deploy hook URL like https://api.render.com/deploy/srv-…?key=… (the value given is not shown: it is a secret)',
    ],
    [
      { 'service-id': LIVE, 'api-key': API_KEY, wait: 'yes' },
      'input wait: expected true or false, found "yes"',
    ],
    [
      { 'service-id': LIVE, 'api-key': API_KEY, 'timeout-minutes': '0' },
      'input timeout-minutes: expected a positive number of minutes, found "0"',
    ],
    [
      { 'service-id': LIVE, 'api-key': API_KEY, commit: 'main' },
      'input commit: expected a git commit SHA (7 to 40 hex digits), found "main"',
    ],
  ])('rejects bad inputs before any request: %j', async (inputs, message) => {
    const requests = render.requests.length + github.requests.length;
    const result = await action(inputs);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`::error::deploy-render failed: ${message}`);
    expect(render.requests.length + github.requests.length).toBe(requests);
    expectNoSecrets(result, [API_KEY, HOOK_KEY]);
  });
});
