// The cloud behind the workflows, replaced for one rehearsal: the project's protocol-level stand-ins for GCS,
// Databricks (which runs the notebooks it is sent), Render and GitHub (REST and the job ID-token endpoint), on
// 127.0.0.1; the local PostgreSQL for SQL Server, in a schema of its own. The rehearsal makes up the variables
// and secrets the workflows read (a secret is masked wherever the rehearsal prints), and says what it replaced.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { parseDocument } from 'yaml';
import { startDatabricksServer } from '../standins/databricks/server.ts';
import { startGcsServer } from '../standins/gcs/server.ts';
import { startGitHubIdTokenServer } from '../standins/github/id-token.ts';
import { startGitHubServer } from '../standins/github/server.ts';
import { startRenderServer } from '../standins/render/server.ts';
import { openPostgres } from '../sql/postgres/session.ts';
import { notebookRunner } from './databricks-notebooks.ts';
import type { StandinEnvironment } from './types.ts';

export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface StandinOptions {
  runDir: string;
  runId: string;
  repository: string;
  branch: string;
  /**
   * A folder that keeps the cloud between rehearsals (the bucket's objects, the SQL schema's name, the Delta
   * tables and the notebook manifests): a rehearsal given the same folder continues where the last one ended, as
   * a nightly run follows a dispatched one. Default: everything lives in the run folder and is dropped.
   */
  stateDir?: string;
  /** Variables and secrets over the made-up ones ('' removes one). */
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
}

/** What the Render and GitHub stand-ins saw: deploys started, deployments recorded with their statuses. */
export interface Recorded {
  renderDeploys: { id: string; serviceId: string; status: string; trigger: string; commit?: string }[];
  githubDeployments: {
    environment: string;
    sha: string;
    statuses: { state: string; environmentUrl: string }[];
  }[];
}

export interface CloudStandins extends StandinEnvironment {
  deltaRoot: string;
  manifestsDir: string;
  recorded(): Recorded;
  schema: string;
  servers: {
    gcs: Awaited<ReturnType<typeof startGcsServer>>;
    databricks: Awaited<ReturnType<typeof startDatabricksServer>>;
    render: Awaited<ReturnType<typeof startRenderServer>>;
    github: Awaited<ReturnType<typeof startGitHubServer>>;
  };
  close(): Promise<void>;
}

export async function startStandins(options: StandinOptions): Promise<CloudStandins> {
  const tag = stateTag(options);
  const schema = `rehearse_${tag}`;
  // Without PostgreSQL the rehearsal still runs: what reads or writes the SQL store fails, saying why.
  const postgres = await withPostgres((client) => client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)).then(
    () => undefined,
    (e: unknown) =>
      `PostgreSQL at 127.0.0.1:5432 is not reachable (${e instanceof Error ? e.message : String(e)})`,
  );
  const bucket = `rehearsal-${tag}`;
  const home = options.stateDir ?? options.runDir;
  const deltaRoot = path.join(home, 'delta');
  const { gcs, idToken, databricks, github, render, tokens } = await startServers(options, {
    bucket,
    schema,
    deltaRoot,
  });
  const { clientId, databricksToken, writeToken, readToken, renderKey } = tokens;
  const vars = overlay(
    {
      GCS_BUCKET: bucket,
      GCP_WORKLOAD_IDENTITY_PROVIDER:
        'projects/123456789/locations/global/workloadIdentityPools/github/providers/rehearsal',
      GCP_SERVICE_ACCOUNT: 'lakehouse@rehearsal-project.iam.gserviceaccount.com',
      DATABRICKS_HOST: databricks.url,
      DATABRICKS_CLIENT_ID: clientId,
      DATABRICKS_WAREHOUSE_ID: 'rehearsal-warehouse',
      RENDER_SERVICE_ID: 'srv-rehearsal',
    },
    options.vars,
  );
  const secrets = overlay(
    {
      GITHUB_TOKEN: writeToken,
      SQLSERVER_CONNECTION_STRING: `${POSTGRES_URL}?application_name=${madeUpSecret('rehearsal')}`,
      DATABRICKS_TOKEN: databricksToken,
      RENDER_API_KEY: renderKey,
      RENDER_DEPLOY_HOOK_URL: render.hookUrl('srv-rehearsal'),
    },
    options.secrets,
  );
  const notes = [
    `GCS: the GCS stand-in at ${gcs.url} (STORAGE_EMULATOR_HOST), bucket ${bucket}`,
    `SQL Server: no SQL Server runs here; lakehouse.yml's sqlserver targets point at PostgreSQL (127.0.0.1:5432, database test, schema ${schema})${postgres ? `: ${postgres}` : ''}`,
    `Databricks: the Databricks stand-in at ${databricks.url} runs the notebooks it is sent on DuckDB, reading PostgreSQL schema ${schema}, writing Delta tables into ${deltaRoot}`,
    `GitHub: REST stand-in at ${github.url}, ID tokens at ${idToken.url.split('?')[0]} for jobs with id-token: write`,
    `Render: the Render stand-in at ${render.apiUrl} (lakehouse.yml's profiles get render.apiUrl = it, where the deploy-render action looks before https://api.render.com/v1)`,
  ];
  const servers = [gcs, idToken, databricks, github, render];
  return {
    endpointEnv: { STORAGE_EMULATOR_HOST: gcs.url },
    vars,
    secrets,
    githubToken: (permissions) => (permissions.deployments === 'write' ? writeToken : readToken),
    githubApiUrl: github.url,
    idToken: { url: idToken.url, requestToken: idToken.requestToken },
    inputDefaults: { 'https://api.render.com/v1': render.apiUrl },
    prepareWorkspace: (workspace) => {
      pointSqlServerAtPostgres(workspace, schema);
      pointRenderAtStandin(workspace, render.apiUrl);
    },
    notes,
    deltaRoot,
    manifestsDir: path.join(home, 'manifests'),
    recorded: () => recordedBy(render, github),
    schema,
    servers: { gcs, databricks, render, github },
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
      if (!postgres && !options.stateDir)
        await withPostgres((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    },
  };
}

function recordedBy(
  render: CloudStandins['servers']['render'],
  github: CloudStandins['servers']['github'],
): Recorded {
  return {
    renderDeploys: [...render.deploys.values()].map((d) => ({
      id: d.id,
      serviceId: d.serviceId,
      status: d.status,
      trigger: d.trigger,
      commit: d.commit?.id,
    })),
    githubDeployments: [...github.deployments.values()].map((d) => ({
      environment: d.environment,
      sha: d.sha,
      statuses: d.statuses.map((s) => ({ state: s.state, environmentUrl: s.environment_url })),
    })),
  };
}

/** The name of this rehearsal's bucket and schema: the run's, or the state folder's (made once, then kept). */
function stateTag(options: StandinOptions): string {
  if (!options.stateDir) return options.runId.replace(/[^a-z0-9]/gi, '').toLowerCase();
  const file = path.join(options.stateDir, 'tag');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(options.stateDir, { recursive: true });
    fs.writeFileSync(file, `s${crypto.randomBytes(5).toString('hex')}\n`);
  }
  return fs.readFileSync(file, 'utf8').trim();
}

const madeUpSecret = (prefix: string) => `${prefix}${crypto.randomBytes(16).toString('hex')}`;

/** The protocol-level servers, each with the made-up credentials it accepts. */
async function startServers(
  options: StandinOptions,
  place: { bucket: string; schema: string; deltaRoot: string },
) {
  const { bucket, schema, deltaRoot } = place;
  const subject = `repo:${options.repository}:ref:refs/heads/${options.branch}`;
  const home = options.stateDir ?? options.runDir;
  const gcs = await startGcsServer({ buckets: [bucket], dir: path.join(home, 'gcs') });
  const idToken = await startGitHubIdTokenServer({ subject });
  const databricksToken = madeUpSecret('dapi');
  const clientId = crypto.randomUUID();
  const databricks = await startDatabricksServer({
    token: databricksToken,
    warehouses: ['rehearsal-warehouse'],
    runNotebook: notebookRunner({
      openStore: () => openPostgres({ engine: 'postgres', connection: POSTGRES_URL, schema }),
      deltaRoot,
      manifestsDir: path.join(home, 'manifests'),
      notebooksDir: path.join(options.runDir, 'databricks', 'notebooks'),
      runId: options.runId,
      logFile: path.join(options.runDir, 'logs', 'databricks.log'),
    }),
  });
  databricks.federationPolicies.push({ clientId, audience: `${databricks.url}/oidc/v1/token`, subject });
  const [writeToken, readToken] = [madeUpSecret('ghs_'), madeUpSecret('ghs_')];
  const github = await startGitHubServer({
    tokens: [writeToken],
    readOnlyTokens: [readToken],
    repositories: [options.repository],
  });
  const renderKey = madeUpSecret('rnd_');
  const render = await startRenderServer({
    apiKey: renderKey,
    services: [
      {
        id: 'srv-rehearsal',
        name: 'lakehouse-app',
        url: 'https://lakehouse-app.onrender.com',
        outcome: 'live',
      },
    ],
  });
  const tokens = { clientId, databricksToken, writeToken, readToken, renderKey };
  return { gcs, idToken, databricks, github, render, tokens };
}

function overlay(base: Record<string, string>, over: Record<string, string> = {}): Record<string, string> {
  const result = { ...base, ...over };
  for (const [k, v] of Object.entries(result)) if (v === '') delete result[k];
  return result;
}

/** Every profile of the checkout's lakehouse.yml whose SQL target is SQL Server is pointed at PostgreSQL. */
export function pointSqlServerAtPostgres(workspace: string, schema: string): string[] {
  const file = path.join(workspace, 'lakehouse.yml');
  if (!fs.existsSync(file)) return [];
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  const profiles =
    (doc.toJS() as { profiles?: Record<string, { sql?: { engine?: string } }> })?.profiles ?? {};
  const changed = Object.entries(profiles)
    .filter(([, p]) => p.sql?.engine === 'sqlserver')
    .map(([name]) => name);
  for (const name of changed) {
    const sql = doc.getIn(['profiles', name, 'sql']) as { toJSON(): Record<string, unknown> };
    const { connection } = sql.toJSON();
    doc.setIn(['profiles', name, 'sql'], doc.createNode({ engine: 'postgres', connection, schema }));
  }
  if (changed.length) fs.writeFileSync(file, doc.toString());
  return changed;
}

/** Every profile of the checkout's lakehouse.yml sends Render API calls to the stand-in (render.apiUrl). */
export function pointRenderAtStandin(workspace: string, apiUrl: string): void {
  const file = path.join(workspace, 'lakehouse.yml');
  if (!fs.existsSync(file)) return;
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  const profiles = Object.keys((doc.toJS() as { profiles?: Record<string, unknown> })?.profiles ?? {});
  for (const name of profiles) doc.setIn(['profiles', name, 'render', 'apiUrl'], apiUrl);
  if (profiles.length) fs.writeFileSync(file, doc.toString());
}

async function withPostgres<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(POSTGRES_URL);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
