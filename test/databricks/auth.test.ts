// OAuth for the Databricks REST client (src/databricks/auth.ts) end to end: OAuth M2M and GitHub OIDC federation
// against the fake Databricks token endpoint and the fake GitHub ID-token endpoint, over real HTTP.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createTokenProvider,
  DatabricksAuthError,
  githubIdToken,
  idTokenFromEnvironment,
  type DatabricksAuth,
} from '../../src/databricks/auth.ts';
import { createDatabricksClient, type DatabricksClient } from '../../src/databricks/rest.ts';
import { memoryLogger } from '../../src/util/log.ts';
import { redact } from '../../src/util/secrets.ts';
import { startDatabricksServer, type DatabricksServer } from '../../src/standins/databricks/server.ts';
import {
  GITHUB_ISSUER,
  startGitHubIdTokenServer,
  testJwt,
  type IdTokenServer,
} from '../../src/standins/github/id-token.ts';

const CLIENT_ID = '6d1c2a0e-5f47-4b8e-9d1a-0c3e5b7a9f21';
const CLIENT_SECRET = 'dose-m2m-client-secret-0123456789abcdef';
const SUBJECT = 'repo:my-org/lakehouse:environment:prod';
const FAST = { initialDelayMs: 1, maxDelayMs: 5 };

let server: DatabricksServer;
let github: IdTokenServer;
beforeAll(async () => {
  github = await startGitHubIdTokenServer({ subject: SUBJECT });
  server = await startDatabricksServer({
    servicePrincipals: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
    federationPolicies: [
      { clientId: CLIENT_ID, audience: 'sp-audience', subject: SUBJECT },
      { audience: 'account-wide-audience', subject: SUBJECT },
    ],
  });
  // The audience asked for by default is the workspace's token endpoint, known once the server listens.
  server.federationPolicies.push({
    clientId: CLIENT_ID,
    audience: `${server.url}/oidc/v1/token`,
    subject: SUBJECT,
  });
});
afterAll(async () => {
  await server.close();
  await github.close();
});
afterEach(() => {
  server.requests.length = 0;
});

const tokenRequests = () => server.requests.filter((r) => r.path === '/oidc/v1/token');

function client(auth: DatabricksAuth, now?: () => number): DatabricksClient {
  return createDatabricksClient({
    host: server.url,
    auth,
    retry: FAST,
    log: memoryLogger(),
    tokens: { now },
  });
}

function oidc(overrides: Partial<Extract<DatabricksAuth, { kind: 'github-oidc' }>> = {}): DatabricksAuth {
  return {
    kind: 'github-oidc',
    clientId: CLIENT_ID,
    audience: 'sp-audience',
    idToken: githubIdToken({
      ACTIONS_ID_TOKEN_REQUEST_URL: github.url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
    }),
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected the call to fail, it succeeded');
  return error;
}

describe('OAuth M2M (client credentials)', () => {
  it('asks for a token once, as Databricks documents the request, and reuses it', async () => {
    const db = client({ kind: 'oauth-m2m', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await db.mkdirs('/Shared/m2m/a');
    await db.mkdirs('/Shared/m2m/b');
    await db.getRun(await notebookRun(db)).catch(() => undefined);
    expect(tokenRequests()).toHaveLength(1);
    expect(tokenRequests()[0]!.body).toEqual({ grant_type: 'client_credentials', scope: 'all-apis' });
    // Every API request carried the access token issued, not the client secret.
    const issued = [...server.accessTokens].filter(([, t]) => t.principal === CLIENT_ID).map(([k]) => k);
    expect(issued).toHaveLength(1);
    expect(server.requests.filter((r) => r.path !== '/oidc/v1/token').every((r) => r.status !== 401)).toBe(
      true,
    );
    expect(redact(`token ${issued[0]} secret ${CLIENT_SECRET}`)).toBe('token *** secret ***');
  });

  it('asks for a new token shortly before the old one expires', async () => {
    let now = Date.now();
    const db = client({ kind: 'oauth-m2m', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, () => now);
    await db.mkdirs('/Shared/m2m/c');
    now += 50_000; // expires_in is 60 s: within the last tenth, it is renewed
    await db.mkdirs('/Shared/m2m/c');
    now += 20_000;
    await db.mkdirs('/Shared/m2m/c');
    expect(tokenRequests()).toHaveLength(2);
    now += 1_000;
    await db.mkdirs('/Shared/m2m/c');
    expect(tokenRequests()).toHaveLength(2);
  });

  it('a 401 (the token expired early) gets exactly one new token and the request is repeated', async () => {
    const db = client({ kind: 'oauth-m2m', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await db.mkdirs('/Shared/m2m/d');
    server.expireAccessTokens();
    await db.mkdirs('/Shared/m2m/e');
    expect(tokenRequests()).toHaveLength(2);
    expect(server.requests.map((r) => [r.path, r.status])).toEqual([
      ['/oidc/v1/token', 200],
      ['/api/2.0/workspace/mkdirs', 200],
      ['/api/2.0/workspace/mkdirs', 401],
      ['/oidc/v1/token', 200],
      ['/api/2.0/workspace/mkdirs', 200],
    ]);
    expect(server.workspace.has('/Shared/m2m/e')).toBe(true);
  });

  it('a 401 with the new token too fails, after one renewal only', async () => {
    const db = client({ kind: 'oauth-m2m', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await db.mkdirs('/Shared/m2m/f');
    // Every token the server issues from now on is already expired on arrival.
    server.expireAccessTokens();
    const original = server.accessTokens.set.bind(server.accessTokens);
    server.accessTokens.set = (k, v) => original(k, { ...v, expiresAt: 0 });
    try {
      const error = await failure(db.mkdirs('/Shared/m2m/g'));
      expect(error.message).toBe('POST /api/2.0/workspace/mkdirs: HTTP 401 UNAUTHENTICATED: Token expired.');
    } finally {
      server.accessTokens.set = original;
    }
    expect(tokenRequests()).toHaveLength(2);
  });

  it('a wrong client secret fails with the endpoint, the grant and Databricks’ error, without the secret', async () => {
    const wrong = 'dose-wrong-secret-9876543210';
    const error = await failure(
      client({ kind: 'oauth-m2m', clientId: CLIENT_ID, clientSecret: wrong }).mkdirs('/Shared/x'),
    );
    expect(error).toBeInstanceOf(DatabricksAuthError);
    expect(error.message).toBe(
      'POST /oidc/v1/token (grant client_credentials): HTTP 401 invalid_client: Client authentication failed',
    );
    expect(error.message).not.toContain(wrong);
    expect(server.requests.map((r) => r.path)).toEqual(['/oidc/v1/token']);
  });

  it('retries the token request on a 503', async () => {
    server.inject('503', { when: (_, path) => path === '/oidc/v1/token' });
    await client({ kind: 'oauth-m2m', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }).mkdirs('/Shared/y');
    expect(tokenRequests().map((r) => r.status)).toEqual([503, 200]);
  });

  it('refuses a missing client secret before any request', () => {
    expect(() =>
      createTokenProvider(server.url, { kind: 'oauth-m2m', clientId: CLIENT_ID, clientSecret: '' }),
    ).toThrow('Databricks OAuth M2M: expected the client secret, found nothing');
  });
});

describe('GitHub OIDC federation (token exchange)', () => {
  it('exchanges the GitHub ID token for a Databricks token once and reuses it', async () => {
    github.requests.length = 0;
    const db = client(oidc());
    await db.mkdirs('/Shared/oidc/a');
    await db.mkdirs('/Shared/oidc/b');
    expect(github.requests).toEqual([{ audience: 'sp-audience', authorized: true }]);
    expect(tokenRequests()).toHaveLength(1);
    expect(tokenRequests()[0]!.body).toEqual({
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      client_id: CLIENT_ID,
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      scope: 'all-apis',
    });
    expect(redact(`id token ${github.issued.at(-1)}`)).toBe('id token ***');
  });

  it('asks GitHub for the workspace token endpoint as the audience by default', async () => {
    github.requests.length = 0;
    await client(oidc({ audience: undefined })).mkdirs('/Shared/oidc/c');
    expect(github.requests[0]!.audience).toBe(`${server.url}/oidc/v1/token`);
  });

  it('works without a client id against an account-wide policy', async () => {
    await client(oidc({ clientId: undefined, audience: 'account-wide-audience' })).mkdirs('/Shared/oidc/d');
    expect(tokenRequests()[0]!.body).not.toHaveProperty('client_id');
    expect(server.workspace.has('/Shared/oidc/d')).toBe(true);
  });

  it('gets a new ID token and a new access token after expiry', async () => {
    github.requests.length = 0;
    let now = Date.now();
    const db = client(oidc(), () => now);
    await db.mkdirs('/Shared/oidc/e');
    now += 61_000;
    await db.mkdirs('/Shared/oidc/e');
    expect(github.requests).toHaveLength(2);
    expect(tokenRequests()).toHaveLength(2);
  });

  it('a subject token the policy does not accept fails clearly, without the token', async () => {
    const stranger = testJwt({
      iss: GITHUB_ISSUER,
      aud: 'sp-audience',
      sub: 'repo:someone-else/fork:ref:refs/heads/main',
      exp: Math.floor(Date.now() / 1000) + 300,
    });
    const error = await failure(client(oidc({ idToken: async () => stranger })).mkdirs('/Shared/x'));
    expect(error.message).toBe(
      `POST /oidc/v1/token (grant token-exchange): HTTP 401 invalid_grant: No federation policy of service principal ${CLIENT_ID} matches the subject token (iss, aud, sub).`,
    );
    expect(redact(error.message)).toBe(error.message);
    expect(error.message).not.toContain(stranger);
  });

  it('an audience the policy does not list is rejected', async () => {
    const error = await failure(client(oidc({ audience: 'https://github.com/my-org' })).mkdirs('/Shared/x'));
    expect(error.message).toMatch(/HTTP 401 invalid_grant: No federation policy/);
  });

  it('without id-token permission (no request URL) says what the job needs', async () => {
    const error = await failure(client(oidc({ idToken: githubIdToken({}) })).mkdirs('/Shared/x'));
    expect(error.message).toBe(
      'GitHub OIDC: could not get an ID token for audience sp-audience (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set (the job needs permissions: id-token: write))',
    );
    expect(server.requests).toEqual([]);
  });

  it('outside GitHub, the CLI reads the ID token from DATABRICKS_OIDC_TOKEN', async () => {
    const jwt = testJwt({
      iss: GITHUB_ISSUER,
      aud: 'sp-audience',
      sub: SUBJECT,
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    await client(oidc({ idToken: idTokenFromEnvironment({ DATABRICKS_OIDC_TOKEN: jwt }) })).mkdirs(
      '/Shared/oidc/f',
    );
    expect(server.workspace.has('/Shared/oidc/f')).toBe(true);
    await expect(idTokenFromEnvironment({})('x')).rejects.toThrow(
      'expected ACTIONS_ID_TOKEN_REQUEST_URL (on GitHub Actions, with permissions: id-token: write), DATABRICKS_OIDC_TOKEN or DATABRICKS_OIDC_TOKEN_FILE, found none',
    );
  });
});

async function notebookRun(db: DatabricksClient): Promise<number> {
  await db.importNotebook('/Shared/m2m/a/nb', '-- Databricks notebook source\nSELECT 1\n');
  return db.submitRun({
    run_name: 'auth test',
    tasks: [{ task_key: 'a', notebook_task: { notebook_path: '/Shared/m2m/a/nb', warehouse_id: 'wh-test' } }],
  });
}
