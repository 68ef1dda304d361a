// `lakehouse deploy`: the real command, in its own process, against the fake Render API, configured by a profile's
// render section whose secrets come from the environment.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lakehouse, tempProject } from '../helpers/cli.ts';
import { startRenderServer, type RenderServer } from '../../src/standins/render/server.ts';

const LIVE = 'srv-d0clilivevvvvvvvvvvv';
const FAILING = 'srv-d0clifailingggggggg';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

describe('lakehouse deploy', () => {
  let render: RenderServer;
  let dir: string;
  let config: string;
  beforeAll(async () => {
    render = await startRenderServer({
      services: [
        { id: LIVE, url: 'https://lakehouse-app.onrender.com' },
        { id: FAILING, outcome: 'build_failed' },
      ],
    });
    ({ dir, config } = await tempProject(100));
    const profile = (name: string, render: string) =>
      `  ${name}:\n    bucket: file://.lakehouse/bucket\n    sql: { engine: pglite, path: .lakehouse/pglite }\n    render: ${render}\n`;
    const text = fs
      .readFileSync(config, 'utf8')
      .replace(
        /\nprofiles:\n/,
        '\nprofiles:\n' +
          profile(
            'live',
            `{ serviceId: ${LIVE}, apiKey: '\${env:TEST_RENDER_KEY}', apiUrl: '${render.apiUrl}' }`,
          ) +
          profile(
            'failing',
            `{ serviceId: ${FAILING}, apiKey: '\${env:TEST_RENDER_KEY}', apiUrl: '${render.apiUrl}' }`,
          ) +
          profile('hook', `{ deployHookUrl: '\${env:TEST_RENDER_HOOK}' }`),
      );
    await fsp.writeFile(config, text);
  });
  afterAll(async () => {
    await render.close();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  const deploy = (profile: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
    lakehouse(['deploy', '-c', config, '-p', profile, '--poll-seconds', '0.01', ...args], {
      TEST_RENDER_KEY: render.apiKey,
      ...env,
    });

  it('deploys the commit and follows it until it is live, never printing the key', async () => {
    const result = await deploy('live', ['--commit', COMMIT]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`deploy: the app to Render service ${LIVE} (commit ${COMMIT})`);
    expect(result.stdout).toContain('deploy: live at https://lakehouse-app.onrender.com');
    const trigger = render.requests.find(
      (r) => r.method === 'POST' && r.path === `/v1/services/${LIVE}/deploys`,
    )!;
    expect(trigger.body).toEqual({ clearCache: 'do_not_clear', commitId: COMMIT });
    expect(result.stdout).not.toContain(render.apiKey);
  });

  it('fails with the Render status and exit 1 when the build fails', async () => {
    const result = await deploy('failing');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`Render deploy dep-\\d+ of ${FAILING} ended build_failed \\(the build command failed`),
    );
  });

  it('a dry run sends nothing and needs no key', async () => {
    const before = render.requests.length;
    const result = await deploy('live', ['--dry-run'], { TEST_RENDER_KEY: '' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `deploy: the app to Render service ${LIVE} (latest commit of its branch) (dry run: nothing sent)`,
    );
    expect(render.requests.length).toBe(before);
  });

  it('deploys through the hook, whose URL is never printed', async () => {
    const hook = render.hookUrl(LIVE);
    const result = await deploy('hook', [], { TEST_RENDER_HOOK: hook });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('started by the deploy hook');
    expect(`${result.stdout}${result.stderr}`).not.toContain(new URL(hook).searchParams.get('key')!);
  });

  it('says what is missing: the render section, or its key', async () => {
    const none = await deploy('local');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(
      'profiles.local.render: expected serviceId (with apiKey) or deployHookUrl to deploy the app to Render, found no render section',
    );
    const unset = await deploy('live', [], { TEST_RENDER_KEY: '' });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain(
      'profiles.live.render.apiKey: environment variable TEST_RENDER_KEY is not set (expected by ${env:TEST_RENDER_KEY})',
    );
  });
});
