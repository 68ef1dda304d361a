// app/ holds the dashboard (see README.md): this service entry, the server and cache, the data layer, the JSON API
// (api/), the table sources (sources/) and the browser side (web/).
//
// The app as a service (Render runs `node --import tsx app/main.ts`): configuration from the environment,
// graceful shutdown on SIGTERM and SIGINT.
//
//   LAKEHOUSE_SOURCE            local (default) or databricks
//   PORT, HOST                  where to listen (default 3000 on 0.0.0.0)
//   LAKEHOUSE_DELTA_ROOT        local: the Delta tables folder (default .lakehouse/delta)
//   LAKEHOUSE_MANIFESTS_DIR     the run manifests folder, for "last pipeline run" (default .lakehouse/manifests)
//   DATABRICKS_HOST, DATABRICKS_HTTP_PATH, DATABRICKS_TOKEN   databricks: the SQL warehouse
//   DATABRICKS_CATALOG, DATABRICKS_SCHEMA                     databricks: optional initial catalog and schema
//   DATABRICKS_QUERY_TIMEOUT_MS  databricks: per query (default 30000)
//   DATABRICKS_CHECK_SERVER_CERTIFICATE  databricks: false accepts any certificate (a local test warehouse only)
//   LAKEHOUSE_CACHE_TTL_SECONDS  how long a query result is reused (default 300)
//   LAKEHOUSE_VERSION_CHECK_SECONDS  how often to look for new table versions (default 5 local, 60 databricks)
//   LAKEHOUSE_CONFIG            the lakehouse.yml whose app.freshness says when the data is old (default
//                               ./lakehouse.yml when there is one: the repository Render deploys has it)
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config/load.ts';
import { warehouseConfigFromEnv } from '../src/databricks/sql.ts';
import type { FreshnessThresholds } from './runs.ts';
import type { DataSource } from './source.ts';
import { databricksSource, freshnessThresholds, localSource, startApp } from './server.ts';

type Env = Record<string, string | undefined>;

function positive(env: Env, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`${name}: expected a number ≥ 0, found ${JSON.stringify(raw)}`);
  return n;
}

export async function sourceFromEnv(env: Env): Promise<DataSource> {
  const kind = env.LAKEHOUSE_SOURCE?.trim() || 'local';
  const manifestsDir = env.LAKEHOUSE_MANIFESTS_DIR?.trim() || '.lakehouse/manifests';
  if (kind === 'local') {
    return localSource({ deltaRoot: env.LAKEHOUSE_DELTA_ROOT?.trim() || '.lakehouse/delta', manifestsDir });
  }
  if (kind === 'databricks') {
    const config = warehouseConfigFromEnv(env);
    // A host may carry a port (host:port), as a test warehouse does.
    const hostPort = /^(?:https?:\/\/)?([^/:]+):(\d+)\/?$/.exec(config.host);
    return databricksSource({
      ...config,
      ...(hostPort ? { host: hostPort[1] as string, port: Number(hostPort[2]) } : {}),
      catalog: env.DATABRICKS_CATALOG?.trim() || undefined,
      schema: env.DATABRICKS_SCHEMA?.trim() || undefined,
      queryTimeoutMs: positive(env, 'DATABRICKS_QUERY_TIMEOUT_MS'),
      checkServerCertificate: env.DATABRICKS_CHECK_SERVER_CERTIFICATE?.trim().toLowerCase() !== 'false',
      manifestsDir: env.LAKEHOUSE_MANIFESTS_DIR?.trim() || undefined,
    });
  }
  throw new Error(`LAKEHOUSE_SOURCE: expected local or databricks, found ${JSON.stringify(kind)}`);
}

/** app.freshness of lakehouse.yml; no secret is resolved (the app needs none of its profile). */
export function freshnessFromEnv(env: Env): FreshnessThresholds | undefined {
  const file = env.LAKEHOUSE_CONFIG?.trim() || 'lakehouse.yml';
  if (!env.LAKEHOUSE_CONFIG?.trim() && !fs.existsSync(file)) return undefined;
  return freshnessThresholds(loadConfig(file, undefined, { resolve: [] }).config.app.freshness);
}

async function main(env: Env): Promise<void> {
  const port = positive(env, 'PORT') ?? 3000;
  const ttl = positive(env, 'LAKEHOUSE_CACHE_TTL_SECONDS');
  const check = positive(env, 'LAKEHOUSE_VERSION_CHECK_SECONDS');
  const app = await startApp({
    source: await sourceFromEnv(env),
    port,
    host: env.HOST?.trim() || '0.0.0.0',
    cacheTtlMs: ttl === undefined ? undefined : ttl * 1000,
    versionCheckMs: check === undefined ? undefined : check * 1000,
    freshness: freshnessFromEnv(env),
  });
  console.log(`app: serving ${app.datasets.source.kind} data at ${app.url}`);
  const stop = (signal: string) => {
    console.log(`app: ${signal}: finishing requests in flight, then closing`);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`app: error while closing: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.env).catch((error: unknown) => {
    console.error(`app: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
