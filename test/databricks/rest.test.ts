// The Databricks REST client (src/databricks/rest.ts) over real HTTP against the fake Databricks server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabricksClient,
  DatabricksApiError,
  DatabricksRunTimeoutError,
  DEFAULT_RETRY,
  workspaceUrl,
  type DatabricksClient,
  type SubmitRunSpec,
} from '../../src/databricks/rest.ts';
import { memoryLogger } from '../../src/util/log.ts';
import { startDatabricksServer, type DatabricksServer } from '../../src/standins/databricks/server.ts';

const TOKEN = 'dapi-rest-test-0123456789abcdef';
const FAST = { initialDelayMs: 1, maxDelayMs: 5 };

let server: DatabricksServer;
beforeAll(async () => {
  server = await startDatabricksServer({ token: TOKEN });
});
afterAll(() => server.close());
afterEach(() => {
  server.requests.length = 0;
});

function client(overrides: { token?: string; log?: ReturnType<typeof memoryLogger> } = {}): DatabricksClient {
  return createDatabricksClient({
    host: server.url,
    token: overrides.token ?? TOKEN,
    retry: FAST,
    log: overrides.log ?? memoryLogger(),
  });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected the call to fail, it succeeded');
  return error;
}

const SOURCE = '-- Databricks notebook source\nSELECT 1\n\n-- COMMAND ----------\n\nSELECT :dataset\n';

async function notebook(db: DatabricksClient, path: string): Promise<void> {
  await db.mkdirs(path.slice(0, path.lastIndexOf('/')));
  await db.importNotebook(path, SOURCE);
}

function twoTasks(folder: string, token?: string): SubmitRunSpec {
  return {
    run_name: 'rest test',
    tasks: [
      { task_key: 'a', notebook_task: { notebook_path: `${folder}/a`, warehouse_id: 'wh-test' } },
      {
        task_key: 'b',
        depends_on: [{ task_key: 'a' }],
        notebook_task: { notebook_path: `${folder}/b`, warehouse_id: 'wh-test' },
      },
    ],
    ...(token ? { idempotency_token: token } : {}),
  };
}

describe('Databricks REST client', () => {
  it('assumes https:// for a bare host and rejects what is not a URL', () => {
    expect(workspaceUrl('adb-1.2.azuredatabricks.net/')).toBe('https://adb-1.2.azuredatabricks.net');
    expect(workspaceUrl('https://adb-1.2.azuredatabricks.net/?o=12#job/3')).toBe(
      'https://adb-1.2.azuredatabricks.net',
    );
    expect(() => workspaceUrl('  ')).toThrow('Databricks host: expected the workspace URL, found nothing');
    expect(() => workspaceUrl('https://exa mple')).toThrow(/expected a URL like https:\/\//);
  });

  it('imports a SQL notebook in SOURCE format with its exact content', async () => {
    const db = client();
    await notebook(db, '/Shared/rest/imported');
    const imported = server.requests.find((r) => r.path === '/api/2.0/workspace/import')!;
    expect(imported.body).toMatchObject({
      path: '/Shared/rest/imported',
      format: 'SOURCE',
      language: 'SQL',
      overwrite: true,
    });
    expect(server.workspace.get('/Shared/rest/imported')).toMatchObject({
      object_type: 'NOTEBOOK',
      language: 'SQL',
      content: SOURCE,
    });
    // Importing again replaces it (overwrite).
    await db.importNotebook('/Shared/rest/imported', `${SOURCE}SELECT 2\n`);
    expect(server.workspace.get('/Shared/rest/imported')!.content).toBe(`${SOURCE}SELECT 2\n`);
  });

  it('says what failed: method, path, status, error_code and message', async () => {
    const error = await failure(client().importNotebook('/No/Such/Folder/nb', SOURCE));
    expect(error).toBeInstanceOf(DatabricksApiError);
    expect(error.message).toBe(
      'POST /api/2.0/workspace/import: HTTP 404 RESOURCE_DOES_NOT_EXIST: The parent folder (/No/Such/Folder) does not exist.',
    );
    expect((error as DatabricksApiError).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('an answer that is not JSON (a proxy page in front of the workspace) is a clear error', async () => {
    const proxy = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Sign in</body></html>');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      const db = createDatabricksClient({ host: `http://127.0.0.1:${port}`, token: TOKEN, retry: FAST });
      const error = await failure(db.getRun(1));
      expect(error.message).toBe(
        'GET /api/2.2/jobs/runs/get?run_id=1: HTTP 200: expected a JSON answer, found "<html><body>Sign in</body></html>"',
      );
    } finally {
      proxy.close();
    }
  });

  it('a wrong or missing token is a clear error that never shows the token', async () => {
    const wrong = 'dapi-wrong-token-9876543210';
    const error = await failure(client({ token: wrong }).getRun(1));
    expect(error.message).toBe(
      'GET /api/2.2/jobs/runs/get?run_id=1: HTTP 403 PERMISSION_DENIED: Invalid access token.',
    );
    expect(error.message).not.toContain(wrong);
    expect(error.stack).not.toContain(wrong);
    // A 403 is not retried: it will not pass.
    expect(server.requests).toHaveLength(1);
    expect(() => createDatabricksClient({ host: server.url, token: '' })).toThrow(
      'Databricks token: expected a personal access token, found nothing',
    );
  });

  it('runs two chained tasks to the end and reads each task’s output', async () => {
    const db = client();
    await notebook(db, '/Shared/rest/a');
    await notebook(db, '/Shared/rest/b');
    server.notebooks.set('/Shared/rest/b', { result: 'done' });
    const runId = await db.submitRun(twoTasks('/Shared/rest'));
    const states: string[] = [];
    const run = await db.waitForRun(runId, {
      pollMs: 0,
      onPoll: (r) => states.push(r.state.life_cycle_state),
    });
    expect(run.state).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' });
    expect(states[0]).not.toBe('TERMINATED');
    expect(run.tasks!.map((t) => [t.task_key, t.state.result_state])).toEqual([
      ['a', 'SUCCESS'],
      ['b', 'SUCCESS'],
    ]);
    const output = await db.getRunOutput(run.tasks![1]!.run_id);
    expect(output.notebook_output).toEqual({ result: 'done', truncated: false });
    // A multi-task run has no output of its own: Databricks says so.
    const error = await failure(db.getRunOutput(runId));
    expect(error.message).toMatch(
      /HTTP 400 INVALID_PARAMETER_VALUE: Retrieving the output of runs with multiple tasks/,
    );
  });

  it('refuses run specs Databricks refuses, saying why', async () => {
    const db = client();
    await notebook(db, '/Shared/spec/a');
    const task = (key: string, path = '/Shared/spec/a') => ({
      task_key: key,
      notebook_task: { notebook_path: path },
    });
    const cases: [SubmitRunSpec, string][] = [
      [{ tasks: [] }, 'A run must have at least one task.'],
      [{ tasks: [task('a'), task('a')] }, 'Task key a is used more than once.'],
      [
        { tasks: [{ ...task('a'), depends_on: [{ task_key: 'zzz' }] }] },
        'Task a depends on zzz, which is not a task of this run.',
      ],
      [
        { tasks: [task('a', '/Shared/spec/missing')] },
        'Task a: the notebook /Shared/spec/missing does not exist in the workspace.',
      ],
      [
        {
          tasks: [
            { task_key: 'a', notebook_task: { notebook_path: '/Shared/spec/a', warehouse_id: 'nope' } },
          ],
        },
        'Task a: SQL warehouse nope does not exist.',
      ],
      [
        { tasks: [task('a')], idempotency_token: 'x'.repeat(65) },
        'idempotency_token must be a string of at most 64 characters.',
      ],
    ];
    for (const [spec, message] of cases)
      expect((await failure(db.submitRun(spec))).message).toMatch(
        new RegExp(`: HTTP (400|404) [A-Z_]+: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
      );
  });

  it('the same idempotency token gives the same run', async () => {
    const db = client();
    await notebook(db, '/Shared/idem/a');
    await notebook(db, '/Shared/idem/b');
    const first = await db.submitRun(twoTasks('/Shared/idem', 'rest-test-token-1'));
    const again = await db.submitRun(twoTasks('/Shared/idem', 'rest-test-token-1'));
    const other = await db.submitRun(twoTasks('/Shared/idem', 'rest-test-token-2'));
    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });

  it('retries 500, 429 (after Retry-After) and connection resets on submit', async () => {
    const log = memoryLogger();
    const db = client({ log });
    await notebook(db, '/Shared/faults/a');
    await notebook(db, '/Shared/faults/b');
    const submit = (m: string, p: string) => p === '/api/2.2/jobs/runs/submit';
    server.inject('500', { when: submit });
    server.inject('429', { when: submit, retryAfter: '0' });
    server.inject('reset', { when: submit });
    server.requests.length = 0;
    const runId = await db.submitRun(twoTasks('/Shared/faults', 'faults-token'));
    expect(server.requests.map((r) => r.fault ?? r.status)).toEqual(['500', '429', 'reset', 200]);
    expect(server.runs.get(runId)).toBeDefined();
    expect(log.lines.filter((l) => l.startsWith('warning: databricks:'))).toHaveLength(3);
    expect(log.lines.join('\n')).toContain(
      'HTTP 429 REQUEST_LIMIT_EXCEEDED: Too many requests.; retrying in 0 ms (Retry-After)',
    );
    expect(log.lines.join('\n')).toContain('POST /api/2.2/jobs/runs/submit: no response');
  });

  it('a submit without an idempotency token is repeated only after a 429, never after a lost answer', async () => {
    const db = client();
    await notebook(db, '/Shared/once/a');
    await notebook(db, '/Shared/once/b');
    const submit = (m: string, p: string) => p === '/api/2.2/jobs/runs/submit';
    server.inject('429', { when: submit, retryAfter: '0' });
    server.requests.length = 0;
    await db.submitRun(twoTasks('/Shared/once'));
    expect(server.requests.map((r) => r.fault ?? r.status)).toEqual(['429', 200]);

    server.inject('reset', { when: submit });
    server.requests.length = 0;
    const error = await failure(db.submitRun(twoTasks('/Shared/once')));
    expect(error.message).toMatch(/^POST \/api\/2\.2\/jobs\/runs\/submit: no response \(/);
    expect(server.requests).toHaveLength(1);
  });

  it('the server wants a bearer token: 401 without one', async () => {
    const response = await fetch(`${server.url}/api/2.2/jobs/runs/get?run_id=1`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error_code: 'UNAUTHENTICATED',
      message: 'Credential was not sent or was of an unsupported type for this API.',
    });
  });

  it('gives up after the last attempt with the last error', async () => {
    const db = createDatabricksClient({
      host: server.url,
      token: TOKEN,
      retry: { ...FAST, maxAttempts: 2 },
      log: memoryLogger(),
    });
    server.inject('503', { count: 2 });
    const error = await failure(db.mkdirs('/Shared/x'));
    expect(error.message).toBe(
      'POST /api/2.0/workspace/mkdirs: HTTP 503 TEMPORARILY_UNAVAILABLE: The service is having a moment.',
    );
    expect(server.requests).toHaveLength(2);
  });

  it('keeps polling through faults that outlast the retries of one poll', async () => {
    const log = memoryLogger();
    const db = createDatabricksClient({
      host: server.url,
      token: TOKEN,
      retry: { ...FAST, maxAttempts: 2 },
      log,
    });
    await notebook(db, '/Shared/poll/a');
    await notebook(db, '/Shared/poll/b');
    const runId = await db.submitRun(twoTasks('/Shared/poll'));
    const get = (m: string, p: string) => p === '/api/2.2/jobs/runs/get';
    server.inject('reset', { when: get, count: 3 });
    server.inject('429', { when: get, count: 1 });
    const run = await db.waitForRun(runId, { pollMs: 0 });
    expect(run.state.result_state).toBe('SUCCESS');
    expect(log.lines.some((l) => l.includes(`polling run ${runId}:`) && l.endsWith('polling on'))).toBe(true);
    expect(server.requests.filter((r) => r.fault).map((r) => r.fault)).toEqual([
      'reset',
      'reset',
      'reset',
      '429',
    ]);
  });

  it('cancels the run when the wait times out, and when it is aborted', async () => {
    const db = client();
    await notebook(db, '/Shared/hang/a');
    await notebook(db, '/Shared/hang/b');
    server.notebooks.set('/Shared/hang/a', { hang: true });
    const runId = await db.submitRun(twoTasks('/Shared/hang'));
    const error = await failure(db.waitForRun(runId, { pollMs: 5, timeoutMs: 50 }));
    expect(error).toBeInstanceOf(DatabricksRunTimeoutError);
    expect(error.message).toBe(`run ${runId}: it did not finish within 50 ms; cancelled it`);
    expect(server.cancels).toContain(runId);
    const run = await db.getRun(runId);
    expect(run.state).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'CANCELED' });

    const second = await db.submitRun(twoTasks('/Shared/hang'));
    const controller = new AbortController();
    const waiting = db.waitForRun(second, {
      pollMs: 1000,
      signal: controller.signal,
      onPoll: () => controller.abort(),
    });
    expect((await failure(waiting)).message).toBe(`run ${second}: the wait was aborted; cancelled it`);
    expect(server.cancels).toContain(second);

    // A cancel that fails is reported, not hidden.
    const third = await db.submitRun(twoTasks('/Shared/hang'));
    server.inject('reset', {
      when: (m, p) => p === '/api/2.2/jobs/runs/cancel',
      count: DEFAULT_RETRY.maxAttempts,
    });
    const stuck = await failure(db.waitForRun(third, { pollMs: 5, timeoutMs: 30 }));
    expect(stuck.message).toMatch(
      new RegExp(
        `^run ${third}: it did not finish within 30 ms; cancelling it failed \\(POST /api/2\\.2/jobs/runs/cancel: no response`,
      ),
    );
    expect(server.cancels).not.toContain(third);
  });

  it('does not retry a run that does not exist; the wait stops with that error', async () => {
    const error = await failure(client().waitForRun(424242, { pollMs: 0 }));
    expect(error.message).toBe(
      'GET /api/2.2/jobs/runs/get?run_id=424242: HTTP 404 RESOURCE_DOES_NOT_EXIST: Run 424242 does not exist.',
    );
  });
});
