// src/github/ holds what talks to GitHub: Deployments (this file), and what the actions share: input reading
// and masking (action-inputs.ts), the job summary and failure a stage's outcome becomes (action-report.ts).
//
// GitHub Deployments through @octokit/rest: a deployment records that a ref went to an environment, and its
// statuses tell how that went (in_progress while Render builds, then success with the app's URL, or failure).
// GitHub shows them on the repository's Environments page and on the commit.
//
// Octokit sends its requests through the project's HTTP client (src/http/, given as Octokit's `request.fetch`), so
// GitHub gets the same retry policy as every other API: @octokit/rest itself does not retry. Both calls here are
// POSTs that create something, so they are repeated only when GitHub refused them over a rate limit (429, or 403
// with Retry-After or X-RateLimit-Remaining: 0, as GitHub documents), or the connection was refused.
import { Octokit } from '@octokit/rest';
import { HttpClient, type HttpAnswer } from '../http/index.ts';
import { retryCountNote, type RetryPolicy } from '../util/backoff.ts';
import { consoleLogger, type Logger } from '../util/log.ts';

export type DeploymentState = 'queued' | 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

export interface GitHubDeploymentsOptions {
  token: string;
  /** owner/name, as in GITHUB_REPOSITORY. */
  repository: string;
  /** GITHUB_API_URL: https://api.github.com, or a GitHub Enterprise Server's /api/v3 (tests: their server). */
  baseUrl?: string;
  retry?: Partial<RetryPolicy>;
  /** Where retries are told (default: the console). */
  log?: Logger;
}

export interface NewDeployment {
  /** A commit SHA, branch or tag. */
  ref: string;
  environment: string;
  description?: string;
}

export interface DeploymentStatus {
  state: DeploymentState;
  /** The deployed app's URL, shown as "View deployment". */
  environmentUrl?: string;
  /** Where to read how it went (the workflow run). */
  logUrl?: string;
  description?: string;
}

/** GitHub rejects a status description longer than 140 characters. */
const MAX_DESCRIPTION = 140;

export class GitHubDeployments {
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly repo: string;

  constructor(options: GitHubDeploymentsOptions) {
    const [owner, repo, extra] = options.repository.split('/');
    if (!owner || !repo || extra !== undefined)
      throw new Error(
        `GitHub repository: expected owner/name (as in GITHUB_REPOSITORY), found ${JSON.stringify(options.repository)}`,
      );
    this.owner = owner;
    this.repo = repo;
    const http = new HttpClient({
      retry: options.retry,
      log: options.log ?? consoleLogger,
      refused: rateLimited,
      retryMessage: (error, notice) => `GitHub: ${error.message}; ${retryCountNote(notice)}`,
    });
    this.octokit = new Octokit({
      request: { fetch: http.fetch },
      auth: options.token,
      baseUrl: options.baseUrl?.replace(/\/+$/, ''),
      userAgent: 'actions-lakehouse deploy-render',
      // Octokit logs request failures with console.warn; the caller reports them once, in its own words.
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
  }

  /** Creates a deployment of `ref` to `environment` and returns its id. */
  async create(deployment: NewDeployment): Promise<number> {
    const response = await this.call(
      `creating a deployment of ${deployment.ref} to ${deployment.environment}`,
      () =>
        this.octokit.rest.repos.createDeployment({
          owner: this.owner,
          repo: this.repo,
          ref: deployment.ref,
          environment: deployment.environment,
          description: deployment.description,
          // Deploy exactly this ref, and do not wait for commit statuses: the workflow has run the checks.
          auto_merge: false,
          required_contexts: [],
        }),
    );
    const id = (response.data as { id?: unknown }).id;
    if (typeof id !== 'number')
      throw new Error(
        `GitHub ${this.owner}/${this.repo}: creating a deployment of ${deployment.ref}: expected a deployment in the answer, found ${JSON.stringify(response.data)}`,
      );
    return id;
  }

  async setStatus(deploymentId: number, status: DeploymentStatus): Promise<void> {
    await this.call(`setting deployment ${deploymentId} to ${status.state}`, () =>
      this.octokit.rest.repos.createDeploymentStatus({
        owner: this.owner,
        repo: this.repo,
        deployment_id: deploymentId,
        state: status.state,
        environment_url: status.environmentUrl,
        log_url: status.logUrl,
        description: status.description && shorten(status.description, MAX_DESCRIPTION),
      }),
    );
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      const status = (e as { status?: unknown }).status;
      const message = e instanceof Error ? e.message : String(e);
      throw new Error(
        `GitHub ${this.owner}/${this.repo}: ${what} failed${typeof status === 'number' ? ` (HTTP ${status})` : ''}: ${message}${hint(status)}`,
        { cause: e },
      );
    }
  }
}

/** https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api: a refused request did nothing. */
function rateLimited(answer: HttpAnswer): boolean {
  if (answer.status === 429) return true;
  const { headers } = answer;
  return (
    answer.status === 403 && (headers.has('retry-after') || headers.get('x-ratelimit-remaining') === '0')
  );
}

function hint(status: unknown): string {
  if (status === 403 || status === 404)
    return ' (the token needs `permissions: deployments: write` in the workflow job)';
  if (status === 401) return ' (the github-token input is not a valid token)';
  return '';
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
