// The front end is TypeScript (app/web/), bundled with esbuild when the server starts: no build step, no
// committed bundle to keep in step, and ECharts comes from node_modules (no CDN).
import path from 'node:path';
import fsp from 'node:fs/promises';
import { build } from 'esbuild';

export interface Assets {
  'app.js': string;
  'app.css': string;
  'index.html': string;
}

export const webDir = path.join(import.meta.dirname, 'web');

export async function buildAssets(): Promise<Assets> {
  const [result, css, html] = await Promise.all([
    build({
      entryPoints: [path.join(webDir, 'main.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      target: 'es2022',
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
    }),
    fsp.readFile(path.join(webDir, 'styles.css'), 'utf8'),
    fsp.readFile(path.join(webDir, 'index.html'), 'utf8'),
  ]);
  const js = result.outputFiles[0];
  if (!js) throw new Error(`esbuild produced no output for ${path.join(webDir, 'main.ts')}`);
  return { 'app.js': js.text, 'app.css': css, 'index.html': html };
}
