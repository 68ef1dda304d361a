// `npm run bench -- --smoke`: every benchmark at a tiny size, to catch a benchmark that no longer runs (times
// are not checked here: speed targets are the benchmarks' own business). The reports in bench/results stay
// as they were; the smoke report goes to the temporary folder.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { needsMariaDB, needsPostgres, repoRoot } from '../helpers/services.ts';

const servers = (await needsPostgres()) && (await needsMariaDB());
// Where Java and the built Spark module are present, the rules bench must also run MLlib's FPGrowth (else it says why not).
const sparkBuilt =
  fs.existsSync(path.join(repoRoot, 'spark/target/lib')) &&
  fs.readdirSync(path.join(repoRoot, 'spark/target/lib')).some((f) => f.startsWith('spark-mllib_')) &&
  spawnSync(process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin/java') : 'java', ['-version'])
    .status === 0;

describe('npm run bench -- --smoke', () => {
  it('runs every benchmark at a tiny size and leaves bench/results as it was', async (ctx) => {
    if (!servers) return ctx.skip();
    const results = path.join(repoRoot, 'bench/results');
    const before = fs.readdirSync(results).map((f) => [f, fs.readFileSync(path.join(results, f), 'utf8')]);
    const run = spawnSync('node', ['bench/all.mjs', '--smoke'], { cwd: repoRoot, encoding: 'utf8' });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const report = fs.readFileSync(path.join(os.tmpdir(), 'lakehouse-bench-smoke.md'), 'utf8');
    for (const name of ['load 2000', 'delta', 'ingest', 'run', 'rules', 'status', 'app'])
      expect(report).toMatch(`| ${name} |`);
    expect(report).not.toMatch('failed (exit');
    expect(run.stderr).toMatch(
      sparkBuilt
        ? /MLlib FPGrowth \(Spark [\d.]+, local\[\*\]\) .* same itemsets: true/
        : /MLlib FPGrowth skipped: /,
    );
    expect(report).toMatch(/PostgreSQL 15, 2,000 rows: [\d,]+ rows\/s against psql/);
    const after = fs.readdirSync(results).map((f) => [f, fs.readFileSync(path.join(results, f), 'utf8')]);
    expect(after).toEqual(before);
  }, 900_000);
});
