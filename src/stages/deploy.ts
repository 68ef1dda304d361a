// The deploy stage: start a Render deploy of a commit (REST API, or the deploy hook for users who have only that),
// follow it to live or to a failure, and record it as a GitHub Deployment whose statuses tell the same story.
import { GitHubDeployments, type DeploymentState } from '../github/deployments.ts';
import {
  isFailed,
  isLive,
  RenderClient,
  type RenderClientOptions,
  type RenderDeploy,
} from '../render/client.ts';
import { errorMessage, type Logger } from '../util/log.ts';

export interface DeployOptions {
  /** REST API mode: apiKey and serviceId. Hook mode: hookUrl alone. */
  render: Omit<RenderClientOptions, 'log'> & { serviceId?: string; hookUrl?: string };
  /** The commit to deploy (API mode; the hook deploys the branch's latest commit). */
  commit?: string;
  clearCache?: boolean;
  /** Follow the deploy to a terminal status (API mode only). */
  wait: boolean;
  pollMs?: number;
  timeoutMs?: number;
  /** Ends the wait (a cancelled workflow): the GitHub deployment is marked `error`. */
  signal?: AbortSignal;
  /**
   * Record a GitHub Deployment; absent: none. Only a deploy that is followed (API mode, waiting) is recorded, so
   * that no deployment is left `in_progress` for good.
   */
  github?: {
    token: string;
    repository: string;
    baseUrl?: string;
    environment: string;
    /** The ref the deployment names (the commit). */
    ref: string;
    /** The workflow run, linked from each status. */
    logUrl?: string;
  };
  log: Logger;
}

export interface DeployResult {
  mode: 'api' | 'hook';
  serviceId?: string;
  deployId?: string;
  /** Render's last status; `triggered` when the hook started a deploy nobody follows. */
  status: string;
  /** The service's public URL, once live. */
  url?: string;
  githubDeploymentId?: number;
}

/** The deploy did not go live (or could not be followed); `result` holds what is known. */
export class DeployError extends Error {
  override name = 'DeployError';
  readonly result: DeployResult;
  constructor(message: string, result: DeployResult) {
    super(message);
    this.result = result;
  }
}

export async function deployRender(options: DeployOptions): Promise<DeployResult> {
  const { render, log } = options;
  const client = new RenderClient({ ...render, log });
  const mode = render.apiKey && render.serviceId ? 'api' : render.hookUrl ? 'hook' : undefined;
  if (!mode)
    throw new Error('Render: expected an API key and a service id, or a deploy hook URL; found neither');
  const followed = mode === 'api' && options.wait;
  if (options.github && !followed)
    log.info(
      `no GitHub deployment recorded: ${mode === 'hook' ? 'a deploy hook' : 'a deploy not waited for'} cannot report how it ends`,
    );
  // The stage's log, not the console: GitHub's rate-limit retries are told where the rest of the deploy is.
  const github = followed && options.github ? new GitHubDeployments({ ...options.github, log }) : undefined;
  const result: DeployResult = { mode, serviceId: render.serviceId, status: 'not started' };

  // The deployment is created first, so that a token without `deployments: write` stops before Render deploys.
  if (github && options.github) {
    result.githubDeploymentId = await github.create({
      ref: options.github.ref,
      environment: options.github.environment,
      description: `Render ${mode === 'api' ? render.serviceId : 'deploy hook'}`,
    });
    log.info(`GitHub deployment ${result.githubDeploymentId} created for ${options.github.environment}`);
  }
  const setStatus = async (state: DeploymentState, description: string, environmentUrl?: string) => {
    if (!github || result.githubDeploymentId === undefined) return;
    await github.setStatus(result.githubDeploymentId, {
      state,
      description,
      environmentUrl,
      logUrl: options.github?.logUrl,
    });
  };

  try {
    if (mode === 'hook') return await deployByHook(client, render.hookUrl!, result, log);
    return await deployByApi(client, options, result, setStatus);
  } catch (e) {
    if (e instanceof DeployError) throw e;
    const message = errorMessage(e);
    // The deploy's outcome is unknown (not a Render failure): GitHub's `error` state says so.
    await setStatus('error', message).catch((s: unknown) =>
      log.warn(`could not set the GitHub deployment status: ${errorMessage(s)}`),
    );
    throw new DeployError(message, result);
  }
}

type SetStatus = (state: DeploymentState, description: string, environmentUrl?: string) => Promise<void>;

async function deployByApi(
  client: RenderClient,
  options: DeployOptions,
  result: DeployResult,
  setStatus: SetStatus,
): Promise<DeployResult> {
  const { log } = options;
  const serviceId = options.render.serviceId!;
  const started = await client.triggerDeploy(serviceId, {
    commitId: options.commit,
    clearCache: options.clearCache,
  });
  if (!started?.id)
    throw new Error(
      `Render POST /v1/services/${serviceId}/deploys: expected a deploy with an id, found ${JSON.stringify(started)}`,
    );
  result.deployId = started.id;
  result.status = started.status;
  log.info(`Render deploy ${started.id} of ${serviceId} started (${describe(started)}): ${started.status}`);
  await setStatus('in_progress', `Render deploy ${started.id}: ${started.status}`);
  if (!options.wait) return result;

  const finished = await client.waitForDeploy(serviceId, started.id, {
    pollMs: options.pollMs,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    onStatus: (d) => log.info(`Render deploy ${d.id}: ${d.status}`),
  });
  result.status = finished.status;
  if (isLive(finished.status)) {
    result.url = await serviceUrl(client, serviceId, log);
    const state =
      finished.status === 'live' ? 'is live' : 'went live and has since been replaced by a newer deploy';
    log.info(`Render deploy ${finished.id} ${state}${result.url ? ` at ${result.url}` : ''}`);
    await setStatus('success', `Render deploy ${finished.id} ${state}`, result.url);
    return result;
  }
  const message = `Render deploy ${finished.id} of ${serviceId} ended ${finished.status}${failureHint(finished.status)}`;
  if (isFailed(finished.status)) await setStatus('failure', message);
  throw new DeployError(message, result);
}

async function deployByHook(
  client: RenderClient,
  hookUrl: string,
  result: DeployResult,
  log: Logger,
): Promise<DeployResult> {
  const started = await client.triggerDeployHook(hookUrl);
  result.deployId = started.deployId;
  result.serviceId = started.serviceId;
  result.status = 'triggered';
  log.info(
    `Render deploy${started.deployId ? ` ${started.deployId}` : ''} started by the deploy hook of ${started.serviceId ?? 'the service'}; without an API key its result is not followed`,
  );
  return result;
}

/** The URL of the live service; a deploy that went live is not failed for want of it. */
async function serviceUrl(client: RenderClient, serviceId: string, log: Logger): Promise<string | undefined> {
  try {
    return (await client.getService(serviceId)).serviceDetails?.url || undefined;
  } catch (e) {
    log.warn(`the deploy is live, but the service's URL could not be read: ${errorMessage(e)}`);
    return undefined;
  }
}

function describe(deploy: RenderDeploy): string {
  return deploy.commit?.id ? `commit ${deploy.commit.id.slice(0, 12)}` : 'latest commit';
}

function failureHint(status: string): string {
  if (status === 'build_failed') return ' (the build command failed: see the deploy log on Render)';
  if (status === 'update_failed')
    return ' (the new instance did not become healthy: see the deploy log on Render)';
  if (status === 'pre_deploy_failed') return ' (the pre-deploy command failed: see the deploy log on Render)';
  if (status === 'canceled')
    return ' (canceled on Render, or replaced by a newer deploy before it went live)';
  return '';
}
