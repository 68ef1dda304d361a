// A GitHub REST API server for the Deployments endpoints, written from GitHub's public REST reference: create a
// deployment (POST /repos/{owner}/{repo}/deployments), get one, create a deployment status
// (POST …/deployments/{id}/statuses) and list them (GET …/statuses, newest first). Tokens are checked (401 "Bad
// credentials"); a token without the deployments permission gets 403 "Resource not accessible by integration";
// invalid bodies get 422 "Validation Failed" with an `errors` list, as GitHub answers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../http-body.ts';

const DOCS = 'https://docs.github.com/rest/deployments';
const STATES = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'];

export interface FakeDeployment {
  id: number;
  ref: string;
  sha: string;
  environment: string;
  description: string | null;
  auto_merge: unknown;
  required_contexts: unknown;
  statuses: FakeDeploymentStatus[];
}

export interface FakeDeploymentStatus {
  id: number;
  state: string;
  description: string;
  environment_url: string;
  log_url: string;
  environment: string;
  created_at: string;
}

export interface GitHubRequestRecord {
  method: string;
  path: string;
  authorization?: string;
  body?: unknown;
  status: number;
}

export interface GitHubServerOptions {
  /** Tokens allowed to write deployments. */
  tokens?: string[];
  /** Tokens that authenticate but lack `deployments: write`. */
  readOnlyTokens?: string[];
  /** owner/name of the repositories that exist. */
  repositories?: string[];
}

export interface GitHubServer {
  url: string;
  deployments: Map<number, FakeDeployment & { repository: string }>;
  requests: GitHubRequestRecord[];
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  readonly errors?: unknown[];
  constructor(status: number, message: string, errors?: unknown[]) {
    super(message);
    this.status = status;
    this.errors = errors;
  }
}

export async function startGitHubServer(options: GitHubServerOptions = {}): Promise<GitHubServer> {
  const state = new GitHubState(options);
  const requests: GitHubRequestRecord[] = [];

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const record: GitHubRequestRecord = {
      method: req.method ?? 'GET',
      path,
      authorization: req.headers.authorization,
      status: 0,
    };
    requests.push(record);
    readBody(req)
      .then((body) => body.toString('utf8'))
      .then((text) => {
        if (text) record.body = parseJson(text);
        reply(res, record, state.route(record));
      })
      .catch((e: unknown) => {
        const error = e instanceof HttpError ? e : new HttpError(500, String(e));
        reply(res, record, {
          status: error.status,
          body: {
            message: error.message,
            ...(error.errors ? { errors: error.errors } : {}),
            documentation_url: DOCS,
            status: String(error.status),
          },
        });
      });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: state.url,
    deployments: state.deployments,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'Problems parsing JSON');
  }
}

/** The repositories, the tokens that may reach them, and the deployments and statuses created. */
class GitHubState {
  readonly deployments = new Map<number, FakeDeployment & { repository: string }>();
  /** The server's origin, in the resources' URLs (known once it listens). */
  url = '';
  private seq = 1000;
  private readonly tokens: Set<string>;
  private readonly readOnly: Set<string>;
  private readonly repositories: Set<string>;

  constructor(options: GitHubServerOptions) {
    this.tokens = new Set(options.tokens ?? ['ghs_testToken0123456789']);
    this.readOnly = new Set(options.readOnlyTokens ?? []);
    this.repositories = new Set(options.repositories ?? ['octo-org/lakehouse']);
  }

  route(record: GitHubRequestRecord): { status: number; body: unknown } {
    const token = /^(?:token|bearer) (.+)$/i.exec(record.authorization ?? '')?.[1];
    if (!token || !(this.tokens.has(token) || this.readOnly.has(token)))
      throw new HttpError(401, 'Bad credentials');
    const m = /^\/repos\/([^/]+)\/([^/]+)\/deployments(?:\/(\d+))?(\/statuses)?$/.exec(record.path);
    if (!m) throw new HttpError(404, 'Not Found');
    const repository = `${m[1]}/${m[2]}`;
    if (!this.repositories.has(repository)) throw new HttpError(404, 'Not Found');
    const writes = record.method === 'POST';
    if (writes && this.readOnly.has(token))
      throw new HttpError(403, 'Resource not accessible by integration');
    if (!m[3] && record.method === 'POST')
      return { status: 201, body: this.createDeployment(repository, record.body) };
    const deployment = m[3] ? this.deployments.get(Number(m[3])) : undefined;
    if (!deployment || deployment.repository !== repository) throw new HttpError(404, 'Not Found');
    if (!m[4] && record.method === 'GET') return { status: 200, body: this.deploymentResource(deployment) };
    if (m[4] && record.method === 'POST')
      return {
        status: 201,
        body: this.statusResource(deployment, this.createStatus(deployment, record.body)),
      };
    if (m[4] && record.method === 'GET')
      return {
        status: 200,
        body: [...deployment.statuses].reverse().map((s) => this.statusResource(deployment, s)),
      };
    throw new HttpError(404, 'Not Found');
  }

  private createDeployment(repository: string, body: unknown): unknown {
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b.ref !== 'string' || b.ref === '')
      throw new HttpError(422, 'Invalid request.\n\n"ref" wasn\'t supplied.');
    if (b.required_contexts !== undefined && !Array.isArray(b.required_contexts))
      throw new HttpError(422, 'Validation Failed', [
        { resource: 'Deployment', code: 'invalid', field: 'required_contexts' },
      ]);
    // A ref that names no commit, branch or tag: GitHub says so in a 422.
    if (!/^[0-9a-f]{7,40}$/.test(b.ref) && !/^[\w./-]+$/.test(b.ref))
      throw new HttpError(422, `No ref found for: ${b.ref}`);
    const deployment: FakeDeployment & { repository: string } = {
      id: ++this.seq,
      repository,
      ref: b.ref,
      sha: /^[0-9a-f]{40}$/.test(b.ref) ? b.ref : '0'.repeat(40),
      environment: typeof b.environment === 'string' ? b.environment : 'production',
      description: typeof b.description === 'string' ? b.description : null,
      auto_merge: b.auto_merge,
      required_contexts: b.required_contexts,
      statuses: [],
    };
    this.deployments.set(deployment.id, deployment);
    return this.deploymentResource(deployment);
  }

  private createStatus(deployment: FakeDeployment, body: unknown): FakeDeploymentStatus {
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b.state !== 'string' || !STATES.includes(b.state))
      throw new HttpError(422, 'Validation Failed', [
        { resource: 'DeploymentStatus', code: 'invalid', field: 'state' },
      ]);
    if (typeof b.description === 'string' && b.description.length > 140)
      throw new HttpError(422, 'Validation Failed', [
        {
          resource: 'DeploymentStatus',
          code: 'custom',
          field: 'description',
          message: 'description is too long (maximum is 140 characters)',
        },
      ]);
    for (const field of ['environment_url', 'log_url'])
      if (b[field] !== undefined && (typeof b[field] !== 'string' || !/^https?:\/\//.test(b[field])))
        throw new HttpError(422, 'Validation Failed', [
          { resource: 'DeploymentStatus', code: 'invalid', field },
        ]);
    const status: FakeDeploymentStatus = {
      id: ++this.seq,
      state: b.state,
      description: typeof b.description === 'string' ? b.description : '',
      environment_url: typeof b.environment_url === 'string' ? b.environment_url : '',
      log_url: typeof b.log_url === 'string' ? b.log_url : '',
      environment: deployment.environment,
      created_at: new Date().toISOString(),
    };
    deployment.statuses.push(status);
    return status;
  }

  private deploymentResource(d: FakeDeployment & { repository: string }) {
    const self = `${this.url}/repos/${d.repository}/deployments/${d.id}`;
    return {
      url: self,
      id: d.id,
      node_id: `DE_${d.id}`,
      sha: d.sha,
      ref: d.ref,
      task: 'deploy',
      payload: {},
      original_environment: d.environment,
      environment: d.environment,
      description: d.description,
      creator: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
      statuses_url: `${self}/statuses`,
      repository_url: `${this.url}/repos/${d.repository}`,
      transient_environment: false,
      production_environment: d.environment === 'production',
    };
  }

  private statusResource(d: FakeDeployment & { repository: string }, s: FakeDeploymentStatus) {
    const deploymentUrl = `${this.url}/repos/${d.repository}/deployments/${d.id}`;
    return {
      url: `${deploymentUrl}/statuses/${s.id}`,
      id: s.id,
      node_id: `DES_${s.id}`,
      state: s.state,
      description: s.description,
      environment: s.environment,
      target_url: s.log_url,
      log_url: s.log_url,
      environment_url: s.environment_url,
      created_at: s.created_at,
      updated_at: s.created_at,
      deployment_url: deploymentUrl,
      repository_url: `${this.url}/repos/${d.repository}`,
    };
  }
}

function reply(
  res: http.ServerResponse,
  record: GitHubRequestRecord,
  { status, body }: { status: number; body: unknown },
): void {
  record.status = status;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
