// The deploy stage (src/stages/deploy.ts) against the fake Render API and the fake GitHub Deployments API: the
// Render deploy and the GitHub deployment's statuses must tell the same story.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployRender, DeployError, type DeployOptions } from '../../src/stages/deploy.ts';
import { memoryLogger } from '../../src/util/log.ts';
import { startGitHubServer, type GitHubServer } from '../../src/standins/github/server.ts';
import { startRenderServer, type RenderServer } from '../../src/standins/render/server.ts';

const LIVE = 'srv-d0stagelivevvvvvvvvv';
const FAILING = 'srv-d0stagefailingggggg';
const STUCK = 'srv-d0stagestuckkkkkkkk';
const REPLACED = 'srv-d0stagereplacedddd';
const COMMIT = 'c0ffee3ab0573c0ffee3ab0573c0ffee3ab05730';
const TOKEN = 'ghs_stageToken0123456789';
const READ_ONLY = 'ghs_readOnlyToken0123456';
const REPO = 'octo-org/lakehouse';
const LOG_URL = 'https://github.com/octo-org/lakehouse/actions/runs/42';

describe('deployRender', () => {
  let render: RenderServer;
  let github: GitHubServer;
  beforeAll(async () => {
    render = await startRenderServer({
      services: [
        { id: LIVE, url: 'https://lakehouse-app.onrender.com' },
        { id: FAILING, outcome: 'build_failed' },
        { id: STUCK, outcome: 'never' },
        { id: REPLACED, outcome: 'replaced' },
      ],
    });
    github = await startGitHubServer({ tokens: [TOKEN], readOnlyTokens: [READ_ONLY], repositories: [REPO] });
  });
  afterAll(async () => {
    await render.close();
    await github.close();
  });

  function options(serviceId: string, extra: Partial<DeployOptions> = {}): DeployOptions {
    let now = 0;
    return {
      render: {
        apiKey: render.apiKey,
        serviceId,
        baseUrl: render.apiUrl,
        // A virtual clock: polls and retries wait on it, not on the wall clock.
        sleep: async (ms) => void (now += ms),
        now: () => now,
      },
      commit: COMMIT,
      wait: true,
      pollMs: 1000,
      timeoutMs: 60_000,
      github: {
        token: TOKEN,
        repository: REPO,
        baseUrl: github.url,
        environment: 'production',
        ref: COMMIT,
        logUrl: LOG_URL,
      },
      log: memoryLogger(),
      ...extra,
    };
  }

  it('deploys the commit, follows it to live, and records in_progress then success with the URL', async () => {
    const result = await deployRender(options(LIVE));
    expect(result).toMatchObject({
      mode: 'api',
      serviceId: LIVE,
      status: 'live',
      url: 'https://lakehouse-app.onrender.com',
    });
    expect(render.deploys.get(result.deployId!)).toMatchObject({ commit: { id: COMMIT }, status: 'live' });
    const deployment = github.deployments.get(result.githubDeploymentId!)!;
    expect(deployment).toMatchObject({
      ref: COMMIT,
      environment: 'production',
      auto_merge: false,
      required_contexts: [],
      description: `Render ${LIVE}`,
    });
    expect(deployment.statuses.map((s) => [s.state, s.environment_url, s.log_url])).toEqual([
      ['in_progress', '', LOG_URL],
      ['success', 'https://lakehouse-app.onrender.com', LOG_URL],
    ]);
    expect(deployment.statuses[0]!.description).toBe(`Render deploy ${result.deployId}: created`);
  });

  it('reports build_failed as a failure status and a clear error', async () => {
    const opts = options(FAILING);
    const error = (await deployRender(opts).catch((e: unknown) => e)) as DeployError;
    expect(error).toBeInstanceOf(DeployError);
    expect(error.message).toBe(
      `Render deploy ${error.result.deployId} of ${FAILING} ended build_failed (the build command failed: see the deploy log on Render)`,
    );
    expect(error.result.status).toBe('build_failed');
    const statuses = github.deployments.get(error.result.githubDeploymentId!)!.statuses;
    expect(statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
    expect(statuses[1]!.description).toMatch(
      /^Render deploy dep-\d+ of srv-d0stagefailingggggg ended build_failed/,
    );
    expect(statuses[1]!.description.length).toBeLessThanOrEqual(140);
  });

  it('marks the deployment as error when the deploy outlasts the timeout', async () => {
    const error = (await deployRender(options(STUCK, { timeoutMs: 5000 })).catch(
      (e: unknown) => e,
    )) as DeployError;
    expect(error.message).toMatch(
      /^Render deploy dep-\d+ of srv-d0stagestuckkkkkkkk did not finish within 5 s \(last status: created\)/,
    );
    const statuses = github.deployments.get(error.result.githubDeploymentId!)!.statuses;
    expect(statuses.map((s) => s.state)).toEqual(['in_progress', 'error']);
  });

  it('rides out a 429 and a 503 from Render', async () => {
    render.inject('429', 1, (method) => method === 'POST');
    render.inject('503', 2, (method) => method === 'GET');
    const opts = options(LIVE);
    const result = await deployRender(opts);
    expect(result.status).toBe('live');
    const lines = (opts.log as ReturnType<typeof memoryLogger>).lines;
    expect(lines.filter((l) => /HTTP 429|HTTP 503/.test(l))).toHaveLength(3);
  });

  it("tells GitHub's rate-limit retries in the stage's log", async () => {
    // GitHub refuses every request over its rate limit and asks for no wait, so the retries run out at once.
    const limited = http.createServer((_, res) => {
      res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'API rate limit exceeded' }));
    });
    await new Promise<void>((resolve) => limited.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = limited.address() as AddressInfo;
      const opts = options(LIVE);
      opts.github = { ...opts.github!, baseUrl: `http://127.0.0.1:${port}` };
      await expect(deployRender(opts)).rejects.toThrow(/creating a deployment .* failed \(HTTP 429\)/);
      const lines = (opts.log as ReturnType<typeof memoryLogger>).lines;
      expect(
        lines.filter((l) => /^warning: GitHub: POST .*deployments: HTTP 429 .*; retry \d\/4/.test(l)),
      ).toHaveLength(4);
    } finally {
      await new Promise((resolve) => limited.close(resolve));
    }
  });

  it('stops before deploying when the token may not create deployments', async () => {
    const before = render.requests.length;
    const opts = options(LIVE);
    opts.github!.token = READ_ONLY;
    await expect(deployRender(opts)).rejects.toThrow(
      `GitHub ${REPO}: creating a deployment of ${COMMIT} to production failed (HTTP 403): Resource not accessible by integration`,
    );
    expect(render.requests.length).toBe(before);
  });

  it('fails on a wrong Render key with an error that names the call and not the key, and marks the deployment error', async () => {
    const opts = options(LIVE);
    opts.render.apiKey = 'rnd_aWrongKeyThatMustNotShow';
    const error = (await deployRender(opts).catch((e: unknown) => e)) as DeployError;
    expect(error.message).toBe(
      `Render API POST /v1/services/${LIVE}/deploys: HTTP 401 Unauthorized: unauthorized`,
    );
    expect(error.message).not.toContain('rnd_aWrongKey');
    const statuses = github.deployments.get(error.result.githubDeploymentId!)!.statuses;
    expect(statuses.map((s) => s.state)).toEqual(['error']);
  });

  it('works without GitHub, and without waiting', async () => {
    const before = github.requests.length;
    const result = await deployRender(options(LIVE, { github: undefined, wait: false }));
    expect(result).toMatchObject({ mode: 'api', status: 'created' });
    expect(result.githubDeploymentId).toBeUndefined();
    expect(github.requests.length).toBe(before);
  });

  it('deploys through the hook alone, and records no GitHub deployment it could never finish', async () => {
    const before = github.requests.length;
    const opts = options(LIVE);
    opts.render = { hookUrl: render.hookUrl(LIVE) };
    const result = await deployRender(opts);
    expect(result).toMatchObject({ mode: 'hook', serviceId: LIVE, status: 'triggered' });
    expect(render.deploys.get(result.deployId!)!.trigger).toBe('deploy_hook');
    expect(result.githubDeploymentId).toBeUndefined();
    expect(github.requests.length).toBe(before);
    expect((opts.log as ReturnType<typeof memoryLogger>).lines).toContain(
      'no GitHub deployment recorded: a deploy hook cannot report how it ends',
    );
  });

  it('records a deploy that went live and was replaced before the next look as a success', async () => {
    const result = await deployRender(options(REPLACED));
    expect(result.status).toBe('deactivated');
    const statuses = github.deployments.get(result.githubDeploymentId!)!.statuses;
    expect(statuses.map((s) => [s.state, s.description])).toEqual([
      ['in_progress', `Render deploy ${result.deployId}: created`],
      ['success', `Render deploy ${result.deployId} went live and has since been replaced by a newer deploy`],
    ]);
  });

  it('marks the deployment as error when the wait is aborted (a cancelled workflow)', async () => {
    const stop = new AbortController();
    const opts = options(STUCK, { signal: stop.signal });
    opts.render.sleep = async () => stop.abort();
    const error = (await deployRender(opts).catch((e: unknown) => e)) as DeployError;
    expect(error).toBeInstanceOf(DeployError);
    expect(error.message).toMatch(
      /the wait was aborted \(last status: created\); it may still be running on Render$/,
    );
    const statuses = github.deployments.get(error.result.githubDeploymentId!)!.statuses;
    expect(statuses.map((s) => s.state)).toEqual(['in_progress', 'error']);
  });

  it('asks for a key and service id, or a hook, when given neither', async () => {
    await expect(deployRender(options(LIVE, { render: {} }))).rejects.toThrow(
      'Render: expected an API key and a service id, or a deploy hook URL; found neither',
    );
  });
});
