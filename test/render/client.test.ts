// The Render client against the fake Render API (src/standins/render): triggering, polling to a terminal status,
// retries on 429 (honouring Ratelimit-Reset), 5xx and resets, timeouts, bad keys, and the deploy hook. Waits go
// through a virtual clock, so nothing here sleeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeployTimeoutError,
  isFailed,
  isLive,
  RenderApiError,
  RenderClient,
  type RenderClientOptions,
} from '../../src/render/client.ts';
import { memoryLogger } from '../../src/util/log.ts';
import { startRenderServer, type RenderServer } from '../../src/standins/render/server.ts';

const SERVICE = 'srv-d0livevvvvvvvvvvvvvv';
const FAILING = 'srv-d0failingggggggggggg';
const STUCK = 'srv-d0stuckkkkkkkkkkkkkk';
const REPLACED = 'srv-d0replacedddddddddd';
const COMMIT = '3ab0573c0ffee3ab0573c0ffee3ab0573c0ffee0';

/** A clock that moves only when the client waits: each wait is recorded and returns at once. */
function virtualClock() {
  const clock = { now: 1_000_000, waits: [] as number[] };
  return {
    clock,
    sleep: async (ms: number) => {
      clock.waits.push(ms);
      clock.now += ms;
    },
    now: () => clock.now,
  };
}

describe('RenderClient', () => {
  let render: RenderServer;
  beforeAll(async () => {
    render = await startRenderServer({
      rateLimitResetSeconds: 7,
      services: [
        { id: SERVICE, url: 'https://lakehouse-app.onrender.com', outcome: 'live' },
        { id: FAILING, outcome: 'build_failed' },
        { id: STUCK, outcome: 'never' },
        { id: REPLACED, outcome: 'replaced' },
      ],
    });
  });
  afterAll(() => render.close());

  function client(extra: Partial<RenderClientOptions> = {}) {
    const { clock, sleep, now } = virtualClock();
    const log = memoryLogger();
    return {
      clock,
      log,
      client: new RenderClient({ apiKey: render.apiKey, baseUrl: render.apiUrl, sleep, now, log, ...extra }),
    };
  }

  it('triggers a deploy of a commit and polls it to live', async () => {
    const { client: c, clock } = client();
    const deploy = await c.triggerDeploy(SERVICE, { commitId: COMMIT, clearCache: true });
    expect(deploy).toMatchObject({ status: 'created', commit: { id: COMMIT }, trigger: 'api' });
    const trigger = render.requests.at(-1)!;
    expect(trigger).toMatchObject({
      method: 'POST',
      path: `/v1/services/${SERVICE}/deploys`,
      authorization: `Bearer ${render.apiKey}`,
      body: { clearCache: 'clear', commitId: COMMIT },
    });

    const seen: string[] = [];
    const done = await c.waitForDeploy(SERVICE, deploy.id, {
      pollMs: 5000,
      onStatus: (d) => seen.push(d.status),
    });
    expect(done.status).toBe('live');
    expect(seen).toEqual(['build_in_progress', 'update_in_progress', 'live']);
    expect(clock.waits).toEqual([5000, 5000]);
    expect((await c.getService(SERVICE)).serviceDetails?.url).toBe('https://lakehouse-app.onrender.com');
  });

  it('returns a failed deploy as it ended (build_failed), for the caller to report', async () => {
    const { client: c } = client();
    const deploy = await c.triggerDeploy(FAILING);
    expect(render.requests.at(-1)!.body).toEqual({ clearCache: 'do_not_clear' });
    const done = await c.waitForDeploy(FAILING, deploy.id, { pollMs: 10 });
    expect(done.status).toBe('build_failed');
  });

  it('waits as long as Ratelimit-Reset says after a 429, and retries 5xx and resets with backoff', async () => {
    const { client: c, clock, log } = client({ retry: { initialDelayMs: 400 } });
    render.inject('429', 1);
    render.inject('503', 1);
    render.inject('reset', 1);
    const service = await c.getService(SERVICE);
    expect(service.id).toBe(SERVICE);
    expect(clock.waits[0]).toBe(7000);
    // Backoff with equal jitter: the step doubles with each attempt, half of it fixed, half random.
    expect(clock.waits[1]).toBeGreaterThanOrEqual(400);
    expect(clock.waits[1]).toBeLessThanOrEqual(800);
    expect(clock.waits[2]).toBeGreaterThanOrEqual(800);
    expect(clock.waits[2]).toBeLessThanOrEqual(1600);
    expect(clock.waits).toHaveLength(3);
    expect(log.lines[0]).toMatch(
      new RegExp(
        `^warning: Render API GET /v1/services/${SERVICE}: HTTP 429 Too Many Requests: rate limit exceeded; retry 1/5 in 7000 ms$`,
      ),
    );
    expect(log.lines[2]).toMatch(/GET \/v1\/services\/srv-\w+: no response: ECONNRESET; retry 3\/5/);
  });

  it('gives up after its attempts with an error naming the method, path and status', async () => {
    const { client: c } = client({ retry: { maxAttempts: 3 } });
    render.inject('500', 3);
    const error = await c.getService(SERVICE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenderApiError);
    expect((error as Error).message).toBe(
      `Render API GET /v1/services/${SERVICE}: HTTP 500 Internal Server Error: internal server error`,
    );
  });

  it('never repeats a deploy trigger that may have started a deploy, but does after a 429', async () => {
    const { client: c } = client();
    const triggers = () =>
      render.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/deploys')).length;
    for (const fault of ['500', 'reset'] as const) {
      const before = triggers();
      render.inject(fault, 1, (method) => method === 'POST');
      const error = (await c.triggerDeploy(SERVICE).catch((e: unknown) => e)) as Error;
      expect(error.message).toMatch(
        new RegExp(
          `^Render API POST /v1/services/${SERVICE}/deploys: .*\\(not repeated: Render may have started the deploy; see the service's deploys\\)$`,
        ),
      );
      expect(triggers() - before).toBe(1);
    }
    const before = triggers();
    render.inject('429', 1, (method) => method === 'POST');
    expect((await c.triggerDeploy(SERVICE)).status).toBe('created');
    expect(triggers() - before).toBe(2);
  });

  it('counts a request that gets no answer in time as no response, and tries again', async () => {
    const { client: c, log } = client({ requestTimeoutMs: 200 });
    render.inject('hang', 1, (method) => method === 'GET');
    expect((await c.getService(SERVICE)).id).toBe(SERVICE);
    expect(log.lines[0]).toMatch(
      new RegExp(
        `^warning: Render API GET /v1/services/${SERVICE}: no response: the request timed out; retry 1/5`,
      ),
    );
  });

  it('counts a deploy that went live and was then replaced (deactivated) as a success', async () => {
    const { client: c } = client();
    const deploy = await c.triggerDeploy(REPLACED);
    const done = await c.waitForDeploy(REPLACED, deploy.id, { pollMs: 10 });
    expect(done.status).toBe('deactivated');
    expect(isLive(done.status)).toBe(true);
    expect(isFailed(done.status)).toBe(false);
  });

  it('stops waiting when its signal aborts, saying the deploy may still be running', async () => {
    const { client: c } = client();
    const deploy = await c.triggerDeploy(STUCK);
    const stop = new AbortController();
    const waiting = c.waitForDeploy(STUCK, deploy.id, {
      pollMs: 10,
      signal: stop.signal,
      onStatus: () => stop.abort(),
    });
    await expect(waiting).rejects.toThrow(
      `Render deploy ${deploy.id} of ${STUCK}: the wait was aborted (last status: created); it may still be running on Render`,
    );
  });

  it('tolerates polls that fail for a while, and keeps polling', async () => {
    const { client: c, log } = client({ retry: { maxAttempts: 2 } });
    const deploy = await c.triggerDeploy(SERVICE);
    // Two failures use up one poll's attempts; the wait goes on with the next poll.
    render.inject('502', 2, (method) => method === 'GET');
    const done = await c.waitForDeploy(SERVICE, deploy.id, { pollMs: 10 });
    expect(done.status).toBe('live');
    expect(log.lines.some((l) => /HTTP 502 .*; polling again$/.test(l))).toBe(true);
  });

  it('stops with a clear error when the deploy outlasts the timeout', async () => {
    const { client: c } = client();
    const deploy = await c.triggerDeploy(STUCK);
    const error = await c
      .waitForDeploy(STUCK, deploy.id, { pollMs: 10_000, timeoutMs: 60_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeployTimeoutError);
    expect((error as Error).message).toBe(
      `Render deploy ${deploy.id} of ${STUCK} did not finish within 1 min (last status: created); it may still be running on Render`,
    );
  });

  it('says 401 Unauthorized for a wrong key, at once and without the key', async () => {
    const wrongKey = 'rnd_wrongKeyThatMustNotLeak';
    const { client: c, clock } = client({ apiKey: wrongKey });
    const error = await c.triggerDeploy(SERVICE).catch((e: unknown) => e);
    expect((error as RenderApiError).status).toBe(401);
    expect((error as Error).message).toBe(
      `Render API POST /v1/services/${SERVICE}/deploys: HTTP 401 Unauthorized: unauthorized`,
    );
    expect(clock.waits).toEqual([]);
    expect(JSON.stringify(error) + String(error) + (error as Error).stack).not.toContain(wrongKey);
  });

  it('ends a wait at once on an error that will not pass (404)', async () => {
    const { client: c } = client();
    await expect(c.waitForDeploy(SERVICE, 'dep-nonexistent', { pollMs: 10 })).rejects.toThrow(
      `Render API GET /v1/services/${SERVICE}/deploys/dep-nonexistent: HTTP 404 Not Found: deploy not found`,
    );
  });

  it('starts a deploy through the deploy hook, and hides its key in errors', async () => {
    const c = new RenderClient({ baseUrl: render.apiUrl });
    const started = await c.triggerDeployHook(render.hookUrl(SERVICE));
    expect(started.serviceId).toBe(SERVICE);
    expect(render.deploys.get(started.deployId!)).toMatchObject({
      trigger: 'deploy_hook',
      serviceId: SERVICE,
    });
    const last = render.requests.at(-1)!;
    expect(last).toMatchObject({ method: 'POST', path: `/deploy/${SERVICE}`, authorization: undefined });

    const wrong = `${render.origin}/deploy/${SERVICE}?key=notTheRightHookKey`;
    const error = (await c.triggerDeployHook(wrong).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(
      `Render API POST ${render.origin}/deploy/${SERVICE}?key=***: HTTP 404 Not Found: not found`,
    );
    expect(error.message).not.toContain('notTheRightHookKey');
    await expect(c.triggerDeployHook('not a url')).rejects.toThrow(
      'Render deploy hook: expected a URL like https://api.render.com/deploy/srv-…?key=…',
    );
  });

  it('refuses an API call without a key before sending anything', async () => {
    const before = render.requests.length;
    const c = new RenderClient({ baseUrl: render.apiUrl });
    await expect(c.getService(SERVICE)).rejects.toThrow(
      `Render API GET /v1/services/${SERVICE}: no API key (give one, or use a deploy hook)`,
    );
    expect(render.requests.length).toBe(before);
  });
});
