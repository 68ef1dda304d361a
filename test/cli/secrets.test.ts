// Secrets never show, with LAKEHOUSE_DEBUG=1 either: a real HTTP server that echoes back what it was sent (the
// Authorization header as is, URL-encoded and in base64, the decoded Basic credentials URL-encoded, and the body)
// answers the Databricks token and OAuth M2M paths of `lakehouse transform --on databricks` with an error.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lakehouse, tempProject } from '../helpers/cli.ts';

const TOKEN = 'dapi-echo/TOKEN+4f2a9c=b';
const CLIENT_SECRET = 'dose-echo/SECRET+7d31e0=z';

/** An error answer that repeats the request's credentials in every way a careless server might. */
function echo(request: http.IncomingMessage, body: string): string {
  const authorization = request.headers.authorization ?? '';
  const basic = authorization.startsWith('Basic ')
    ? Buffer.from(authorization.slice(6), 'base64').toString('utf8')
    : '';
  return [
    `you sent ${authorization}`,
    `URL-encoded ${encodeURIComponent(authorization)}`,
    `base64 ${Buffer.from(authorization).toString('base64')}`,
    `credentials ${encodeURIComponent(basic)}`,
    `body ${body}`,
  ].join('; ');
}

let server: http.Server;
let host: string;
beforeAll(async () => {
  server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (d: Buffer) => (body += d.toString()));
    request.on('end', () => {
      const token = request.url!.startsWith('/oidc/');
      response.writeHead(token ? 401 : 403, { 'content-type': 'application/json' });
      const message = echo(request, body);
      response.end(
        JSON.stringify(
          token
            ? { error: 'invalid_client', error_description: message }
            : { error_code: 'PERMISSION_DENIED', message },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Every form of the secret an echo can carry: raw, URL- and form-encoded, base64 (alone or after a prefix). */
function leakedForms(secret: string, prefixes: string[]): string[] {
  const forms = [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)];
  for (const prefix of prefixes) {
    const encoded = Buffer.from(`${prefix}${secret}`).toString('base64');
    // The characters that stand for the secret's middle bytes, whatever surrounds it.
    const start = Math.ceil((prefix.length * 4) / 3) + 4;
    forms.push(encoded.slice(start, start + 12));
  }
  return forms;
}

describe('secrets with LAKEHOUSE_DEBUG=1 and a server that echoes credentials', () => {
  let dir: string;
  let config: string;
  beforeAll(async () => {
    ({ dir, config } = await tempProject(100));
    const profile = (name: string, credentials: string) =>
      `\n  ${name}:\n    bucket: file://.lakehouse/bucket\n    sql: { engine: pglite, path: .lakehouse/pglite }\n    databricks: { host: '\${env:ECHO_HOST}', workspaceFolder: /Shared/echo, ${credentials} }\n`;
    fs.appendFileSync(
      config,
      profile('pat', "token: '${env:ECHO_TOKEN}'") +
        profile('m2m', "clientId: app-id-1, clientSecret: '${env:ECHO_CLIENT_SECRET}'"),
    );
  });
  afterAll(() => fsp.rm(dir, { recursive: true, force: true }));

  const transform = (profile: string) =>
    lakehouse(['-c', config, '-p', profile, 'transform', '--on', 'databricks'], {
      LAKEHOUSE_DEBUG: '1',
      ECHO_HOST: host,
      ECHO_TOKEN: TOKEN,
      ECHO_CLIENT_SECRET: CLIENT_SECRET,
    });

  it('shows no form of a Databricks token, in the message or the stack', async () => {
    const result = await transform('pat');
    expect(result.code).toBe(1);
    const output = result.stdout + result.stderr;
    for (const form of leakedForms(TOKEN, ['', 'Bearer '])) expect(output).not.toContain(form);
    const [message, stack] = result.stderr.split('\n');
    // The whole header is a secret too, so every form of it goes.
    expect(message).toBe(
      'lakehouse: POST /api/2.0/workspace/mkdirs: HTTP 403 PERMISSION_DENIED: you sent ***; URL-encoded ***; base64 ***; credentials ; body {"path":"/Shared/echo"}',
    );
    // LAKEHOUSE_DEBUG adds the stack, redacted the same way.
    expect(stack).toBe(message!.replace(/^lakehouse: /, 'DatabricksApiError: '));
    expect(result.stderr).toMatch(/\n\s+at .*src\/databricks\/rest\.ts/);
  });

  it('shows no form of an OAuth client secret, nor of the Basic header that carries it', async () => {
    const result = await transform('m2m');
    expect(result.code).toBe(1);
    const output = result.stdout + result.stderr;
    for (const form of leakedForms(CLIENT_SECRET, ['', 'app-id-1:', 'Basic ']))
      expect(output).not.toContain(form);
    const [message] = result.stderr.split('\n');
    expect(message).toBe(
      'lakehouse: POST /oidc/v1/token (grant client_credentials): HTTP 401 invalid_client: you sent ***; URL-encoded ***; base64 ***; credentials app-id-1%3A***; body grant_type=client_credentials&scope=all-apis',
    );
    expect(result.stderr).toMatch(/\n\s+at .*src\/databricks\/auth\.ts/);
  });
});
