// The front end: TypeScript (web/main.ts) and CSS (web/styles/index.css), bundled with esbuild when the server
// starts (no build step, no committed bundle to keep in step, ECharts from node_modules rather than a CDN), and
// the routes that serve the page and the two bundles with their content types and caching headers.
import path from 'node:path';
import fsp from 'node:fs/promises';
import { build } from 'esbuild';
import { Hono } from 'hono';

export interface Assets {
  'app.js': string;
  'app.css': string;
  'index.html': string;
}

const webDir = path.join(import.meta.dirname, 'web');

async function bundle(entry: string, options: { minify: boolean }): Promise<string> {
  const result = await build({
    entryPoints: [path.join(webDir, entry)],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    minify: options.minify,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for ${path.join(webDir, entry)}`);
  return output.text;
}

export async function buildAssets(): Promise<Assets> {
  const [js, css, html] = await Promise.all([
    bundle('main.ts', { minify: true }),
    bundle('styles/index.css', { minify: false }),
    fsp.readFile(path.join(webDir, 'index.html'), 'utf8'),
  ]);
  return { 'app.js': js, 'app.css': css, 'index.html': html };
}

const bundles = [
  { path: '/assets/app.js', asset: 'app.js', type: 'text/javascript; charset=utf-8' },
  { path: '/assets/app.css', asset: 'app.css', type: 'text/css; charset=utf-8' },
] as const;

/** The page at / and the bundles under /assets/. */
export function assetRoutes(assets: Assets): Hono {
  const web = new Hono();
  web.get('/', (c) => c.html(assets['index.html']));
  for (const { path: route, asset, type } of bundles) {
    web.get(route, (c) => {
      c.header('Content-Type', type);
      // The bundles are rebuilt at every start under the same names: the browser asks again each time.
      c.header('Cache-Control', 'no-cache');
      return c.body(assets[asset]);
    });
  }
  return web;
}
