// The HTTP client (src/http/) against a real local HTTP server that answers from a script: the waits it takes
// (Retry-After as seconds or a date, Ratelimit-Reset, backoff with jitter), which requests it repeats (never a POST
// whose answer was lost unless it is guarded), timeouts, and what it keeps out of its messages. Waits are recorded
// instead of slept; every request goes over a real socket.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GitHubDeployments } from '../../src/github/deployments.ts';
import { HttpClient, type HttpClientOptions, type HttpFailure } from '../../src/http/index.ts';
import type { Logger } from '../../src/util/log.ts';
import { freePort } from '../helpers/private-servers.ts';
import { readBody } from '../../src/standins/http-body.ts';

type Reply = (res: http.ServerResponse, req: http.IncomingMessage) => void;

const answer =
  (status: number, body: unknown = { message: http.STATUS_CODES[status] }, headers = {}): Reply =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
/** The request is read, then the connection dropped: the client cannot know whether it was acted on. */
const reset: Reply = (_res, req) => req.socket.destroy();
/** The request is read and never answered. */
const hang: Reply = () => {};

interface Seen {
  method: string;
  path: string;
  body: string;
}

let server: http.Server;
let origin: string;
const script: Reply[] = [];
const seen: Seen[] = [];

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const body = (await readBody(req)).toString('utf8');
    seen.push({ method: req.method ?? '', path: req.url ?? '', body });
    (script.shift() ?? answer(200, { ok: true }))(res, req);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
  script.length = 0;
  seen.length = 0;
});

/** A logger that keeps what it is given as it is (it redacts nothing itself). */
function rawLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
}

function client(options: Partial<HttpClientOptions> = {}) {
  const waits: number[] = [];
  const log = rawLogger();
  const failures: HttpFailure[] = [];
  const http = new HttpClient({
    baseUrl: origin,
    log,
    sleep: async (ms) => void waits.push(ms),
    ...options,
    toError: (failure) => {
      failures.push(failure);
      return options.toError?.(failure) ?? new Error(`${failure.method} ${failure.shown}: ${failure.status}`);
    },
  });
  return { http, waits, log, failures };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected the request to fail, it succeeded');
  return error;
}

describe('how long the client waits', () => {
  it('waits as long as Retry-After says in seconds, and logs the retry without the query string', async () => {
    const { http, waits, log } = client();
    script.push(answer(503, { message: 'busy' }, { 'retry-after': '2' }));
    expect(await http.json({ method: 'GET', url: '/thing?key=hook-key-9f8e7d' })).toEqual({ ok: true });
    expect(waits).toEqual([2000]);
    expect(seen).toHaveLength(2);
    expect(log.lines).toEqual([`GET ${origin}/thing: 503; retry 1/4 in 2000 ms`]);
  });

  it('waits until the HTTP date Retry-After gives', async () => {
    const now = Date.parse('Tue, 24 Nov 2026 06:00:00 GMT');
    const { http, waits } = client({ now: () => now });
    script.push(answer(503, {}, { 'retry-after': 'Tue, 24 Nov 2026 06:00:05 GMT' }));
    await http.request({ method: 'GET', url: '/dated' });
    expect(waits).toEqual([5000]);
  });

  it('waits for Ratelimit-Reset after a 429, and cuts a longer ask to the policy’s limit', async () => {
    const { http, waits } = client({ retry: { maxServerDelayMs: 30_000 } });
    script.push(
      answer(429, {}, { 'ratelimit-limit': '10', 'ratelimit-remaining': '0', 'ratelimit-reset': '7' }),
    );
    script.push(answer(429, {}, { 'retry-after': '3600' }));
    await http.request({ method: 'GET', url: '/limited' });
    expect(waits).toEqual([7000, 30_000]);
    expect(seen).toHaveLength(3);
  });

  it('backs off with equal jitter: each wait between half the step and the step, the step doubling to its cap', async () => {
    const { http, waits } = client({ retry: { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 400 } });
    const steps = [100, 200, 400, 400];
    for (let round = 0; round < 5; round++) {
      script.push(...steps.map(() => answer(503)));
      await http.request({ method: 'GET', url: `/flaky/${round}` });
    }
    expect(waits).toHaveLength(20);
    waits.forEach((wait, i) => {
      const step = steps[i % 4]!;
      expect(wait).toBeGreaterThanOrEqual(step / 2);
      expect(wait).toBeLessThanOrEqual(step);
    });
    // Twenty waits all at the top of their range would mean no jitter at all.
    expect(waits.some((wait, i) => wait < steps[i % 4]!)).toBe(true);
  });

  it('without jitter, waits exactly the steps', async () => {
    const { http, waits } = client({ retry: { initialDelayMs: 100, maxDelayMs: 300, jitter: false } });
    script.push(answer(500), answer(502), answer(504), answer(408));
    await http.request({ method: 'GET', url: '/steady' });
    expect(waits).toEqual([100, 200, 300, 300]);
  });

  it('gives up after its attempts, and does not retry what will not pass (404, 501)', async () => {
    const { http, failures } = client({ retry: { maxAttempts: 3, initialDelayMs: 1 } });
    script.push(answer(503), answer(503), answer(503));
    await failure(http.request({ method: 'GET', url: '/down' }));
    expect(seen).toHaveLength(3);
    expect(failures.at(-1)).toMatchObject({ status: 503, notRepeated: false });
    for (const status of [404, 501]) {
      seen.length = 0;
      script.push(answer(status));
      await failure(http.request({ method: 'GET', url: '/never' }));
      expect(seen).toHaveLength(1);
    }
  });
});

describe('which requests the client repeats', () => {
  it('does not repeat a POST whose connection broke after it was sent', async () => {
    const { http, failures } = client();
    script.push(reset);
    await failure(http.request({ method: 'POST', url: '/runs', body: '{"name":"once"}' }));
    expect(seen.map((s) => s.body)).toEqual(['{"name":"once"}']);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ method: 'POST', status: 0, notRepeated: true });
    expect(failures[0]!.cause).toMatch(/^(ECONNRESET|UND_ERR_SOCKET|other side closed)$/);
  });

  it('repeats it when the caller marks it guarded (an idempotency token)', async () => {
    const { http, log } = client();
    script.push(reset);
    const body = '{"name":"twice","idempotency_token":"t-1"}';
    const answered = await http.json({ method: 'POST', url: '/runs', body, guarded: true });
    expect(answered).toEqual({ ok: true });
    expect(seen.map((s) => s.body)).toEqual([body, body]);
    expect(log.lines).toHaveLength(1);
  });

  it('repeats a POST the server refused (429), but not one that failed with a 503', async () => {
    const { http, failures } = client();
    script.push(answer(429, {}, { 'retry-after': '0' }));
    await http.request({ method: 'POST', url: '/deploys', body: 'a' });
    expect(seen).toHaveLength(2);

    seen.length = 0;
    script.push(answer(503));
    await failure(http.request({ method: 'POST', url: '/deploys', body: 'b' }));
    expect(seen).toHaveLength(1);
    expect(failures.at(-1)).toMatchObject({ status: 503, notRepeated: true });
  });

  it('repeats a POST whose connection was refused: nothing was sent', async () => {
    const port = await freePort();
    const { http, log, failures } = client({ retry: { maxAttempts: 3, initialDelayMs: 1 } });
    await failure(http.request({ method: 'POST', url: `http://127.0.0.1:${port}/deploys`, body: 'x' }));
    expect(log.lines).toHaveLength(2);
    expect(failures.at(-1)).toMatchObject({ status: 0, cause: 'ECONNREFUSED', notRepeated: false });
  });

  it('stops at once when the caller aborts, without a retry', async () => {
    const { http, log } = client();
    const stop = new AbortController();
    script.push(hang);
    setTimeout(() => stop.abort(), 50);
    const error = await failure(http.request({ method: 'GET', url: '/slow', signal: stop.signal }));
    expect(error.name).toBe('AbortError');
    expect(log.lines).toEqual([]);
  });
});

describe('timeouts', () => {
  it('counts an answer that does not come in time as none: a GET is tried again', async () => {
    const { http, log } = client({ timeoutMs: 200 });
    script.push(hang);
    expect(await http.json({ method: 'GET', url: '/late' })).toEqual({ ok: true });
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/late: 0; retry 1\/4 in \d+ ms$/);
    expect(seen).toHaveLength(2);
  });

  it('a POST that timed out is not repeated, and says it timed out', async () => {
    const { http, failures } = client({ timeoutMs: 200 });
    script.push(hang);
    await failure(http.request({ method: 'POST', url: '/late', body: 'x' }));
    expect(seen).toHaveLength(1);
    expect(failures[0]).toMatchObject({ status: 0, cause: 'the request timed out', notRepeated: true });
  });
});

describe('messages', () => {
  it('the default error names the method, the URL without its query, the status and what the server said', async () => {
    const http = new HttpClient({ baseUrl: origin });
    script.push(answer(409, { message: 'already exists' }));
    const error = await failure(http.request({ method: 'PUT', url: '/things/1?key=abc123secret' }));
    expect(error.message).toBe(`PUT ${origin}/things/1: HTTP 409 Conflict: already exists`);
    script.push((res) => res.end('<html><body><h1>Sign in</h1></body></html>'));
    const notJson = await failure(http.json({ method: 'GET', url: '/login' }));
    expect(notJson.message).toBe(
      `GET ${origin}/login: HTTP 200 OK: expected a JSON answer, found "<html><body><h1>Sign in</h1></body></html>"`,
    );
  });

  it('never logs the credential it sent, even when the server echoes it', async () => {
    const token = 'tok-echoed-7c1d2e3f4a5b';
    const log = rawLogger();
    const http = new HttpClient({
      baseUrl: origin,
      log,
      retry: { maxAttempts: 2, initialDelayMs: 1 },
    });
    const echo: Reply = (res, req) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `unavailable for ${req.headers.authorization}` }));
    };
    script.push(echo, echo);
    const error = await failure(
      http.request({ method: 'GET', url: '/me', headers: { Authorization: `Bearer ${token}` } }),
    );
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toContain('unavailable for ***');
    expect(`${log.lines.join('\n')}\n${error.message}\n${error.stack}`).not.toContain(token);
  });
});

describe('Octokit through the client’s fetch', () => {
  const deployments = (log: Logger) =>
    new GitHubDeployments({
      token: 'ghs_octokitThroughFetch01',
      repository: 'octo-org/lakehouse',
      baseUrl: origin,
      retry: { initialDelayMs: 1 },
      log,
    });

  it('repeats a POST GitHub refused over a rate limit (403 with Retry-After), with GitHub’s own answer', async () => {
    const log = rawLogger();
    script.push(
      answer(403, { message: 'You have exceeded a secondary rate limit.' }, { 'retry-after': '0' }),
      answer(201, { id: 42 }),
    );
    expect(await deployments(log).create({ ref: 'main', environment: 'staging' })).toBe(42);
    expect(seen.map((s) => [s.method, s.path])).toEqual([
      ['POST', '/repos/octo-org/lakehouse/deployments'],
      ['POST', '/repos/octo-org/lakehouse/deployments'],
    ]);
    expect(log.lines).toEqual([
      `GitHub: POST ${origin}/repos/octo-org/lakehouse/deployments: HTTP 403 Forbidden: You have exceeded a secondary rate limit.; retry 1/4 in 0 ms`,
    ]);
  });

  it('does not repeat a deployment GitHub may have created (500); Octokit reports the answer', async () => {
    const log = rawLogger();
    script.push(answer(500, { message: 'Server Error' }));
    await expect(deployments(log).create({ ref: 'main', environment: 'staging' })).rejects.toThrow(
      'GitHub octo-org/lakehouse: creating a deployment of main to staging failed (HTTP 500): Server Error',
    );
    expect(seen).toHaveLength(1);
    expect(log.lines).toEqual([]);
  });
});
