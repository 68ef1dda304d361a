// The front end: TypeScript (web/main.ts) and CSS (web/styles/index.css), bundled with esbuild when the server
// starts (no build step, no committed bundle to keep in step, ECharts from node_modules rather than a CDN), and
// the routes that serve them.
//
// Caching: each bundle's name carries a hash of its content (/assets/app.<hash>.js), so a browser may keep it a
// year without asking again (`immutable`): a new build is a new name, and the page names the new one. The page
// itself is `no-cache`: always revalidated, which costs a 304 when nothing changed. Everything has an ETag.
import crypto from 'node:crypto';
import path from 'node:path';
import fsp from 'node:fs/promises';
import { build } from 'esbuild';
import { Hono } from 'hono';
import type { Context } from 'hono';

export interface Asset {
  /** Where it is served. */
  route: string;
  type: string;
  body: string;
  /** A strong ETag (compression makes it weak, as the gzipped body differs). */
  etag: string;
  cacheControl: string;
}

export interface Assets {
  page: Asset;
  bundles: Asset[];
}

const webDir = path.join(import.meta.dirname, 'web');
const IMMUTABLE = 'public, max-age=31536000, immutable';

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

function hashOf(body: string): string {
  return crypto.createHash('sha256').update(body).digest('base64url').slice(0, 16);
}

function fingerprinted(name: string, extension: string, type: string, body: string): Asset {
  const hash = hashOf(body);
  return {
    route: `/assets/${name}.${hash}.${extension}`,
    type,
    body,
    etag: `"${hash}"`,
    cacheControl: IMMUTABLE,
  };
}

export async function buildAssets(): Promise<Assets> {
  const [js, css, html] = await Promise.all([
    bundle('main.ts', { minify: true }),
    bundle('styles/index.css', { minify: false }),
    fsp.readFile(path.join(webDir, 'index.html'), 'utf8'),
  ]);
  const script = fingerprinted('app', 'js', 'text/javascript; charset=utf-8', js);
  const styles = fingerprinted('app', 'css', 'text/css; charset=utf-8', css);
  const page = html.replace('/assets/app.js', script.route).replace('/assets/app.css', styles.route);
  return {
    page: {
      route: '/',
      type: 'text/html; charset=utf-8',
      body: page,
      etag: `"${hashOf(page)}"`,
      cacheControl: 'no-cache',
    },
    bundles: [script, styles],
  };
}

/** If-None-Match holds `etag`, compared weakly (W/"x" matches "x"), or is `*`. */
function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

function serve(c: Context, asset: Asset): Response {
  c.header('ETag', asset.etag);
  c.header('Cache-Control', asset.cacheControl);
  if (notModified(c.req.header('If-None-Match'), asset.etag)) return c.body(null, 304);
  c.header('Content-Type', asset.type);
  return c.body(asset.body);
}

/** The page at / and the fingerprinted bundles under /assets/. */
export function assetRoutes(assets: Assets): Hono {
  const web = new Hono();
  for (const asset of [assets.page, ...assets.bundles]) web.get(asset.route, (c) => serve(c, asset));
  return web;
}
