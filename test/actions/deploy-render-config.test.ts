// The deploy-render action reads the profile's render section of lakehouse.yml, as `lakehouse deploy` does: run
// in-process (its run(), as `npx @github/local-action` runs it) against the fake Render API, with the key given as
// an input that fills the profile's ${env:…} reference, and never shown.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../actions/deploy-render/main.ts';
import { startRenderServer, type RenderServer } from '../../src/standins/render/server.ts';
import { runInProcess } from './in-process.ts';

const SERVICE = 'srv-d0configservicevvvv';
const KEY = 'rnd_configKeyNeverShown77';

let render: RenderServer;
let dir: string;
let config: string;

beforeAll(async () => {
  render = await startRenderServer({
    apiKey: KEY,
    services: [{ id: SERVICE, url: 'https://config-app.onrender.com' }],
  });
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'deploy-render-config-'));
  config = path.join(dir, 'lakehouse.yml');
  await fsp.writeFile(
    config,
    `project: p
datasets:
  - name: d
    source: { path: data }
    format: csv
    columns: [{ name: id, type: integer }]
    load: { mode: append }
profiles:
  prod:
    bucket: file://bucket
    sql: { engine: pglite, path: db }
    render: { serviceId: ${SERVICE}, apiKey: '\${env:DEPLOY_RENDER_CONFIG_KEY}', apiUrl: '${render.apiUrl}' }
`,
  );
});
afterAll(async () => {
  await render.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('the deploy-render action with lakehouse.yml', () => {
  it("deploys the profile's service, its key given as the api-key input", async () => {
    const result = await runInProcess(
      run,
      dir,
      {
        config,
        profile: 'prod',
        'api-key': KEY,
        'create-github-deployment': 'false',
        'poll-seconds': '0.01',
      },
      { GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567' },
    );
    expect(result.stdout).not.toContain('::error::');
    expect(result.failed).toBe(false);
    expect(result.outputs).toMatchObject({ status: 'live', url: 'https://config-app.onrender.com' });
    expect(render.deploys.get(result.outputs['deploy-id']!)!.trigger).toBe('api');
    expect(result.summary).toContain(`<tr><td>Service</td><td>${SERVICE}</td></tr>`);
    const shown = result.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'));
    expect([...shown, result.summary].join('\n')).not.toContain(KEY);
  });

  it('says which variable is missing when neither the input nor the environment gives the key', async () => {
    // The first run's input filled the variable (as a runner's fresh process would not have it).
    delete process.env.DEPLOY_RENDER_CONFIG_KEY;
    const result = await runInProcess(run, dir, {
      config,
      profile: 'prod',
      'create-github-deployment': 'false',
    });
    expect(result.failed).toBe(true);
    expect(result.stdout).toContain(
      '::error::deploy-render failed: lakehouse.yml:12: profiles.prod.render.apiKey: environment variable DEPLOY_RENDER_CONFIG_KEY is not set (expected by ${env:DEPLOY_RENDER_CONFIG_KEY})',
    );
  });
});
