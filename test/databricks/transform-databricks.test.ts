// The transform on Databricks (src/stages/transform-databricks.ts): the project's notebooks imported into the
// fake Databricks server and run as one job run, and `lakehouse transform --on databricks` as a user runs it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { createDatabricksClient, type DatabricksClient } from '../../src/databricks/rest.ts';
import {
  databricksSettings,
  DatabricksTransformError,
  idempotencyToken,
  taskKeyOf,
  planDatabricksTransform,
  transformOnDatabricks,
  type DatabricksTransformSettings,
} from '../../src/stages/transform-databricks.ts';
import { memoryLogger } from '../../src/util/log.ts';
import { lakehouse } from '../helpers/cli.ts';
import { repoRoot } from '../helpers/services.ts';
import { startDatabricksServer, type DatabricksServer } from '../../src/standins/databricks/server.ts';
import { GITHUB_ISSUER, testJwt } from '../../src/standins/github/id-token.ts';

const CLI_CLIENT_SECRET = 'dose-cli-client-secret-31415926';

const TOKEN = 'dapi-transform-test-00112233445566';
const NOTEBOOKS = fs
  .readdirSync(path.join(repoRoot, 'notebooks'))
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => path.join(repoRoot, 'notebooks', f));
const KEYS = NOTEBOOKS.map((f) => path.basename(f, '.sql'));
const GITHUB = { GITHUB_RUN_ID: '9001', GITHUB_RUN_ATTEMPT: '2' };

let server: DatabricksServer;
let db: DatabricksClient;
beforeAll(async () => {
  server = await startDatabricksServer({
    token: TOKEN,
    warehouses: ['wh-123'],
    servicePrincipals: [{ clientId: 'sp-cli', clientSecret: CLI_CLIENT_SECRET }],
    federationPolicies: [
      { clientId: 'sp-cli', audience: 'cli-audience', subject: 'repo:my-org/lakehouse:ref:refs/heads/main' },
    ],
  });
  db = createDatabricksClient({
    host: server.url,
    token: TOKEN,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    log: memoryLogger(),
  });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.notebooks.clear();
});

function settings(overrides: Partial<DatabricksTransformSettings> = {}): DatabricksTransformSettings {
  return {
    notebooks: NOTEBOOKS,
    workspaceFolder: '/Shared/lakehouse',
    parameters: { dataset: 'transactions', min_support: 0.001, metric: 'lift', strict: true },
    warehouseId: 'wh-123',
    timeoutSeconds: 600,
    runName: 'groceries transform',
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected a failure, it succeeded');
  return error;
}

describe('planning a Databricks transform', () => {
  it('chains one notebook task per notebook, with string parameters and the warehouse', () => {
    const plan = planDatabricksTransform(settings(), GITHUB);
    expect(plan.notebooks.map((n) => n.path)).toEqual(KEYS.map((k) => `/Shared/lakehouse/${k}`));
    expect(plan.spec.tasks).toEqual(
      KEYS.map((key, i) => ({
        task_key: key,
        ...(i ? { depends_on: [{ task_key: KEYS[i - 1] }] } : {}),
        notebook_task: {
          notebook_path: `/Shared/lakehouse/${key}`,
          source: 'WORKSPACE',
          base_parameters: { dataset: 'transactions', min_support: '0.001', metric: 'lift', strict: 'true' },
          warehouse_id: 'wh-123',
        },
      })),
    );
    expect(plan.spec).toMatchObject({ run_name: 'groceries transform', timeout_seconds: 600 });
  });

  it('a cluster instead of a warehouse goes on the task; both is an error', () => {
    const plan = planDatabricksTransform(
      settings({ warehouseId: undefined, existingClusterId: 'c-1' }),
      GITHUB,
    );
    expect(plan.spec.tasks[0]).toMatchObject({ existing_cluster_id: 'c-1' });
    expect(plan.spec.tasks[0]!.notebook_task.warehouse_id).toBeUndefined();
    expect(() => planDatabricksTransform(settings({ existingClusterId: 'c-1' }))).toThrow(
      'transform on Databricks: expected a warehouse id or a cluster id, not both',
    );
    expect(() => planDatabricksTransform(settings({ workspaceFolder: 'Shared/x' }))).toThrow(
      'workspace folder: expected an absolute workspace path like /Shared/lakehouse, found "Shared/x"',
    );
  });

  it('the idempotency token follows the GitHub run and attempt, and what is run', () => {
    const token = planDatabricksTransform(settings(), GITHUB).spec.idempotency_token!;
    expect(token).toMatch(/^lakehouse-9001-2-[0-9a-f]{16}$/);
    expect(token.length).toBeLessThanOrEqual(64);
    expect(planDatabricksTransform(settings(), GITHUB).spec.idempotency_token).toBe(token);
    expect(
      planDatabricksTransform(settings(), { ...GITHUB, GITHUB_RUN_ATTEMPT: '3' }).spec.idempotency_token,
    ).not.toBe(token);
    expect(
      planDatabricksTransform(settings({ parameters: { dataset: 'other' } }), GITHUB).spec.idempotency_token,
    ).not.toBe(token);
    const local = planDatabricksTransform(settings(), {}).spec.idempotency_token!;
    expect(local).toMatch(/^lakehouse-local-/);
    expect(local.length).toBeLessThanOrEqual(64);
    expect(planDatabricksTransform(settings(), {}).spec.idempotency_token).not.toBe(local);
    const long = idempotencyToken({ tasks: [] }, { GITHUB_RUN_ID: '1'.repeat(60) });
    // The run id is cut, not the hash: the token still tells apart what is run.
    expect(long).toMatch(/^lakehouse-1{38}[0-9a-f]{16}$/);
  });

  it('task keys keep only the characters Databricks accepts (letters, digits, _ and -)', () => {
    expect(taskKeyOf('notebooks/v1.2 clean+load.sql')).toBe('v1_2_clean_load');
    const plan = planDatabricksTransform(
      settings({ notebooks: ['a/v1.2_clean.sql', 'b/v1.2_clean.sql'] }),
      GITHUB,
    );
    expect(plan.spec.tasks.map((t) => t.task_key)).toEqual(['v1_2_clean', 'v1_2_clean_2']);
  });

  it('takes the notebooks, parameters and compute from lakehouse.yml, every notebooks/*.sql by default', async () => {
    const text = fs
      .readFileSync(path.join(repoRoot, 'lakehouse.yml'), 'utf8')
      .replace(/notebooks:\n(\s+- .*\n)+/, 'notebooks: []\n')
      .replace(
        '    delta: .lakehouse/delta\n    manifests: .lakehouse/manifests\n\n  # The cloud',
        '    databricks: { workspaceFolder: /Shared/x, warehouseId: wh-9 }\n\n  # The cloud',
      );
    const resolved = parseConfig(text, path.join(repoRoot, 'lakehouse.yml'), 'local');
    const s = await databricksSettings(resolved, { parameters: { metric: 'confidence' } });
    expect(s.notebooks).toEqual(NOTEBOOKS);
    expect(s).toMatchObject({
      workspaceFolder: '/Shared/x',
      warehouseId: 'wh-9',
      // full_refresh: false unless asked (an incremental run), as `lakehouse transform` passes it.
      parameters: { dataset: 'transactions', full_refresh: false, min_support: 0.001, metric: 'confidence' },
    });
    // A cluster given by the caller replaces the profile's warehouse.
    expect(await databricksSettings(resolved, { existingClusterId: 'c-2' })).toMatchObject({
      warehouseId: undefined,
      existingClusterId: 'c-2',
    });
  });
});

describe('running the notebooks on Databricks', () => {
  it('imports each notebook with its exact content, runs them in order and reports each task', async () => {
    server.notebooks.set('/Shared/ok/04_basket_rules', { result: '42 rules' });
    const log = memoryLogger();
    const plan = planDatabricksTransform(settings({ workspaceFolder: '/Shared/ok' }), GITHUB);
    const result = await transformOnDatabricks(db, plan, { pollMs: 0, log });

    for (const [i, file] of NOTEBOOKS.entries())
      expect(server.workspace.get(`/Shared/ok/${KEYS[i]}`)).toMatchObject({
        object_type: 'NOTEBOOK',
        language: 'SQL',
        content: fs.readFileSync(file, 'utf8'),
      });
    const submitted = server.requests.filter((r) => r.path === '/api/2.2/jobs/runs/submit');
    expect(submitted).toHaveLength(1);
    expect(submitted[0]!.body).toEqual(plan.spec);

    expect(result).toMatchObject({
      resultState: 'SUCCESS',
      runPageUrl: `${server.url}/#job/0/run/${result.runId}`,
    });
    expect(result.tasks.map((t) => [t.taskKey, t.notebook, t.state, t.resultState])).toEqual(
      KEYS.map((k) => [k, `/Shared/ok/${k}`, 'TERMINATED', 'SUCCESS']),
    );
    expect(result.tasks.at(-1)!.result).toBe('42 rules');
    expect(result.tasks[0]!.result).toBeUndefined();
    for (const t of result.tasks) {
      expect(t.durationMs).toBeGreaterThanOrEqual(0);
      expect(t.runPageUrl).toMatch(new RegExp(`^${server.url}/#job/0/run/\\d+$`));
    }
    // Each task started only after the one before it ended.
    const run = server.runs.get(result.runId)!;
    for (let i = 1; i < run.tasks.length; i++)
      expect(run.tasks[i]!.start_time!).toBeGreaterThanOrEqual(run.tasks[i - 1]!.end_time!);
    expect(log.lines.join('\n')).toContain(`transform: Databricks run ${result.runId}: ${result.runPageUrl}`);
  });

  it('run again in the same GitHub attempt, it gets the same Databricks run, not a second', async () => {
    const plan = planDatabricksTransform(settings({ workspaceFolder: '/Shared/again' }), GITHUB);
    const before = server.runs.size;
    const first = await transformOnDatabricks(db, plan, { pollMs: 0, log: memoryLogger() });
    const second = await transformOnDatabricks(db, plan, { pollMs: 0, log: memoryLogger() });
    expect(second.runId).toBe(first.runId);
    expect(server.runs.size).toBe(before + 1);
  });

  it('a failing notebook fails the stage with the task, the notebook and Databricks’ message', async () => {
    const message = '[TABLE_OR_VIEW_NOT_FOUND] The table or view `silver`.`baskets` cannot be found.';
    server.notebooks.set('/Shared/fail/02_enrich', { fail: message });
    const plan = planDatabricksTransform(settings({ workspaceFolder: '/Shared/fail' }), {});
    const error = await failure(transformOnDatabricks(db, plan, { pollMs: 0, log: memoryLogger() }));
    expect(error).toBeInstanceOf(DatabricksTransformError);
    const { result } = error as DatabricksTransformError;
    expect(error.message).toBe(
      `transform on Databricks: run ${result.runId} ended FAILED (${result.runPageUrl}): task 02_enrich (notebook /Shared/fail/02_enrich) ended FAILED: ${message}; skipped after it: 03_gold_sales, 04_basket_rules`,
    );
    expect(result.tasks.map((t) => [t.taskKey, t.state, t.resultState])).toEqual([
      ['01_extract_clean', 'TERMINATED', 'SUCCESS'],
      ['02_enrich', 'TERMINATED', 'FAILED'],
      ['03_gold_sales', 'SKIPPED', 'UPSTREAM_FAILED'],
      ['04_basket_rules', 'SKIPPED', 'UPSTREAM_FAILED'],
    ]);
    expect(result.tasks[1]!.error).toBe(message);
    // Skipped tasks never ran: their output is not asked for.
    const outputs = server.requests.filter((r) => r.path === '/api/2.2/jobs/runs/get-output');
    expect(outputs).toHaveLength(2);
  });

  it('a run that outlasts the wait is cancelled, and the error says so', async () => {
    server.notebooks.set('/Shared/slow/03_gold_sales', { hang: true });
    const plan = planDatabricksTransform(settings({ workspaceFolder: '/Shared/slow' }), {});
    const error = await failure(
      transformOnDatabricks(db, plan, { pollMs: 5, waitTimeoutMs: 100, log: memoryLogger() }),
    );
    const runId = [...server.runs.keys()].at(-1)!;
    expect(error.message).toBe(
      `transform on Databricks: run ${runId}: it did not finish within 100 ms; cancelled it (${server.url}/#job/0/run/${runId})`,
    );
    expect(server.cancels).toContain(runId);
    expect(server.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/api/2.2/jobs/runs/cancel',
      body: { run_id: runId },
    });
  });

  it('rides out faults while importing, submitting and polling, and starts one run', async () => {
    const on = (p: string) => (_m: string, requestPath: string) => requestPath === p;
    server.inject('429', { when: on('/api/2.0/workspace/import'), retryAfter: '0' });
    server.inject('reset', { when: on('/api/2.2/jobs/runs/submit') });
    server.inject('500', { when: on('/api/2.2/jobs/runs/submit') });
    server.inject('reset', { when: on('/api/2.2/jobs/runs/get'), count: 2 });
    server.inject('503', { when: on('/api/2.2/jobs/runs/get-output') });
    const before = server.runs.size;
    const plan = planDatabricksTransform(settings({ workspaceFolder: '/Shared/faulty' }), GITHUB);
    const result = await transformOnDatabricks(db, plan, { pollMs: 0, log: memoryLogger() });
    expect(result.resultState).toBe('SUCCESS');
    expect(server.runs.size).toBe(before + 1);
    expect(server.requests.filter((r) => r.fault).map((r) => r.fault)).toEqual([
      '429',
      'reset',
      '500',
      'reset',
      'reset',
      '503',
    ]);
  });

  it('a wrong token stops at the first request with a clear error that does not contain it', async () => {
    const wrong = 'dapi-not-the-right-one-77777';
    const bad = createDatabricksClient({ host: server.url, token: wrong, log: memoryLogger() });
    const error = await failure(transformOnDatabricks(bad, planDatabricksTransform(settings(), {})));
    expect(error.message).toBe(
      'POST /api/2.0/workspace/mkdirs: HTTP 403 PERMISSION_DENIED: Invalid access token.',
    );
    expect(error.message).not.toContain(wrong);
    expect(server.requests).toHaveLength(1);
  });
});

describe('lakehouse transform --on databricks', () => {
  let dir: string;
  let config: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'transform-databricks-'));
    await fsp.mkdir(path.join(dir, 'notebooks'));
    for (const file of NOTEBOOKS.slice(0, 2))
      await fsp.copyFile(file, path.join(dir, 'notebooks', path.basename(file)));
    config = path.join(dir, 'lakehouse.yml');
    const text = fs
      .readFileSync(path.join(repoRoot, 'lakehouse.yml'), 'utf8')
      .replace(/notebooks:\n(\s+- .*\n)+/, 'notebooks: []\n')
      .replace(
        '\n  gcp:\n',
        `\n  azure:\n    bucket: file://bucket\n    sql: { engine: sqlserver, connection: '\${env:NOT_SET_SQL_CONNECTION}' }\n    databricks:\n      host: '\${env:TEST_DATABRICKS_HOST}'\n      token: '\${env:TEST_DATABRICKS_TOKEN}'\n      warehouseId: wh-123\n      workspaceFolder: /Shared/cli\n\n  azure-m2m:\n    bucket: file://bucket\n    sql: { engine: pglite, path: x }\n    databricks:\n      host: '\${env:TEST_DATABRICKS_HOST}'\n      clientId: sp-cli\n      clientSecret: '\${env:TEST_DATABRICKS_CLIENT_SECRET}'\n      warehouseId: wh-123\n      workspaceFolder: /Shared/cli-m2m\n\n  azure-oidc:\n    bucket: file://bucket\n    sql: { engine: pglite, path: x }\n    databricks:\n      host: '\${env:TEST_DATABRICKS_HOST}'\n      auth: github-oidc\n      clientId: sp-cli\n      oidcAudience: cli-audience\n      warehouseId: wh-123\n      workspaceFolder: /Shared/cli-oidc\n\n  gcp:\n`,
      );
    await fsp.writeFile(config, text);
  });
  afterAll(async () => {
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('--dry-run prints the plan and sends nothing (no token needed)', async () => {
    const result = await lakehouse(
      [
        'transform',
        '--on',
        'databricks',
        '-c',
        config,
        '-p',
        'azure',
        '--dry-run',
        '--param',
        'metric=confidence',
      ],
      {
        TEST_DATABRICKS_HOST: server.url,
      },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'transform: 2 notebooks on Databricks (SQL warehouse wh-123) in /Shared/cli (dry run: nothing sent)',
    );
    expect(result.stdout).toMatch(
      /01_extract_clean\s+notebooks\/01_extract_clean\.sql\s+\/Shared\/cli\/01_extract_clean/,
    );
    expect(result.stdout).toMatch(
      /02_enrich\s+notebooks\/02_enrich\.sql\s+\/Shared\/cli\/02_enrich\s+01_extract_clean/,
    );
    expect(result.stdout).toContain(
      'parameters: {"dataset":"transactions","full_refresh":"false","min_support":"0.001","max_len":"0","metric":"confidence"',
    );
    expect(server.requests).toEqual([]);
  });

  it('runs the notebooks on the profile’s workspace, without the SQL store’s secret', async () => {
    server.notebooks.set('/Shared/cli/02_enrich', { result: 'enriched' });
    const result = await lakehouse(
      ['transform', '--on', 'databricks', '-c', config, '-p', 'azure', '--poll-seconds', '0.01'],
      {
        TEST_DATABRICKS_HOST: server.url,
        TEST_DATABRICKS_TOKEN: TOKEN,
        GITHUB_RUN_ID: '',
      },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /transform: Databricks run \d+ SUCCESS: http:\/\/127\.0\.0\.1:\d+\/#job\/0\/run\/\d+/,
    );
    expect(server.workspace.get('/Shared/cli/02_enrich')!.content).toBe(
      fs.readFileSync(NOTEBOOKS[1]!, 'utf8'),
    );
    expect(result.stdout).not.toContain(TOKEN);
  });

  it('Ctrl-C cancels the Databricks run', async () => {
    server.notebooks.set('/Shared/cli/01_extract_clean', { hang: true });
    const child = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'bin/lakehouse.js'),
        'transform',
        '--on',
        'databricks',
        '-c',
        config,
        '-p',
        'azure',
        '--poll-seconds',
        '0.01',
      ],
      {
        env: {
          ...process.env,
          TEST_DATABRICKS_HOST: server.url,
          TEST_DATABRICKS_TOKEN: TOKEN,
          GITHUB_RUN_ID: '',
        },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await vi.waitUntil(() => server.requests.some((r) => r.path === '/api/2.2/jobs/runs/get'), {
      timeout: 30_000,
      interval: 20,
    });
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    const runId = Number(server.requests.find((r) => r.path === '/api/2.2/jobs/runs/get')!.query.run_id);
    expect(server.cancels).toContain(runId);
    expect(output).toContain('SIGINT: cancelling the Databricks run');
    expect(output).toContain(
      `lakehouse: transform on Databricks: run ${runId}: the wait was aborted; cancelled it`,
    );
  });

  it('signs in with a service principal’s client id and secret (oauth-m2m), secret never printed', async () => {
    const result = await lakehouse(
      ['transform', '--on', 'databricks', '-c', config, '-p', 'azure-m2m', '--poll-seconds', '0.01'],
      {
        TEST_DATABRICKS_HOST: server.url,
        TEST_DATABRICKS_CLIENT_SECRET: CLI_CLIENT_SECRET,
        GITHUB_RUN_ID: '',
      },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/transform: Databricks run \d+ SUCCESS/);
    expect(server.requests.filter((r) => r.path === '/oidc/v1/token')).toHaveLength(1);
    expect(server.workspace.has('/Shared/cli-m2m/02_enrich')).toBe(true);
    expect(result.stdout).not.toContain(CLI_CLIENT_SECRET);
  });

  it('signs in with an OIDC ID token from $DATABRICKS_OIDC_TOKEN (github-oidc outside GitHub)', async () => {
    const jwt = testJwt({
      iss: GITHUB_ISSUER,
      aud: 'cli-audience',
      sub: 'repo:my-org/lakehouse:ref:refs/heads/main',
      exp: Math.floor(Date.now() / 1000) + 300,
    });
    const env = { TEST_DATABRICKS_HOST: server.url, ACTIONS_ID_TOKEN_REQUEST_URL: '', GITHUB_RUN_ID: '' };
    const args = [
      'transform',
      '--on',
      'databricks',
      '-c',
      config,
      '-p',
      'azure-oidc',
      '--poll-seconds',
      '0.01',
    ];
    const result = await lakehouse(args, { ...env, DATABRICKS_OIDC_TOKEN: jwt });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(server.workspace.has('/Shared/cli-oidc/02_enrich')).toBe(true);
    expect(result.stdout).not.toContain(jwt);

    const missing = await lakehouse(args, { ...env, DATABRICKS_OIDC_TOKEN: '' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'lakehouse: GitHub OIDC: could not get an ID token for audience cli-audience (expected ACTIONS_ID_TOKEN_REQUEST_URL',
    );
  });

  it('a wrong token: exit 1 and a message without the token', async () => {
    const wrong = 'dapi-cli-wrong-token-123456';
    const result = await lakehouse(['transform', '--on', 'databricks', '-c', config, '-p', 'azure'], {
      TEST_DATABRICKS_HOST: server.url,
      TEST_DATABRICKS_TOKEN: wrong,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'lakehouse: POST /api/2.0/workspace/mkdirs: HTTP 403 PERMISSION_DENIED: Invalid access token.',
    );
    expect(result.stderr + result.stdout).not.toContain(wrong);
  });
});
