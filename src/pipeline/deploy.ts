// Deploy, run once for `lakehouse deploy` and the deploy-render action: the app to a Render service (REST API or
// deploy hook), followed until it is live (src/stages/deploy.ts). The plan comes from the profile's render section,
// which an action's inputs may override; a deploy that does not go live is a failed verdict with what is known.
import { ConfigError, type ResolvedConfig } from '../config/load.ts';
import { deployRender, DeployError, type DeployOptions, type DeployResult } from '../stages/deploy.ts';
import { abortOnSignals } from '../util/signals.ts';
import type { RunContext } from './context.ts';
import { failure, note, ok, table, type ReportBlock, type StageOutcome, type Verdict } from './report.ts';

/** What to deploy and how: the deploy stage's options, less what the run supplies (its logger, its signal). */
export type DeployPlan = Omit<DeployOptions, 'log' | 'signal'>;

export interface DeployRequest {
  /** The commit Render builds (API mode); default: the latest commit of the service's branch. */
  commit?: string;
  clearCache?: boolean;
  wait: boolean;
  timeoutMinutes?: number;
  pollSeconds?: number;
}

/** The profile's Render service: its id and API key, or its deploy hook. A dry run needs no key. */
export function deployPlan(resolved: ResolvedConfig, request: DeployRequest, dryRun: boolean): DeployPlan {
  const where = `profiles.${resolved.profileName}.render`;
  const render = resolved.profile.render;
  const mode = render?.serviceId ? 'api' : render?.deployHookUrl ? 'hook' : undefined;
  if (!render || !mode)
    throw new ConfigError(
      `${where}: expected serviceId (with apiKey) or deployHookUrl to deploy the app to Render, found ${render ? 'neither' : 'no render section'}`,
    );
  if (mode === 'api' && !render.apiKey && !dryRun)
    throw new ConfigError(`${where}.apiKey: expected a Render API key (as \${env:NAME}), found nothing`);
  return {
    render:
      mode === 'api'
        ? { apiKey: render.apiKey, serviceId: render.serviceId, baseUrl: render.apiUrl }
        : { hookUrl: render.deployHookUrl, baseUrl: render.apiUrl },
    commit: request.commit,
    clearCache: request.clearCache,
    wait: request.wait,
    pollMs: request.pollSeconds === undefined ? undefined : request.pollSeconds * 1000,
    timeoutMs: (request.timeoutMinutes ?? 15) * 60_000,
  };
}

export async function runDeploy(plan: DeployPlan, ctx: RunContext): Promise<StageOutcome<DeployResult>> {
  const target = plan.render.serviceId
    ? `Render service ${plan.render.serviceId} (${plan.commit ? `commit ${plan.commit}` : 'latest commit of its branch'})`
    : "the Render service's deploy hook (latest commit of its branch)";
  ctx.log.info(`deploy: the app to ${target}${ctx.dryRun ? ' (dry run: nothing sent)' : ''}`);
  if (ctx.dryRun) return { report: { stage: 'deploy', dryRun: true, title: TITLE, blocks: [] }, verdict: ok };
  const outcome = (result: DeployResult, verdict: Verdict) => ({
    result,
    report: deployReport(plan, result),
    verdict,
  });
  // Ctrl-C (a cancelled workflow's SIGTERM) stops following the deploy, which goes on on Render; a GitHub
  // deployment is then marked `error`.
  const stop = abortOnSignals((signal) => ctx.log.warn(`${signal}: no longer following the Render deploy`));
  try {
    const result = await deployRender({ ...plan, signal: stop.signal, log: ctx.log });
    ctx.log.info(`deploy: ${result.status}${result.url ? ` at ${result.url}` : ''}`);
    return outcome(result, ok);
  } catch (e) {
    if (!(e instanceof DeployError)) throw e;
    return outcome(e.result, failure(e.message));
  } finally {
    stop.dispose();
  }
}

const TITLE = 'Deploy to Render';

function deployReport(plan: DeployPlan, result: DeployResult) {
  const commit = result.mode === 'api' ? (plan.commit ?? 'latest on the branch') : 'latest on the branch';
  const blocks: ReportBlock[] = [
    table(
      ['what', 'value'],
      [
        ['Service', result.serviceId ?? ''],
        ['Triggered by', result.mode === 'api' ? 'Render API' : 'deploy hook'],
        ['Commit', commit],
        ['Deploy', result.deployId ?? '(none reported)'],
        ['Status', result.status],
        ['URL', result.url ?? ''],
        [
          'GitHub deployment',
          result.githubDeploymentId
            ? `${result.githubDeploymentId} (${plan.github?.environment})`
            : 'not recorded',
        ],
      ],
    ),
  ];
  if (result.mode === 'hook')
    blocks.push(
      note(
        'the deploy hook starts a deploy but cannot follow it: give an API key and a service id to wait for it',
      ),
    );
  return { stage: 'deploy' as const, dryRun: false, title: TITLE, blocks };
}
