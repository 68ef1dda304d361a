// The Databricks action's inputs: read, checked (saying what was expected and what was found), and combined with
// lakehouse.yml into the request of the run: the profile's databricks section, with each input given over it, and
// how to sign in. Everything here happens before the first request.
import * as core from '@actions/core';
import { parse, parseDocument } from 'yaml';
import { loadConfig, supplyEnvReferences, type ResolvedConfig } from '../../src/config/load.ts';
import {
  AUTH_KINDS,
  impliedAuthKind,
  type AuthKind,
  type AuthSettings,
  type DatabricksAuth,
} from '../../src/databricks/auth.ts';
import { workspaceUrl } from '../../src/databricks/rest.ts';
import {
  actionLogger,
  booleanInput,
  inputReader,
  listOf,
  positiveInput,
} from '../../src/github/action-inputs.ts';
import type { DatabricksTransformRequest } from '../../src/pipeline/transform-databricks.ts';
import type { ParameterValue } from '../../src/stages/transform-databricks.ts';

export interface DatabricksInputs {
  config: string;
  profile?: string;
  host?: string;
  auth?: AuthKind;
  token?: string;
  clientId?: string;
  clientSecret?: string;
  oidcAudience?: string;
  warehouseId?: string;
  clusterId?: string;
  workspaceFolder?: string;
  notebooks?: string[];
  parameters?: Record<string, ParameterValue>;
  timeoutMinutes?: number;
  pollSeconds?: number;
  dryRun: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Input full-refresh: the notebooks' full_refresh parameter, over the parameters input (false leaves them be). */
function withFullRefresh(
  parameters: Record<string, ParameterValue> | undefined,
  fullRefresh: boolean,
): Record<string, ParameterValue> | undefined {
  return fullRefresh ? { ...parameters, full_refresh: true } : parameters;
}

export function readInputs(input: (name: string) => string): DatabricksInputs {
  const text = inputReader(input);
  const host = text('host');
  if (host !== undefined) {
    try {
      workspaceUrl(host);
    } catch {
      throw new Error(
        `input host: expected the workspace URL, like https://adb-1234567890123456.7.azuredatabricks.net, found ${JSON.stringify(host)}`,
      );
    }
  }
  const auth = text('auth');
  if (auth !== undefined && !(AUTH_KINDS as readonly string[]).includes(auth))
    throw new Error(`input auth: expected ${AUTH_KINDS.join(', ')}, found ${JSON.stringify(auth)}`);
  const workspaceFolder = text('workspace-folder');
  if (workspaceFolder !== undefined && !/^\/[^/]/.test(workspaceFolder))
    throw new Error(
      `input workspace-folder: expected an absolute workspace path like /Shared/lakehouse, found ${JSON.stringify(workspaceFolder)}`,
    );
  const inputs: DatabricksInputs = {
    config: text('config') ?? 'lakehouse.yml',
    profile: text('profile'),
    host,
    auth: auth as AuthKind | undefined,
    token: text('token'),
    clientId: text('client-id'),
    clientSecret: text('client-secret'),
    oidcAudience: text('oidc-audience'),
    warehouseId: text('warehouse-id'),
    clusterId: text('cluster-id'),
    workspaceFolder,
    notebooks: listOf(text('notebooks')),
    parameters: withFullRefresh(
      parseParameters(text('parameters')),
      booleanInput(text, 'full-refresh', false),
    ),
    timeoutMinutes: positiveInput(text, 'timeout-minutes'),
    pollSeconds: positiveInput(text, 'poll-seconds'),
    dryRun: booleanInput(text, 'dry-run', false),
  };
  if (inputs.warehouseId && inputs.clusterId)
    throw new Error(
      'inputs warehouse-id and cluster-id: expected one of them (or neither, for serverless compute), found both',
    );
  return inputs;
}

/**
 * The notebooks' parameters: a YAML or JSON mapping (`{min_support: 0.001}`, or one `name: value` a line), or
 * `name=value` lines. Values must be strings, numbers or booleans.
 */
export function parseParameters(text: string | undefined): Record<string, ParameterValue> | undefined {
  if (text === undefined) return undefined;
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.every((l) => /^[^\s:=]+=/.test(l))) {
    return Object.fromEntries(
      lines.map((line) => {
        const name = line.slice(0, line.indexOf('='));
        checkName(name);
        return [name, line.slice(name.length + 1)];
      }),
    );
  }
  const doc = parseDocument(text);
  if (doc.errors.length)
    throw new Error(
      `input parameters: expected a YAML or JSON mapping, or name=value lines, found invalid YAML (${doc.errors[0]!.message.split('\n')[0]})`,
    );
  const value: unknown = parse(text);
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error(
      `input parameters: expected a YAML or JSON mapping, or name=value lines, found ${JSON.stringify(text.slice(0, 60))}`,
    );
  for (const [name, v] of Object.entries(value)) {
    checkName(name);
    if (!['string', 'number', 'boolean'].includes(typeof v))
      throw new Error(
        `input parameters: ${name}: expected a string, number or boolean, found ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}`,
      );
  }
  return value as Record<string, ParameterValue>;
}

function checkName(name: string): void {
  if (!NAME.test(name))
    throw new Error(
      `input parameters: expected parameter names of letters, digits and _ (as :name markers), found ${JSON.stringify(name)}`,
    );
}

export interface ActionPlan {
  resolved: ResolvedConfig;
  /** The profile's settings with the inputs over them, and (but on a dry run) where and how to sign in. */
  request: DatabricksTransformRequest;
  /** The credentials chosen, to be masked; unset on a dry run, which sends nothing. */
  credentials?: AuthSettings & { auth: AuthKind };
}

export function planAction(inputs: DatabricksInputs): ActionPlan {
  if (!inputs.dryRun)
    supplyEnvReferences(inputs.config, inputs.profile, 'databricks', {
      host: inputs.host,
      token: inputs.token,
      clientId: inputs.clientId,
      clientSecret: inputs.clientSecret,
      oidcAudience: inputs.oidcAudience,
      warehouseId: inputs.warehouseId,
      existingClusterId: inputs.clusterId,
      workspaceFolder: inputs.workspaceFolder,
    });
  // Only the databricks section of the profile is resolved: this job needs no other secret.
  const resolved = loadConfig(inputs.config, inputs.profile, {
    resolve: inputs.dryRun ? [] : ['databricks'],
  });
  const request: DatabricksTransformRequest = {
    notebooks: inputs.notebooks,
    parameters: inputs.parameters,
    workspaceFolder: inputs.workspaceFolder,
    warehouseId: inputs.warehouseId,
    existingClusterId: inputs.clusterId,
    timeoutSeconds: inputs.timeoutMinutes === undefined ? undefined : Math.ceil(inputs.timeoutMinutes * 60),
    pollMs: inputs.pollSeconds === undefined ? undefined : inputs.pollSeconds * 1000,
  };
  if (inputs.dryRun) return { resolved, request };
  const profile = resolved.profile.databricks;
  const host = inputs.host ?? profile?.host;
  const where = `profiles.${resolved.profileName}.databricks`;
  if (!host)
    throw new Error(
      `input host: expected the workspace URL (e.g. vars.DATABRICKS_HOST) or ${where}.host, found neither`,
    );
  const credentials = chooseCredentials(inputs, profile, where);
  return {
    resolved,
    request: { ...request, connection: { host: workspaceUrl(host), auth: clientAuth(credentials) } },
    credentials,
  };
}

/**
 * The input auth (else the profile's) says how to sign in; unset, a token means pat and a client id and secret
 * mean oauth-m2m. What that way needs must be there: each missing piece is named as an input and a profile key.
 */
function chooseCredentials(
  inputs: DatabricksInputs,
  profile: AuthSettings | undefined,
  where: string,
): AuthSettings & { auth: AuthKind } {
  const given: AuthSettings = {
    token: inputs.token ?? profile?.token,
    clientId: inputs.clientId ?? profile?.clientId,
    clientSecret: inputs.clientSecret ?? profile?.clientSecret,
    oidcAudience: inputs.oidcAudience ?? profile?.oidcAudience,
  };
  const auth = inputs.auth ?? profile?.auth ?? impliedAuthKind(given) ?? 'pat';
  const need = (value: string | undefined, input: string, key: string, what: string) => {
    if (!value)
      throw new Error(
        `input ${input}: expected ${what} or ${where}.${key}, found neither${inputs.auth ? ` (auth: ${auth})` : ''}`,
      );
  };
  if (auth === 'pat') {
    need(given.token, 'token', 'token', 'a Databricks token (e.g. secrets.DATABRICKS_TOKEN)');
    return { auth, token: given.token };
  }
  if (auth === 'oauth-m2m') {
    need(
      given.clientId,
      'client-id',
      'clientId',
      "the service principal's application id (e.g. vars.DATABRICKS_CLIENT_ID)",
    );
    need(
      given.clientSecret,
      'client-secret',
      'clientSecret',
      "the service principal's OAuth secret (e.g. secrets.DATABRICKS_CLIENT_SECRET)",
    );
    return { auth, clientId: given.clientId, clientSecret: given.clientSecret };
  }
  return { auth, clientId: given.clientId, oidcAudience: given.oidcAudience };
}

function clientAuth(credentials: AuthSettings & { auth: AuthKind }): DatabricksAuth {
  switch (credentials.auth) {
    case 'pat':
      return { kind: 'pat', token: credentials.token! };
    case 'oauth-m2m':
      return { kind: 'oauth-m2m', clientId: credentials.clientId!, clientSecret: credentials.clientSecret! };
    case 'github-oidc':
      // getIDToken reads ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN (set with permissions: id-token: write) and masks the token.
      actionLogger.info(
        `databricks: signing in with GitHub OIDC${credentials.clientId ? ` as service principal ${credentials.clientId}` : ''}`,
      );
      return {
        kind: 'github-oidc',
        clientId: credentials.clientId,
        audience: credentials.oidcAudience,
        idToken: (audience) => core.getIDToken(audience),
      };
  }
}
