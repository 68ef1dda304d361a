// How the Databricks REST client authenticates: a personal access token, or an OAuth access token from the
// workspace's token endpoint (POST https://<host>/oidc/v1/token), got either with a service principal's client
// id and secret (OAuth M2M, the client_credentials grant) or by exchanging a GitHub Actions ID token for one
// (workload identity federation, the RFC 8693 token-exchange grant), so that a workflow needs no long-lived secret.
//
// OAuth tokens are cached until shortly before they expire; after a 401 the client asks for a new one once.
// Every secret seen here (client secret, ID token, access token) is registered for redaction, and errors name the
// endpoint, the grant and Databricks' `error`/`error_description`, never a credential.
//
// The token endpoint and GitHub's ID-token endpoint are called through the project's HTTP client (src/http/): asking
// for a token has no effect a repeat could double, so the token request is repeated like a GET.
import fs from 'node:fs';
import { HttpClient, plainText, type HttpFailure } from '../http/index.ts';
import { nextAttemptNote, type RetryPolicy } from '../util/backoff.ts';
import { consoleLogger, type Logger } from '../util/log.ts';
import { registerSecret } from '../util/secrets.ts';

export const AUTH_KINDS = ['pat', 'oauth-m2m', 'github-oidc'] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];

/** Gets an OIDC ID token (a JWT) for this audience, e.g. GitHub's `core.getIDToken(audience)`. */
export type IdTokenSource = (audience: string) => Promise<string>;

export type DatabricksAuth =
  | { kind: 'pat'; token: string }
  | { kind: 'oauth-m2m'; clientId: string; clientSecret: string }
  | {
      kind: 'github-oidc';
      /** The service principal's application id; unset for an account-wide federation policy. */
      clientId?: string;
      /** The `aud` the ID token is asked for (default: the workspace's token endpoint, as the Databricks SDKs ask). */
      audience?: string;
      idToken: IdTokenSource;
    };

export const TOKEN_PATH = '/oidc/v1/token';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** The token endpoint did not give a token: the message names the endpoint, grant and Databricks' error. */
export class DatabricksAuthError extends Error {
  override name = 'DatabricksAuthError';
  readonly status: number;
  readonly error?: string;
  constructor(message: string, status: number, error?: string) {
    super(message);
    this.status = status;
    this.error = error;
  }
}

export interface TokenProvider {
  /** The Authorization header value for the next request. */
  authorization(): Promise<string>;
  /** Forgets a cached OAuth token (after a 401); false when there is nothing to renew (a personal access token). */
  invalidate(): boolean;
}

/** The token request's retries (429, 5xx and broken connections) when the REST client gives none. */
export const TOKEN_RETRY: RetryPolicy = { maxAttempts: 4, initialDelayMs: 500, maxDelayMs: 10_000 };

export interface TokenProviderOptions {
  retry?: Partial<RetryPolicy>;
  /** Each token request must be answered within this (default 60 000 ms). */
  timeoutMs?: number;
  /** Where retries are told (default: the console). */
  log?: Logger;
  /** The clock the cache reads (tests move it instead of waiting). */
  now?: () => number;
  /** Called with every secret learnt, besides registerSecret: e.g. the action's core.setSecret. */
  onSecret?: (value: string) => void;
}

/** The audience asked for when none is configured: the workspace's token endpoint. */
export function defaultAudience(workspaceUrl: string): string {
  return `${workspaceUrl}${TOKEN_PATH}`;
}

export function createTokenProvider(
  workspaceUrl: string,
  auth: DatabricksAuth,
  options: TokenProviderOptions = {},
): TokenProvider {
  const secret = (value: string | undefined) => {
    registerSecret(value);
    if (value) options.onSecret?.(value);
  };
  if (auth.kind === 'pat') {
    if (!auth.token) throw new Error('Databricks token: expected a personal access token, found nothing');
    secret(auth.token);
    return { authorization: async () => `Bearer ${auth.token}`, invalidate: () => false };
  }
  if (auth.kind === 'oauth-m2m') {
    if (!auth.clientId) throw new Error('Databricks OAuth M2M: expected the client id, found nothing');
    if (!auth.clientSecret)
      throw new Error('Databricks OAuth M2M: expected the client secret, found nothing');
    secret(auth.clientSecret);
  }
  const oauth = auth;
  const now = options.now ?? Date.now;
  let cached: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    const answer = await requestToken(workspaceUrl, oauth, options, secret);
    const lifetimeMs = answer.expiresIn * 1000;
    // Renew a little before it expires, so that a request never leaves with a token about to lapse.
    cached = { token: answer.accessToken, refreshAt: now() + lifetimeMs - Math.min(60_000, lifetimeMs / 10) };
    return answer.accessToken;
  }

  return {
    async authorization() {
      if (cached && now() < cached.refreshAt) return `Bearer ${cached.token}`;
      // Concurrent requests share one token request.
      pending ??= fetchToken().finally(() => (pending = undefined));
      return `Bearer ${await pending}`;
    },
    invalidate() {
      cached = undefined;
      return true;
    },
  };
}

interface TokenAnswer {
  accessToken: string;
  expiresIn: number;
}

async function requestToken(
  workspaceUrl: string,
  auth: Exclude<DatabricksAuth, { kind: 'pat' }>,
  options: TokenProviderOptions,
  secret: (value: string | undefined) => void,
): Promise<TokenAnswer> {
  const form = new URLSearchParams();
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    Accept: 'application/json',
  };
  let grant: string;
  if (auth.kind === 'oauth-m2m') {
    grant = 'client_credentials';
    headers.Authorization = `Basic ${Buffer.from(`${auth.clientId}:${auth.clientSecret}`).toString('base64')}`;
    secret(headers.Authorization.slice('Basic '.length));
  } else {
    grant = 'token-exchange';
    const audience = auth.audience || defaultAudience(workspaceUrl);
    let idToken: string;
    try {
      idToken = (await auth.idToken(audience)).trim();
    } catch (e) {
      throw new DatabricksAuthError(
        `GitHub OIDC: could not get an ID token for audience ${audience} (${e instanceof Error ? e.message : String(e)})`,
        0,
      );
    }
    if (!idToken)
      throw new DatabricksAuthError(`GitHub OIDC: the ID token for audience ${audience} is empty`, 0);
    secret(idToken);
    form.set('subject_token', idToken);
    form.set('subject_token_type', JWT_TOKEN_TYPE);
    if (auth.clientId) form.set('client_id', auth.clientId);
  }
  form.set('grant_type', auth.kind === 'oauth-m2m' ? 'client_credentials' : TOKEN_EXCHANGE);
  form.set('scope', 'all-apis');

  const where = `POST ${TOKEN_PATH} (grant ${grant})`;
  const http = new HttpClient({
    retry: { ...TOKEN_RETRY, ...options.retry },
    timeoutMs: options.timeoutMs ?? 60_000,
    log: options.log ?? consoleLogger,
    toError: (failure) => tokenError(where, failure),
    retryMessage: (error, notice) => `databricks: ${error.message}; ${nextAttemptNote(notice)}`,
  });
  const answer = await http.request({
    method: 'POST',
    url: `${workspaceUrl}${TOKEN_PATH}`,
    headers,
    body: form.toString(),
    guarded: true,
  });
  return parseTokenAnswer(answer.text, where, secret);
}

/** The token endpoint's refusal: the endpoint, the grant and Databricks' `error`/`error_description`. */
function tokenError(where: string, failure: HttpFailure): DatabricksAuthError {
  const { status, answer } = failure;
  if (!answer) return new DatabricksAuthError(`${where}: no response (${failure.cause})`, 0);
  const { error, description } = parseOAuthError(answer.text, answer.statusText);
  return new DatabricksAuthError(
    `${where}: HTTP ${status}${error ? ` ${error}` : ''}${description ? `: ${description}` : ''}`,
    status,
    error,
  );
}

function parseTokenAnswer(text: string, where: string, secret: (value: string) => void): TokenAnswer {
  let body: { access_token?: unknown; expires_in?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new DatabricksAuthError(`${where}: expected a JSON token answer, found ${text.slice(0, 80)}`, 200);
  }
  if (typeof body.access_token !== 'string' || !body.access_token)
    throw new DatabricksAuthError(`${where}: expected an access_token in the answer, found none`, 200);
  secret(body.access_token);
  const expiresIn = Number(body.expires_in);
  // Databricks says an hour; without a usable expires_in, assume a short life rather than a long one.
  return {
    accessToken: body.access_token,
    expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 300,
  };
}

function parseOAuthError(text: string, statusText: string): { error?: string; description?: string } {
  try {
    const body = JSON.parse(text) as { error?: unknown; error_description?: unknown; message?: unknown };
    const error = typeof body.error === 'string' ? body.error : undefined;
    const description =
      typeof body.error_description === 'string'
        ? body.error_description
        : typeof body.message === 'string'
          ? body.message
          : undefined;
    return { error, description: description ?? (error ? undefined : statusText) };
  } catch {
    return { description: plainText(text) || statusText };
  }
}

/**
 * GitHub Actions' ID token, fetched as `@actions/core`'s getIDToken does: GET $ACTIONS_ID_TOKEN_REQUEST_URL with
 * `&audience=…` and `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the answer is `{"value": "<jwt>"}`.
 * The job needs `permissions: id-token: write`, without which GitHub sets neither variable.
 */
export function githubIdToken(
  env: NodeJS.ProcessEnv = process.env,
  log: Logger = consoleLogger,
): IdTokenSource {
  const http = new HttpClient({
    retry: TOKEN_RETRY,
    timeoutMs: 30_000,
    log,
    toError: (failure) =>
      new Error(
        failure.answer
          ? `GitHub answered HTTP ${failure.status}: ${failure.problem ?? failure.answer.text.slice(0, 200)}`
          : `GitHub did not answer (${failure.cause})`,
      ),
  });
  return async (audience) => {
    const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
    const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    if (!url || !requestToken)
      throw new Error(
        'ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set (the job needs permissions: id-token: write)',
      );
    registerSecret(requestToken);
    const { value } = await http.json<{ value?: unknown }>({
      method: 'GET',
      url: `${url}&audience=${encodeURIComponent(audience)}`,
      headers: { Authorization: `Bearer ${requestToken}`, Accept: 'application/json' },
    });
    if (typeof value !== 'string' || !value) throw new Error('GitHub answered without a token value');
    registerSecret(value);
    return value;
  };
}

/**
 * Where the CLI gets an ID token: on GitHub Actions, from GitHub; elsewhere from $DATABRICKS_OIDC_TOKEN or the file
 * $DATABRICKS_OIDC_TOKEN_FILE (e.g. a token another CI system wrote), whose audience is what it is.
 */
export function idTokenFromEnvironment(env: NodeJS.ProcessEnv = process.env): IdTokenSource {
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL) return githubIdToken(env);
  return async () => {
    if (env.DATABRICKS_OIDC_TOKEN) return env.DATABRICKS_OIDC_TOKEN;
    const file = env.DATABRICKS_OIDC_TOKEN_FILE;
    if (file) return fs.readFileSync(file, 'utf8');
    throw new Error(
      'expected ACTIONS_ID_TOKEN_REQUEST_URL (on GitHub Actions, with permissions: id-token: write), DATABRICKS_OIDC_TOKEN or DATABRICKS_OIDC_TOKEN_FILE, found none',
    );
  };
}

export interface AuthSettings {
  auth?: AuthKind;
  token?: string;
  clientId?: string;
  clientSecret?: string;
  oidcAudience?: string;
}

/** The way to sign in when none is named: pat when there is a token, oauth-m2m with a client id and secret. */
export function impliedAuthKind(settings: AuthSettings): AuthKind | undefined {
  if (settings.token) return 'pat';
  if (settings.clientId && settings.clientSecret) return 'oauth-m2m';
  return undefined;
}

/**
 * The credentials of a profile's databricks section (`where` is its key path, e.g. profiles.gcp.databricks), each
 * missing one named by its key. `idToken` is where github-oidc gets its ID token.
 */
export function authFromSettings(
  settings: AuthSettings,
  where: string,
  idToken: IdTokenSource = idTokenFromEnvironment(),
): DatabricksAuth {
  const kind = settings.auth ?? impliedAuthKind(settings);
  const missing = (key: string, what: string) =>
    new Error(
      `${where}.${key}: expected ${what}${settings.auth ? ` for auth: ${settings.auth}` : ''}, found nothing`,
    );
  switch (kind) {
    case undefined:
      throw new Error(
        `${where}: expected token (a personal access token as \${env:DATABRICKS_TOKEN}), clientId and clientSecret (OAuth M2M), or auth: github-oidc, found none of them`,
      );
    case 'pat':
      if (!settings.token) throw missing('token', 'a personal access token (as ${env:DATABRICKS_TOKEN})');
      return { kind, token: settings.token };
    case 'oauth-m2m':
      if (!settings.clientId) throw missing('clientId', "the service principal's application id");
      if (!settings.clientSecret)
        throw missing(
          'clientSecret',
          "the service principal's OAuth secret (as ${env:DATABRICKS_CLIENT_SECRET})",
        );
      return { kind, clientId: settings.clientId, clientSecret: settings.clientSecret };
    case 'github-oidc':
      return { kind, clientId: settings.clientId, audience: settings.oidcAudience, idToken };
  }
}
