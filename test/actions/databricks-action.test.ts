// The bundled Databricks action (actions/databricks/dist/index.js), run as GitHub runs it: INPUT_* variables in,
// outputs in $GITHUB_OUTPUT, a job summary in $GITHUB_STEP_SUMMARY, against the fake Databricks server.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseParameters, readInputs } from '../../actions/databricks/inputs.ts';
import { tempProject } from '../helpers/cli.ts';
import { runBundledAction, type ActionRun } from '../helpers/github-action.ts';
import { repoRoot } from '../helpers/services.ts';
import { startDatabricksServer, type DatabricksServer } from '../../src/standins/databricks/server.ts';
import { startGitHubIdTokenServer, type IdTokenServer } from '../../src/standins/github/id-token.ts';

const DIST = path.join(repoRoot, 'actions/databricks/dist/index.js');
const TOKEN = 'dapi-action-secret-token-4242424242';
const KEYS = ['01_extract_clean', '02_enrich', '03_gold_sales', '04_basket_rules'];
const CLIENT_ID = '0f9e8d7c-6b5a-4321-9876-action000001';
const CLIENT_SECRET = 'dose-action-client-secret-5555555555';
const SUBJECT = 'repo:my-org/lakehouse:ref:refs/heads/main';

let server: DatabricksServer;
let github: IdTokenServer;
let dir: string;
beforeAll(async () => {
  github = await startGitHubIdTokenServer({ subject: SUBJECT });
  server = await startDatabricksServer({
    token: TOKEN,
    warehouses: ['wh-action'],
    clusters: ['c-action'],
    servicePrincipals: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
  });
  // The ID token's audience by default: the workspace's token endpoint (known once the server listens).
  server.federationPolicies.push({
    clientId: CLIENT_ID,
    audience: `${server.url}/oidc/v1/token`,
    subject: SUBJECT,
  });
  dir = (await tempProject(100)).dir;
});
afterAll(async () => {
  await server.close();
  await github.close();
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  server.requests.length = 0;
  server.notebooks.clear();
});

let sequence = 0;
function action(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<ActionRun> {
  sequence++;
  return runBundledAction({
    action: 'databricks',
    cwd: dir,
    inputs: { host: server.url, token: TOKEN, 'poll-seconds': '0.01', ...inputs },
    env: { GITHUB_RUN_ID: String(5000 + sequence), GITHUB_RUN_ATTEMPT: '1', ...env },
  });
}

function expectNoToken(r: ActionRun): void {
  expect(r.summary).not.toContain(TOKEN);
  expect(JSON.stringify(r.outputs)).not.toContain(TOKEN);
  // The token appears only in the masking command the runner consumes.
  expect(r.stdout.split('\n').filter((l) => l.includes(TOKEN) && !l.startsWith('::add-mask::'))).toEqual([]);
}

describe('the bundled Databricks action', () => {
  it('is bundled: dist/index.js exists and declares node24', () => {
    expect(fs.existsSync(DIST)).toBe(true);
    expect(fs.readFileSync(path.join(repoRoot, 'actions/databricks/action.yml'), 'utf8')).toMatch(
      /using: 'node24'\n\s+main: 'dist\/index.js'/,
    );
  });

  it('runs the notebooks, sets its outputs and writes a summary of the tasks', async () => {
    server.notebooks.set('/Shared/action/04_basket_rules', { result: 'rules written' });
    const r = await action({
      'warehouse-id': 'wh-action',
      'workspace-folder': '/Shared/action',
      parameters: 'min_support: 0.002\nmetric: confidence',
      'timeout-minutes': '30',
    });
    expect(r.stdout).toContain('::add-mask::');
    expect(r.code).toBe(0);
    const runId = Number(r.outputs['run-id']);
    expect(server.runs.has(runId)).toBe(true);
    expect(r.outputs['run-url']).toBe(`${server.url}/#job/0/run/${runId}`);
    expect(r.outputs['result-state']).toBe('SUCCESS');
    const tasks = JSON.parse(r.outputs.tasks!) as { taskKey: string; resultState: string; result?: string }[];
    expect(tasks.map((t) => [t.taskKey, t.resultState])).toEqual(KEYS.map((k) => [k, 'SUCCESS']));
    expect(tasks.at(-1)!.result).toBe('rules written');

    const submitted = server.requests.find((req) => req.path === '/api/2.2/jobs/runs/submit')!.body as {
      timeout_seconds: number;
      idempotency_token: string;
      tasks: { notebook_task: { base_parameters: Record<string, string>; warehouse_id: string } }[];
    };
    expect(submitted.timeout_seconds).toBe(1800);
    expect(submitted.idempotency_token).toMatch(/^lakehouse-\d+-1-[0-9a-f]{16}$/);
    expect(submitted.tasks[0]!.notebook_task).toMatchObject({
      warehouse_id: 'wh-action',
      base_parameters: {
        dataset: 'transactions',
        min_support: '0.002',
        metric: 'confidence',
        min_threshold: '0.8',
      },
    });

    expect(r.summary).toContain('<h2>Transform on Databricks</h2>');
    expect(r.summary).toContain(`Run ${runId} on SQL warehouse wh-action: SUCCESS.`);
    expect(r.summary).toMatch(
      /<tr><td>04_basket_rules<\/td><td>\/Shared\/action\/04_basket_rules<\/td><td>TERMINATED<\/td><td>SUCCESS<\/td><td>\d+\.\d s<\/td><td>rules written<\/td><\/tr>/,
    );
    expectNoToken(r);
  });

  it('a re-run of the same workflow attempt gets the same Databricks run', async () => {
    const env = { GITHUB_RUN_ID: '777000', GITHUB_RUN_ATTEMPT: '3' };
    const inputs = { 'workspace-folder': '/Shared/rerun' };
    const first = await action(inputs, env);
    const second = await action(inputs, env);
    expect(first.code).toBe(0);
    expect(second.outputs['run-id']).toBe(first.outputs['run-id']);
    expect(server.requests.filter((r) => r.path === '/api/2.2/jobs/runs/submit')).toHaveLength(2);
  });

  it('a failing notebook fails the step with Databricks’ message, and still reports the tasks', async () => {
    server.notebooks.set('/Shared/failing/03_gold_sales', {
      fail: 'DIVIDE_BY_ZERO: Division by zero in <expr>.',
    });
    const r = await action({ 'cluster-id': 'c-action', 'workspace-folder': '/Shared/failing' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /::error::databricks transform failed: transform on Databricks: run \d+ ended FAILED \(.*\): task 03_gold_sales \(notebook \/Shared\/failing\/03_gold_sales\) ended FAILED: DIVIDE_BY_ZERO: Division by zero in <expr>\.; skipped after it: 04_basket_rules/,
    );
    expect(r.outputs['result-state']).toBe('FAILED');
    expect(JSON.parse(r.outputs.tasks!).map((t: { resultState: string }) => t.resultState)).toEqual([
      'SUCCESS',
      'SUCCESS',
      'FAILED',
      'UPSTREAM_FAILED',
    ]);
    expect(r.summary).toContain(
      '<td>03_gold_sales</td><td>/Shared/failing/03_gold_sales</td><td>TERMINATED</td><td>FAILED</td>',
    );
    expect(r.summary).toContain('<td>DIVIDE_BY_ZERO: Division by zero in &lt;expr&gt;.</td>');
    // An empty cell is a dash (an empty one breaks the table's HTML).
    expect(r.summary).toMatch(/<td>SUCCESS<\/td><td>\d+\.\d s<\/td><td>–<\/td>/);
    expectNoToken(r);
  });

  it('a cancelled workflow (SIGTERM) cancels the Databricks run, and still reports it', async () => {
    server.notebooks.set('/Shared/stopped/02_enrich', { hang: true });
    const polled = () => server.requests.some((r) => r.path === '/api/2.2/jobs/runs/get');
    const r = await runBundledAction({
      action: 'databricks',
      cwd: dir,
      inputs: {
        host: server.url,
        token: TOKEN,
        'workspace-folder': '/Shared/stopped',
        'poll-seconds': '0.01',
      },
      // Once the run is polled, the action is waiting for it: that is when a cancelled workflow stops it.
      onStart: (child) =>
        void vi.waitUntil(polled, { timeout: 30_000, interval: 20 }).then(() => child.kill('SIGTERM')),
    });
    expect(r.code).toBe(1);
    const runId = Number(server.requests.find((q) => q.path === '/api/2.2/jobs/runs/get')!.query.run_id);
    expect(server.cancels).toContain(runId);
    expect(r.stdout).toContain('::warning::SIGTERM: cancelling the Databricks run');
    expect(r.stdout).toContain(
      `::error::databricks transform failed: transform on Databricks: run ${runId}: the wait was aborted; cancelled it`,
    );
    expect(r.outputs).toMatchObject({ 'run-id': String(runId), 'result-state': 'CANCELED' });
    expect(r.summary).toContain(`Run ${runId} on serverless compute: CANCELED.`);
    expectNoToken(r);
  });

  it('a dry run prints the plan, sends nothing and needs no token', async () => {
    const r = await action({ token: '', host: '', 'workspace-folder': '/Shared/plan', 'dry-run': 'true' });
    expect(r.code).toBe(0);
    expect(server.requests).toEqual([]);
    expect(r.outputs['run-id']).toBe('');
    expect(JSON.parse(r.outputs.tasks!).map((t: { notebook: string }) => t.notebook)).toEqual(
      KEYS.map((k) => `/Shared/plan/${k}`),
    );
    expect(r.summary).toContain('<h2>Transform on Databricks (dry run: nothing sent)</h2>');
    expect(r.summary).toContain('<td>02_enrich</td>');
  });

  it.each([
    [{ 'timeout-minutes': 'soon' }, 'input timeout-minutes: expected a positive number, found "soon"'],
    [{ host: 'not a url' }, 'input host: expected the workspace URL, like https://'],
    [
      { 'warehouse-id': 'wh-action', 'cluster-id': 'c-action' },
      'inputs warehouse-id and cluster-id: expected one of them',
    ],
    [
      { 'workspace-folder': 'Shared/x' },
      'input workspace-folder: expected an absolute workspace path like /Shared/lakehouse, found "Shared/x"',
    ],
    [{ parameters: 'a: [1, 2]' }, 'input parameters: a: expected a string, number or boolean, found a list'],
    [{ 'dry-run': 'yes' }, 'input dry-run: expected true or false, found "yes"'],
    [{ notebooks: 'notebooks/missing.sql' }, 'notebooks/missing.sql: file not found'],
    [
      { token: '', 'workspace-folder': '/Shared/x' },
      'input token: expected a Databricks token (e.g. secrets.DATABRICKS_TOKEN) or profiles.local.databricks.token, found neither',
    ],
    [{}, 'profiles.local.databricks.workspaceFolder: expected the workspace folder for the notebooks'],
  ])('rejects bad inputs before any request: %j', async (inputs, message) => {
    const r = await action(inputs);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('::error::databricks transform failed: ');
    expect(r.stdout).toContain(message);
    expect(server.requests).toEqual([]);
  });

  it('a wrong token fails with a clear error that does not contain it', async () => {
    const wrong = 'dapi-this-is-not-valid-31337';
    const r = await action({ token: wrong, 'workspace-folder': '/Shared/x' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '::error::databricks transform failed: POST /api/2.0/workspace/mkdirs: HTTP 403 PERMISSION_DENIED: Invalid access token.',
    );
    expect(r.stdout.split('\n').filter((l) => l.includes(wrong) && !l.startsWith('::add-mask::'))).toEqual(
      [],
    );
  });
});

describe('the bundled Databricks action without a personal access token', () => {
  /** No secret in the outputs, the summary, stderr, or stdout but for the runner's masking commands. */
  function expectNoSecrets(r: ActionRun, secrets: string[]): void {
    expect(secrets.every((s) => s.length > 8)).toBe(true);
    for (const secret of secrets) {
      expect(r.summary).not.toContain(secret);
      expect(JSON.stringify(r.outputs)).not.toContain(secret);
      expect(r.stderr).not.toContain(secret);
      expect(r.stdout.split('\n').filter((l) => l.includes(secret) && !l.startsWith('::add-mask::'))).toEqual(
        [],
      );
    }
  }
  const tokenRequests = () => server.requests.filter((r) => r.path === '/oidc/v1/token');
  const oidcEnv = () => ({
    ACTIONS_ID_TOKEN_REQUEST_URL: github.url,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
  });

  it('auth oauth-m2m: a service principal’s client id and secret, masked, and the token it gets too', async () => {
    const r = await action({
      auth: 'oauth-m2m',
      token: '',
      'client-id': CLIENT_ID,
      'client-secret': CLIENT_SECRET,
      'workspace-folder': '/Shared/m2m',
    });
    expect(r.stdout).not.toContain('::error::');
    expect(r.code).toBe(0);
    expect(r.outputs['result-state']).toBe('SUCCESS');
    expect(server.runs.has(Number(r.outputs['run-id']))).toBe(true);
    expect(tokenRequests()).toHaveLength(1);
    expect(tokenRequests()[0]!.body).toEqual({ grant_type: 'client_credentials', scope: 'all-apis' });
    const accessToken = [...server.accessTokens.keys()].at(-1)!;
    expect(r.stdout).toContain(`::add-mask::${CLIENT_SECRET}`);
    expect(r.stdout).toContain(`::add-mask::${accessToken}`);
    expectNoSecrets(r, [CLIENT_SECRET, accessToken]);
  });

  it('auth github-oidc: the job’s GitHub ID token exchanged for a Databricks token', async () => {
    github.requests.length = 0;
    const r = await action(
      { auth: 'github-oidc', token: '', 'client-id': CLIENT_ID, 'workspace-folder': '/Shared/oidc' },
      oidcEnv(),
    );
    expect(r.stdout).not.toContain('::error::');
    expect(r.code).toBe(0);
    expect(r.outputs['result-state']).toBe('SUCCESS');
    expect(github.requests).toEqual([{ audience: `${server.url}/oidc/v1/token`, authorized: true }]);
    expect(tokenRequests()).toHaveLength(1);
    expect(tokenRequests()[0]!.body).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      client_id: CLIENT_ID,
      scope: 'all-apis',
    });
    const idToken = github.issued.at(-1)!;
    const accessToken = [...server.accessTokens.keys()].at(-1)!;
    expect(r.stdout).toContain(`::add-mask::${idToken}`);
    expectNoSecrets(r, [idToken, accessToken, github.requestToken]);
    expect(r.summary).toContain('<h2>Transform on Databricks</h2>');
  });

  it('auth github-oidc: a token no federation policy accepts fails clearly, without the token', async () => {
    github.requests.length = 0;
    const r = await action(
      {
        auth: 'github-oidc',
        token: '',
        'client-id': CLIENT_ID,
        'oidc-audience': 'https://github.com/my-org',
        'workspace-folder': '/Shared/x',
      },
      oidcEnv(),
    );
    expect(r.code).toBe(1);
    expect(github.requests[0]!.audience).toBe('https://github.com/my-org');
    expect(r.stdout).toContain(
      `::error::databricks transform failed: POST /oidc/v1/token (grant token-exchange): HTTP 401 invalid_grant: No federation policy of service principal ${CLIENT_ID} matches the subject token (iss, aud, sub).`,
    );
    expectNoSecrets(r, [github.issued.at(-1)!]);
    expect(server.requests.map((q) => q.path)).toEqual(['/oidc/v1/token']);
  });

  it('auth github-oidc without permissions: id-token: write says so', async () => {
    const r = await action({ auth: 'github-oidc', token: '', 'workspace-folder': '/Shared/x' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '::error::databricks transform failed: GitHub OIDC: could not get an ID token for audience',
    );
    expect(server.requests).toEqual([]);
  });

  it('auth oauth-m2m with a wrong secret fails with Databricks’ error, without the secret', async () => {
    const wrong = 'dose-not-the-secret-1234567';
    const r = await action({
      auth: 'oauth-m2m',
      token: '',
      'client-id': CLIENT_ID,
      'client-secret': wrong,
      'workspace-folder': '/Shared/x',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '::error::databricks transform failed: POST /oidc/v1/token (grant client_credentials): HTTP 401 invalid_client: Client authentication failed',
    );
    expectNoSecrets(r, [wrong]);
  });

  it.each([
    [{ auth: 'password' }, 'input auth: expected pat, oauth-m2m, github-oidc, found "password"'],
    [
      { auth: 'oauth-m2m', 'client-id': CLIENT_ID },
      "input client-secret: expected the service principal's OAuth secret (e.g. secrets.DATABRICKS_CLIENT_SECRET) or profiles.local.databricks.clientSecret, found neither (auth: oauth-m2m)",
    ],
    [
      { auth: 'oauth-m2m', token: '' },
      "input client-id: expected the service principal's application id (e.g. vars.DATABRICKS_CLIENT_ID) or profiles.local.databricks.clientId, found neither (auth: oauth-m2m)",
    ],
  ])('rejects missing or bad credentials before any request: %j', async (inputs, message) => {
    const r = await action({ 'workspace-folder': '/Shared/x', ...inputs });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`::error::databricks transform failed: ${message}`);
    expect(server.requests).toEqual([]);
  });
});

describe('the action’s parameters input', () => {
  it('takes YAML, JSON or name=value lines', () => {
    expect(parseParameters('min_support: 0.002\nmetric: lift')).toEqual({
      min_support: 0.002,
      metric: 'lift',
    });
    expect(parseParameters('{"metric": "lift", "strict": true}')).toEqual({ metric: 'lift', strict: true });
    expect(parseParameters('metric=lift\nfilter=a=b')).toEqual({ metric: 'lift', filter: 'a=b' });
    expect(() => parseParameters('- a\n- b')).toThrow(
      'input parameters: expected a YAML or JSON mapping, or name=value lines',
    );
    expect(() => parseParameters('bad-name=1')).toThrow(
      'input parameters: expected parameter names of letters, digits and _ (as :name markers), found "bad-name"',
    );
    expect(() => parseParameters('{a: 1')).toThrow(/found invalid YAML/);
  });

  it('full-refresh sets the notebooks’ full_refresh parameter, over the parameters input', () => {
    const read = (inputs: Record<string, string>) => readInputs((name) => inputs[name] ?? '').parameters;
    expect(read({ 'full-refresh': 'true', parameters: 'metric: lift\nfull_refresh: false' })).toEqual({
      metric: 'lift',
      full_refresh: true,
    });
    expect(read({ 'full-refresh': 'false', parameters: 'metric: lift' })).toEqual({ metric: 'lift' });
    expect(read({})).toBeUndefined();
  });

  it('reads the inputs with their defaults', () => {
    const inputs = readInputs(
      (name) => ({ notebooks: 'a.sql, b.sql\nc.sql', 'timeout-minutes': '5' })[name] ?? '',
    );
    expect(inputs).toMatchObject({
      config: 'lakehouse.yml',
      notebooks: ['a.sql', 'b.sql', 'c.sql'],
      timeoutMinutes: 5,
      dryRun: false,
    });
  });
});
