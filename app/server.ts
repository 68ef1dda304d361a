// The web app: the JSON API (api/), /healthz, and the front end (web/, bundled at start). Reads through one
// DataSource: local Delta tables (localSource) or a Databricks SQL warehouse (databricksSource).
//
//   const app = await startApp({ source: await localSource({ deltaRoot, manifestsDir }), port: 3000 });
//   console.log(app.url); ... await app.close();
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Hono } from 'hono';
import { compress } from 'hono/compress';
import { serve } from '@hono/node-server';
import { apiRoutes } from './api/index.ts';
import { assetRoutes, buildAssets } from './assets.ts';
import type { Assets } from './assets.ts';
import { Datasets } from './data.ts';
import type { DatasetsOptions } from './data.ts';
import { durationSeconds } from '../src/config/schema.ts';
import type { AppSettings } from '../src/config/schema.ts';
import type { FreshnessThresholds } from './runs.ts';
import type { DataSource } from './source.ts';
import { redact } from '../src/util/secrets.ts';

import { localSource } from './sources/local.ts';

export { localSource } from './sources/local.ts';
export type { LocalSourceOptions } from './sources/local.ts';
export { databricksSource } from './sources/databricks.ts';
export type { DataSource } from './source.ts';

export interface StartAppOptions extends DatasetsOptions {
  source: DataSource;
  /** 0 picks a free port. */
  port: number;
  /** Defaults to 127.0.0.1; 0.0.0.0 on a server (Render). */
  host?: string;
  /** Requests still running at close are given this long before their connections are cut (default 10 s). */
  shutdownGraceMs?: number;
}

export interface RunningApp {
  url: string;
  port: number;
  datasets: Datasets;
  /** Stops accepting connections, lets requests in flight finish, then closes the source. */
  close(): Promise<void>;
}

const securityHeaders = {
  // Scripts only from this origin; ECharts sets inline styles, so styles allow them.
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export function createApp(datasets: Datasets, assets: Assets): Hono {
  const app = new Hono();
  // The script bundle is 600 kB; gzip makes it a third.
  app.use('*', compress());
  app.use('*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(securityHeaders)) c.header(name, value);
  });
  // A source that fails (out of reach, or refusing the app's credentials) makes the service degraded: 503, with
  // the reason, so that a health check sees it.
  app.get('/healthz', async (c) => {
    await datasets.versions().catch(() => undefined);
    const health = { ...datasets.health() };
    health.lastError = health.lastError === null ? null : redact(health.lastError);
    if (health.reachable) return c.json({ status: 'ok', ...health });
    return c.json(
      { status: 'degraded', reason: `the ${health.source} source fails: ${health.lastError}`, ...health },
      503,
    );
  });
  app.route('/api', apiRoutes(datasets));
  app.route('/', assetRoutes(assets));
  app.notFound((c) => c.text('not found', 404));
  return app;
}

export async function startApp(options: StartAppOptions): Promise<RunningApp> {
  const datasets = new Datasets(options.source, options);
  const app = createApp(datasets, await buildAssets());
  const host = options.host ?? '127.0.0.1';
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: host }, (info: AddressInfo) =>
      resolve({ server: s as Server, port: info.port }),
    ) as Server;
    s.once('error', reject);
  });
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${port}`,
    port,
    datasets,
    close: () => (closing ??= shutdown(server, options.source, options.shutdownGraceMs ?? 10_000)),
  };
}

async function shutdown(server: Server, source: DataSource, graceMs: number): Promise<void> {
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections with no request in flight would hold close() open: end them now.
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  timer.unref();
  await stopped;
  clearTimeout(timer);
  await source.close();
}

export interface ServeAppOptions {
  /** The folder of the Delta tables (profiles.<p>.delta). */
  deltaRoot: string;
  /** The folder of the run manifests (profiles.<p>.manifests). */
  manifestsDir?: string;
  /** Default 3000 (app.port in lakehouse.yml). */
  port?: number;
  /** Default localhost, so that the printed URL is http://localhost:3000. */
  host?: string;
  /** app.freshness in lakehouse.yml: when the overview warns that the data is old. */
  freshness?: AppSettings['freshness'];
}

/** lakehouse.yml's `app.freshness` (`36h`, `3d` …) in seconds. */
export function freshnessThresholds(freshness: AppSettings['freshness']): FreshnessThresholds {
  return {
    warnAfterSeconds: durationSeconds(freshness.warnAfter),
    errorAfterSeconds: durationSeconds(freshness.errorAfter),
  };
}

/** What `npm start` ends with: the app on the local Delta tables the pipeline just wrote. */
export async function serveApp(options: ServeAppOptions): Promise<RunningApp> {
  const source = await localSource({ deltaRoot: options.deltaRoot, manifestsDir: options.manifestsDir });
  try {
    return await startApp({
      source,
      port: options.port ?? 3000,
      host: options.host ?? 'localhost',
      freshness: options.freshness && freshnessThresholds(options.freshness),
    });
  } catch (error) {
    await source.close();
    throw error;
  }
}
