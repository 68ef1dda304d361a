#!/usr/bin/env node
// Bundles every actions/<name>/index.ts (the entry, which calls main.ts's run()) into actions/<name>/dist/index.js
// (one ES module with its dependencies), because a JavaScript action runs from the repository as checked out,
// without `npm ci`.
//
//   node scripts/build-actions.mjs          build into actions/*/dist/
//   node scripts/build-actions.mjs --check  build into a temporary folder and fail if any dist/ differs
import os from 'node:os';
import { build } from 'esbuild';
import { argv, chalk, fs, glob, path } from 'zx';

const root = path.resolve(import.meta.dirname, '..');
const check = argv.check === true;

// A bundled ES module has no `require`, `__dirname` or `__filename`; some CommonJS dependencies still use them (for
// Node built-ins; the Databricks SQL driver's modules read __dirname when loaded).
const banner = [
  "import { createRequire as __lakehouseCreateRequire } from 'node:module';",
  "import { fileURLToPath as __lakehouseFileURLToPath } from 'node:url';",
  'const require = __lakehouseCreateRequire(import.meta.url);',
  'const __filename = __lakehouseFileURLToPath(import.meta.url);',
  "const __dirname = __lakehouseFileURLToPath(new URL('.', import.meta.url));",
].join('\n');

async function bundle(entry, outDir) {
  await fs.mkdirp(outDir);
  await build({
    entryPoints: [entry],
    outfile: path.join(outDir, 'index.js'),
    bundle: true,
    platform: 'node',
    // The runner uses node24; node20 keeps the bundle runnable on the Node the project develops with.
    target: 'node20',
    format: 'esm',
    banner: { js: banner },
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'eof',
    charset: 'utf8',
    logLevel: 'warning',
    // A git worktree may link node_modules to the main checkout's; paths in the bundle stay node_modules/….
    preserveSymlinks: true,
    // The Databricks SQL driver (the databricks action reads table versions through it) loads native add-ons only
    // when asked: lz4-napi inside a try (without it the driver asks for no LZ4 compression), its Rust kernel only as
    // an opt-in backend. A bundle cannot hold .node files, so they stay outside and the driver's Thrift path is used.
    external: ['lz4-napi', '@databricks/databricks-sql-kernel-*', '*.node'],
  });
  // The bundle is an ES module whatever the package.json above it says.
  await fs.writeFile(path.join(outDir, 'package.json'), '{ "type": "module" }\n');
}

async function filesUnder(dir) {
  if (!(await fs.pathExists(dir))) return [];
  return (await glob('**/*', { cwd: dir, onlyFiles: true, dot: true })).sort();
}

async function differences(expectedDir, actualDir) {
  const expected = await filesUnder(expectedDir);
  const actual = await filesUnder(actualDir);
  const problems = [];
  for (const file of expected)
    if (!actual.includes(file)) problems.push(`missing ${file}`);
    else if (
      !(await fs.readFile(path.join(expectedDir, file))).equals(await fs.readFile(path.join(actualDir, file)))
    )
      problems.push(`differs: ${file}`);
  for (const file of actual) if (!expected.includes(file)) problems.push(`not built from source: ${file}`);
  return problems;
}

const entries = (await glob('actions/*/index.ts', { cwd: root })).sort();
if (entries.length === 0) {
  console.error(chalk.red('no actions/*/index.ts found'));
  process.exit(1);
}

const scratch = check ? await fs.mkdtemp(path.join(os.tmpdir(), 'check-dist-')) : undefined;
let stale = 0;
try {
  for (const entry of entries) {
    const action = path.dirname(entry);
    const dist = path.join(root, action, 'dist');
    if (!check) {
      await fs.remove(dist);
      await bundle(path.join(root, entry), dist);
      const size = (await fs.stat(path.join(dist, 'index.js'))).size;
      console.log(`${action}/dist/index.js  ${(size / 1024).toFixed(0)} KiB`);
      continue;
    }
    const fresh = path.join(scratch, action);
    await bundle(path.join(root, entry), fresh);
    const problems = await differences(fresh, dist);
    if (problems.length === 0) console.log(chalk.green(`${action}/dist matches its source`));
    else {
      stale++;
      console.error(chalk.red(`${action}/dist does not match its source:`));
      for (const p of problems) console.error(`  ${p}`);
    }
  }
} finally {
  if (scratch) await fs.remove(scratch);
}
if (stale > 0) {
  console.error(
    chalk.red(`\n${stale} action(s) out of date: run \`npm run build:actions\` and commit dist/.`),
  );
  process.exit(1);
}
