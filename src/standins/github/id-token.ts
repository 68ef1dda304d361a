// GitHub Actions' ID-token endpoint for tests, as the runner offers it to a job with `permissions: id-token: write`:
// GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<aud> with `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`
// answers `{"value": "<jwt>"}`, a token whose `aud` is the audience asked for (default: the repository owner's URL,
// as GitHub does). The JWT is an unsigned test token (alg none) with GitHub's claims: iss, sub, aud, exp.
import http from 'node:http';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

export interface IdTokenServer {
  /** The value of ACTIONS_ID_TOKEN_REQUEST_URL (it already has a query, so the audience is appended with &). */
  url: string;
  /** The value of ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string;
  /** The audiences asked for, and every token issued. */
  requests: { audience?: string; authorized: boolean }[];
  issued: string[];
  close(): Promise<void>;
}

export interface IdTokenServerOptions {
  /** The `sub` claim (default: a workflow on main of my-org/lakehouse). */
  subject?: string;
  requestToken?: string;
}

/** An unsigned JWT with these claims (tests only: the fake Databricks server reads claims, not signatures). */
export function testJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

export function jwtClaims(jwt: string): Record<string, unknown> | undefined {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function startGitHubIdTokenServer(options: IdTokenServerOptions = {}): Promise<IdTokenServer> {
  const requestToken = options.requestToken ?? `ghs-request-${crypto.randomBytes(12).toString('hex')}`;
  const subject = options.subject ?? 'repo:my-org/lakehouse:ref:refs/heads/main';
  const requests: IdTokenServer['requests'] = [];
  const issued: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const audience = url.searchParams.get('audience') ?? undefined;
    const authorized = req.headers.authorization === `Bearer ${requestToken}`;
    requests.push({ audience, authorized });
    res.setHeader('Content-Type', 'application/json');
    if (req.method !== 'GET' || url.pathname !== '/token') {
      res.writeHead(404).end(JSON.stringify({ message: 'Not Found' }));
      return;
    }
    if (!authorized) {
      res.writeHead(401).end(JSON.stringify({ message: 'Bad credentials' }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const value = testJwt({
      jti: crypto.randomUUID(),
      iss: GITHUB_ISSUER,
      aud: audience ?? 'https://github.com/my-org',
      sub: subject,
      repository: subject.split(':')[1],
      iat: now,
      nbf: now - 5,
      exp: now + 300,
    });
    issued.push(value);
    res.writeHead(200).end(JSON.stringify({ count: 1, value }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/token?api-version=2.0`,
    requestToken,
    requests,
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
