// The operator's view of mistakes, with the exact messages: every config mistake at once; a preflight that refuses,
// before anything runs or is written, what the stages would fail on later; --version; the global options in every
// sub-command's help. None of these runs a stage.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lakehouse, tempProject } from '../helpers/cli.ts';
import { repoRoot } from '../helpers/services.ts';

const folders: string[] = [];
afterEach(async () => {
  for (const dir of folders.splice(0)) await fsp.rm(dir, { recursive: true, force: true });
});

async function project(edit: (text: string) => string = (t) => t) {
  const made = await tempProject(500);
  folders.push(made.dir);
  fs.writeFileSync(made.config, edit(fs.readFileSync(made.config, 'utf8')));
  return made;
}

/** The 1-based line of the config that contains `needle`. */
function lineOf(config: string, needle: string): number {
  return (
    fs
      .readFileSync(config, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes(needle)) + 1
  );
}

describe('lakehouse --version and help', () => {
  it('prints the version from package.json', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    const result = await lakehouse(['--version']);
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('shows in each sub-command’s help the global options it takes', async () => {
    const cases: [string[], string[]][] = [
      [['ingest'], ['config', 'profile', 'dry-run', 'dataset']],
      [['run'], ['config', 'profile', 'dry-run', 'dataset']],
      [['transform'], ['config', 'profile', 'dry-run']],
      [['status'], ['config', 'profile', 'dataset']],
      [
        ['table', 'show'],
        ['config', 'profile', 'format'],
      ],
      [
        ['table', 'vacuum'],
        ['config', 'profile', 'dry-run'],
      ],
    ];
    const helps = await Promise.all(cases.map(([command]) => lakehouse([...command, '--help'])));
    cases.forEach(([command, options], i) => {
      expect(helps[i]!.code, command.join(' ')).toBe(0);
      const shown = [...helps[i]!.stdout.matchAll(/^ {2}(?:-\w, )?--([a-z-]+)/gm)].map((m) => m[1]);
      expect(shown, command.join(' ')).toEqual(expect.arrayContaining(options));
    });
  });

  it('takes the global options before or after the sub-command', async () => {
    const { config } = await project((t) => t.replace('engine: pglite', 'engine: oracle'));
    const before = await lakehouse(['-c', config, 'status']);
    const after = await lakehouse(['status', '--config', config]);
    expect(before.code).toBe(1);
    expect(after).toEqual(before);
  });
});

describe('config mistakes', () => {
  it('are all reported at once, one line each in the order of the file, then their count', async () => {
    const { dir, config } = await project((text) =>
      text
        .replace('type: integer', 'type: int')
        .replace('port: 3000', 'port: three thousand')
        .replace('bucket: file://.lakehouse/bucket', 'bucket: file://../elsewhere')
        .replace(
          'connection: ${env:SQLSERVER_CONNECTION_STRING}',
          "connection: 'postgres://:pw@db.example/app?user=x'",
        ),
    );
    const result = await lakehouse(['-c', config, 'run']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        `lakehouse: lakehouse.yml:${lineOf(config, 'type: int,')}: datasets[0].columns[0].type: expected one of string, integer, double, boolean, date, timestamp or decimal(precision,scale), found "int"`,
        `lakehouse: lakehouse.yml:${lineOf(config, 'port: three')}: app.port: expected number, found "three thousand"`,
        `lakehouse: lakehouse.yml:${lineOf(config, 'file://../elsewhere')}: profiles.local.bucket: expected a folder inside the project (${dir}), found "file://../elsewhere", which is ${path.resolve(dir, '../elsewhere')} (set allowOutsideProject: true on the profile to write there)`,
        `lakehouse: lakehouse.yml:${lineOf(config, 'postgres://:pw')}: profiles.gcp.sql.connection: expected a reference to an environment variable like \${env:NAME}, found a literal secret (secrets must come from the environment)`,
        'lakehouse: 4 mistakes in lakehouse.yml',
        '',
      ].join('\n'),
    );
    expect(fs.readdirSync(dir)).toEqual(['lakehouse.yml']);
  });

  it('let a profile write outside the project when it says so', async () => {
    const { config } = await project((text) =>
      text.replace(
        'bucket: file://.lakehouse/bucket',
        'allowOutsideProject: true\n    bucket: file://../elsewhere',
      ),
    );
    const result = await lakehouse(['-c', config, '--dry-run', 'run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('ingest: 0 files, 0 B → file://../elsewhere (dry run)');
  });
});

describe('the preflight', () => {
  it('refuses a parameter that does not fit the type its notebook casts it to, before anything is written', async () => {
    const { dir, config } = await project((t) =>
      t
        .replace('min_support: 0.001', 'min_support: lots')
        .replace('min_threshold: 0.8', 'min_threshold: true'),
    );
    const notebook = path.relative(repoRoot, path.join(repoRoot, 'notebooks/04_basket_rules.sql'));
    const rules = fs.readFileSync(path.join(repoRoot, 'notebooks/04_basket_rules.sql'), 'utf8').split('\n');
    const line = (needle: string) => rules.findIndex((l) => l.includes(needle)) + 1;
    for (const args of [['run'], ['--dry-run', 'run'], ['transform']]) {
      const result = await lakehouse(['-c', config, ...args]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        [
          `lakehouse: preflight: ${notebook} (line ${line('CAST(:min_support AS DOUBLE)')}): parameter :min_support: expected a number (the notebook reads it as CAST(:min_support AS DOUBLE)), found "lots"`,
          `lakehouse: preflight: ${notebook} (line ${line('CAST(:min_threshold AS DOUBLE)')}): parameter :min_threshold: expected a number (the notebook reads it as CAST(:min_threshold AS DOUBLE)), found boolean true`,
          'lakehouse: 2 problems found before anything ran',
          '',
        ].join('\n'),
      );
    }
    // Nothing was generated, uploaded or loaded.
    expect(fs.readdirSync(dir)).toEqual(['lakehouse.yml']);
    const fixed = await lakehouse([
      '-c',
      config,
      '--dry-run',
      'transform',
      '--param',
      'min_support=0.01',
      '--param',
      'min_threshold=1',
    ]);
    expect(fixed.stderr).toBe('');
  });

  it('names a notebook that is missing, one that does not parse, and a parameter that has no value', async () => {
    const { dir, config } = await project();
    fs.writeFileSync(
      path.join(dir, 'top.sql'),
      '-- Databricks notebook source\nSELECT * FROM gold.t LIMIT CAST(:top AS INT)\n',
    );
    fs.writeFileSync(path.join(dir, 'broken.sql'), 'SELECT 1\n');
    const result = await lakehouse([
      '-c',
      config,
      'transform',
      '--notebook',
      'missing.sql',
      '--notebook',
      'broken.sql',
      '--notebook',
      'top.sql',
    ]);
    const shown = (file: string) => path.relative(repoRoot, path.join(dir, file));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      [
        `lakehouse: preflight: ${path.join(dir, 'missing.sql')}: cannot read the notebook (ENOENT: no such file or directory, open '${path.join(dir, 'missing.sql')}')`,
        `lakehouse: preflight: ${shown('broken.sql')} (line 1): expected the first line to be '-- Databricks notebook source' (a Databricks SQL notebook in SOURCE format), found 'SELECT 1'`,
        `lakehouse: preflight: ${shown('top.sql')} (line 2): parameter :top has no value (parameters given: dataset, full_refresh, min_support, max_len, metric, min_threshold, confidence_above; set it under transform.parameters or with --param top=…)`,
        'lakehouse: 3 problems found before anything ran',
        '',
      ].join('\n'),
    );
    const given = await lakehouse([
      '-c',
      config,
      '--dry-run',
      'transform',
      '--notebook',
      'top.sql',
      '--param',
      'top=ten',
    ]);
    expect(given.stderr).toBe(
      `lakehouse: preflight: ${shown('top.sql')} (line 2): parameter :top: expected a whole number from -2147483648 to 2147483647 (the notebook reads it as CAST(:top AS INT)), found "ten"\n`,
    );
  });

  it('fails a dry run on a missing source folder as the real run does, naming the dataset and the folder', async () => {
    const { dir, config } = await project((t) =>
      t.replace('path: data/sample', 'path: data/incoming').replace(/\n\s+sample: \{[^}]*\}/, ''),
    );
    const message = `lakehouse: preflight: dataset transactions: source path ${path.join(dir, 'data/incoming')}: expected a folder, found nothing\n`;
    const dry = await lakehouse(['-c', config, '--dry-run', 'run']);
    const real = await lakehouse(['-c', config, 'run']);
    expect([dry.code, dry.stderr]).toEqual([1, message]);
    expect([real.code, real.stderr]).toEqual([1, message]);
    expect((await lakehouse(['-c', config, 'ingest'])).stderr).toBe(message);
    expect(fs.readdirSync(dir)).toEqual(['lakehouse.yml']);
  });
});
