// GitHub Deployments through @octokit/rest against the fake GitHub API (src/standins/github): what is sent, and
// how GitHub's refusals (401, 403, 422) come back as errors that say what to fix.
import { Octokit } from '@octokit/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubDeployments } from '../../src/github/deployments.ts';
import { startGitHubServer, type GitHubServer } from '../../src/standins/github/server.ts';

const TOKEN = 'ghs_deploymentsToken012345';
const REPO = 'octo-org/lakehouse';
const SHA = 'fedcba9876543210fedcba9876543210fedcba98';

describe('GitHubDeployments', () => {
  let github: GitHubServer;
  beforeAll(async () => {
    github = await startGitHubServer({
      tokens: [TOKEN],
      readOnlyTokens: ['ghs_readOnly0123'],
      repositories: [REPO],
    });
  });
  afterAll(() => github.close());

  const deployments = (token = TOKEN, repository = REPO) =>
    new GitHubDeployments({ token, repository, baseUrl: github.url });

  it('creates a deployment of a commit and sets its statuses, newest first when listed', async () => {
    const d = deployments();
    const id = await d.create({ ref: SHA, environment: 'staging', description: 'Render srv-x' });
    const created = github.requests.at(-1)!;
    expect(created).toMatchObject({
      method: 'POST',
      path: `/repos/${REPO}/deployments`,
      authorization: `token ${TOKEN}`,
      body: {
        ref: SHA,
        environment: 'staging',
        description: 'Render srv-x',
        auto_merge: false,
        required_contexts: [],
      },
    });
    await d.setStatus(id, {
      state: 'in_progress',
      description: 'building',
      logUrl: 'https://github.com/run/1',
    });
    await d.setStatus(id, {
      state: 'success',
      description: 'x'.repeat(300),
      environmentUrl: 'https://app.onrender.com',
      logUrl: 'https://github.com/run/1',
    });
    const octokit = new Octokit({ auth: TOKEN, baseUrl: github.url });
    const { data } = await octokit.rest.repos.listDeploymentStatuses({
      owner: 'octo-org',
      repo: 'lakehouse',
      deployment_id: id,
    });
    expect(data.map((s) => [s.state, s.environment_url])).toEqual([
      ['success', 'https://app.onrender.com'],
      ['in_progress', ''],
    ]);
    // GitHub refuses descriptions over 140 characters: the long one was shortened, not refused.
    expect(data[0]!.description).toHaveLength(140);
    expect(data[0]!.description!.endsWith('…')).toBe(true);
  });

  it('says what to fix when GitHub refuses', async () => {
    await expect(
      deployments('ghs_notAToken999').create({ ref: SHA, environment: 'production' }),
    ).rejects.toThrow(
      `GitHub ${REPO}: creating a deployment of ${SHA} to production failed (HTTP 401): Bad credentials`,
    );
    await expect(
      deployments('ghs_readOnly0123').create({ ref: SHA, environment: 'production' }),
    ).rejects.toThrow(
      /\(HTTP 403\): Resource not accessible by integration.*\(the token needs `permissions: deployments: write` in the workflow job\)$/,
    );
    await expect(deployments().create({ ref: 'no such ref!', environment: 'production' })).rejects.toThrow(
      `GitHub ${REPO}: creating a deployment of no such ref! to production failed (HTTP 422): No ref found for: no such ref!`,
    );
    await expect(deployments().setStatus(999_999, { state: 'success' })).rejects.toThrow(
      `GitHub ${REPO}: setting deployment 999999 to success failed (HTTP 404): Not Found`,
    );
  });

  it('answers an invalid status with 422 Validation Failed and the field, as GitHub does', async () => {
    const id = await deployments().create({ ref: SHA, environment: 'production' });
    const response = await fetch(`${github.url}/repos/${REPO}/deployments/${id}/statuses`, {
      method: 'POST',
      headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'done' }),
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({
      message: 'Validation Failed',
      errors: [{ resource: 'DeploymentStatus', code: 'invalid', field: 'state' }],
    });
  });

  it('refuses a repository that is not owner/name', () => {
    expect(() => deployments(TOKEN, 'lakehouse')).toThrow(
      'GitHub repository: expected owner/name (as in GITHUB_REPOSITORY), found "lakehouse"',
    );
  });
});
