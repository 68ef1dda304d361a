// The deploy-render action's inputs: read, checked before any request is sent (each error names the input and
// what it expects, and never shows a secret's value), and turned into the deploy plan. The profile's render section
// in lakehouse.yml (when there is one) gives the service, key, hook and API URL that inputs do not.
import { loadConfig, supplyEnvReferences } from '../../src/config/load.ts';
import type { ProfileConfig } from '../../src/config/schema.ts';
import {
  booleanInput,
  configFile,
  inputReader,
  positiveInput,
  type InputReader,
} from '../../src/github/action-inputs.ts';
import type { DeployPlan } from '../../src/pipeline/deploy.ts';

const SERVICE_ID = /^srv-[a-z0-9]+$/;
const COMMIT = /^[0-9a-f]{7,40}$/i;

export function readInputs(input: (name: string) => string, env: NodeJS.ProcessEnv): DeployPlan {
  const text = inputReader(input);
  const profile = profileRender(text);
  const apiKey = text('api-key') ?? profile.apiKey;
  const hookUrl = text('deploy-hook-url') ?? profile.deployHookUrl;
  // The hook URL names the service: with an API key, it is enough to deploy through the API.
  const serviceId =
    text('service-id') ??
    profile.serviceId ??
    (apiKey ? /\/deploy\/(srv-[a-z0-9]+)\?/.exec(hookUrl ?? '')?.[1] : undefined);

  if (serviceId !== undefined && !SERVICE_ID.test(serviceId))
    throw new Error(
      `input service-id: expected a Render service id like srv-d0abc123 (from the service's dashboard URL), found ${JSON.stringify(serviceId)}`,
    );
  if (hookUrl !== undefined) checkHookUrl(hookUrl);
  const mode = apiKey && serviceId ? 'api' : hookUrl ? 'hook' : undefined;
  if (!mode) {
    if (apiKey)
      throw new Error(
        'input service-id: expected a Render service id (srv-…) to go with api-key, found none',
      );
    if (serviceId)
      throw new Error('input api-key: expected a Render API key to go with service-id, found none');
    throw new Error(
      'inputs api-key and service-id, or deploy-hook-url: expected a Render API key and service id, or a deploy hook URL; found none of them (are the secrets set?)',
    );
  }

  const commit = text('commit') ?? env.GITHUB_SHA;
  if (commit !== undefined && !COMMIT.test(commit))
    throw new Error(
      `input commit: expected a git commit SHA (7 to 40 hex digits), found ${JSON.stringify(commit)}`,
    );
  const apiUrl = text('api-url') ?? profile.apiUrl ?? 'https://api.render.com/v1';
  if (!/^https?:\/\/[^\s/]+/.test(apiUrl))
    throw new Error(`input api-url: expected an http(s) URL, found ${JSON.stringify(apiUrl)}`);
  const environment = text('environment') ?? 'production';

  const plan: DeployPlan = {
    render: mode === 'api' ? { apiKey, serviceId, baseUrl: apiUrl } : { hookUrl, baseUrl: apiUrl },
    commit,
    clearCache: booleanInput(text, 'clear-cache', false),
    wait: booleanInput(text, 'wait', true),
    timeoutMs: (positiveInput(text, 'timeout-minutes', 'minutes') ?? 15) * 60_000,
    pollMs: (positiveInput(text, 'poll-seconds', 'seconds') ?? 10) * 1000,
  };
  if (booleanInput(text, 'create-github-deployment', true))
    plan.github = githubTarget(text, env, environment, commit);
  return plan;
}

/** The values the runner must mask: the key, the hook URL, and the key inside the hook URL on its own. */
export function secretsOf(apiKey: string | undefined, hookUrl: string | undefined): string[] {
  const secrets = [apiKey?.trim(), hookUrl?.trim()].filter((s): s is string => Boolean(s));
  const hookKey = /[?&]key=([^&#]+)/.exec(hookUrl ?? '')?.[1];
  if (hookKey) secrets.push(hookKey, decodeURIComponent(hookKey));
  return secrets;
}

/**
 * The render section of the config input's profile, its ${env:…} filled from the inputs given; empty without
 * lakehouse.yml or without a render section.
 */
function profileRender(text: InputReader): NonNullable<ProfileConfig['render']> {
  const file = configFile(text('config') ?? '');
  if (!file) return {};
  const profile = text('profile');
  supplyEnvReferences(file, profile, 'render', {
    serviceId: text('service-id'),
    apiKey: text('api-key'),
    deployHookUrl: text('deploy-hook-url'),
  });
  return loadConfig(file, profile, { resolve: ['render'] }).profile.render ?? {};
}

function checkHookUrl(hookUrl: string): void {
  let url: URL | undefined;
  try {
    url = new URL(hookUrl);
  } catch {
    url = undefined;
  }
  if (
    !url ||
    !/^https?:$/.test(url.protocol) ||
    !/\/deploy\/srv-[a-z0-9]+$/.test(url.pathname) ||
    !url.searchParams.get('key')
  )
    throw new Error(
      'input deploy-hook-url: expected a Render deploy hook URL like https://api.render.com/deploy/srv-…?key=… (the value given is not shown: it is a secret)',
    );
}

function githubTarget(
  text: InputReader,
  env: NodeJS.ProcessEnv,
  environment: string,
  commit: string | undefined,
): NonNullable<DeployPlan['github']> {
  const token = text('github-token');
  if (!token)
    throw new Error(
      'input github-token: expected a token to record the GitHub deployment (default: github.token), found none; or set create-github-deployment: false',
    );
  const repository = env.GITHUB_REPOSITORY;
  if (!repository || !/^[^/\s]+\/[^/\s]+$/.test(repository))
    throw new Error(
      `GITHUB_REPOSITORY: expected owner/name (GitHub sets it) to record the GitHub deployment, found ${JSON.stringify(repository ?? '')}; or set create-github-deployment: false`,
    );
  const ref = commit ?? env.GITHUB_REF_NAME;
  if (!ref)
    throw new Error(
      'input commit: expected the commit to record in the GitHub deployment (GITHUB_SHA is not set)',
    );
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
  return {
    token,
    repository,
    baseUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    environment,
    ref,
    logUrl: env.GITHUB_RUN_ID ? `${server}/${repository}/actions/runs/${env.GITHUB_RUN_ID}` : undefined,
  };
}
