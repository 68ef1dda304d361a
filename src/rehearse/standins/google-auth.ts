// google-github-actions/auth with Workload Identity Federation (or a key), leaving credentials where Google's
// client libraries look for them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { StepCall, StepDone } from '../runtime.ts';
import { booleanInput, exportVariable, failed, setOutput, succeededWithCleanup, type Standin } from './io.ts';

export const googleAuth: Standin = {
  action: 'google-github-actions/auth',
  onGitHub:
    'with workload_identity_provider (and service_account) asks GitHub for the job’s ID token (the job needs permissions id-token: write) and writes an external_account credentials file that exchanges it at Google’s STS; with credentials_json writes the key; exports GOOGLE_APPLICATION_CREDENTIALS, CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE, GOOGLE_GHA_CREDS_PATH and the project variables (CLOUDSDK_CORE_PROJECT, CLOUDSDK_PROJECT, GCLOUD_PROJECT, GCP_PROJECT, GOOGLE_CLOUD_PROJECT); removes the file in its post step.',
  here: 'the same checks (exactly one of workload_identity_provider and credentials_json; the ID-token variables present), the same file (its credential_source is the GitHub stand-in’s ID-token endpoint) and the same variables; the GCS stand-in is reached through STORAGE_EMULATOR_HOST, where Google’s client sends no credentials, so the token exchange itself is not rehearsed.',
  inputs: [
    'project_id',
    'workload_identity_provider',
    'service_account',
    'audience',
    'credentials_json',
    'create_credentials_file',
    'export_environment_variables',
    'token_format',
    'delegates',
    'universe',
    'request_reason',
    'cleanup_credentials',
    'access_token_lifetime',
    'access_token_scopes',
    'access_token_subject',
    'retries',
    'backoff',
    'backoff_limit',
    'id_token_audience',
    'id_token_include_email',
  ],
  run: async (call) => authenticate(call),
};

function authenticate(call: StepCall): StepDone {
  const provider = call.inputs.workload_identity_provider ?? '';
  const key = call.inputs.credentials_json ?? '';
  if (!provider === !key)
    return failed(
      call,
      'google-github-actions/auth failed with: the GitHub Action workflow must specify exactly one of "workload_identity_provider" or "credentials_json"! If you are specifying input values via GitHub secrets, ensure the secret is being injected into the environment. By default, secrets are not passed to workflows triggered from forks, including Dependabot.',
    );
  const credentials = provider ? externalAccount(call, provider) : parseKey(call, key);
  if (typeof credentials === 'string') return failed(call, credentials);
  const project =
    call.inputs.project_id ||
    (credentials.project_id as string | undefined) ||
    /@([^.]+)\.iam\.gserviceaccount\.com$/.exec(call.inputs.service_account ?? '')?.[1] ||
    '';
  const workspace = call.runtime.place.workspace;
  const file = path.join(workspace, `gha-creds-${crypto.randomBytes(8).toString('hex')}.json`);
  if (booleanInput(call, 'create_credentials_file', true)) {
    fs.writeFileSync(file, JSON.stringify(credentials), { mode: 0o640 });
    setOutput(call, 'credentials_file_path', file);
    if (booleanInput(call, 'export_environment_variables', true))
      for (const name of [
        'CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE',
        'GOOGLE_APPLICATION_CREDENTIALS',
        'GOOGLE_GHA_CREDS_PATH',
      ])
        exportVariable(call, name, file);
  }
  if (project && booleanInput(call, 'export_environment_variables', true))
    for (const name of [
      'CLOUDSDK_CORE_PROJECT',
      'CLOUDSDK_PROJECT',
      'GCLOUD_PROJECT',
      'GCP_PROJECT',
      'GOOGLE_CLOUD_PROJECT',
    ])
      exportVariable(call, name, project);
  setOutput(call, 'project_id', project);
  call.io.log(`Created credentials file at "${file}"`);
  if (!booleanInput(call, 'cleanup_credentials', true)) return { ok: true };
  return succeededWithCleanup(call, () => fs.rmSync(file, { force: true }));
}

function externalAccount(call: StepCall, provider: string): Record<string, unknown> | string {
  const url = call.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const token = call.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !token)
    return 'google-github-actions/auth failed with: gha-auth: GitHub Actions did not inject $ACTIONS_ID_TOKEN_REQUEST_TOKEN or $ACTIONS_ID_TOKEN_REQUEST_URL into this job. This most likely means the GitHub Actions workflow permissions are incorrect (the job needs permissions: id-token: write), or this job is being run from a fork.';
  const audience = call.inputs.audience || `https://iam.googleapis.com/${provider}`;
  const account = call.inputs.service_account;
  return {
    type: 'external_account',
    audience: `//iam.googleapis.com/${provider}`,
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    token_url: 'https://sts.googleapis.com/v1/token',
    ...(account
      ? {
          service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${account}:generateAccessToken`,
        }
      : {}),
    credential_source: {
      url: `${url}&audience=${encodeURIComponent(audience)}`,
      headers: { Authorization: `Bearer ${token}` },
      format: { type: 'json', subject_token_field_name: 'value' },
    },
  };
}

function parseKey(call: StepCall, json: string): Record<string, unknown> | string {
  call.runtime.run.masker.add(json);
  try {
    const key = JSON.parse(json) as Record<string, unknown>;
    call.runtime.run.masker.add(key.private_key as string | undefined);
    return key;
  } catch {
    return 'google-github-actions/auth failed with: failed to parse service account key JSON credentials: the value is not JSON';
  }
}
