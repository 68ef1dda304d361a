// The transform on Databricks, run once for `lakehouse transform --on databricks` and the databricks action: the
// notebooks imported into the workspace folder and run as one job run (src/stages/transform-databricks.ts). A dry
// run reports the plan and sends nothing; a run that does not end in SUCCESS is a failed verdict with its tasks.
import path from 'node:path';
import { ConfigError, type ResolvedConfig } from '../config/load.ts';
import { authFromSettings, type DatabricksAuth } from '../databricks/auth.ts';
import { createDatabricksClient } from '../databricks/rest.ts';
import {
  databricksSettings,
  DatabricksTransformError,
  describeCompute,
  planDatabricksTransform,
  transformOnDatabricks,
  type DatabricksOverrides,
  type DatabricksTransformPlan,
  type DatabricksTransformResult,
} from '../stages/transform-databricks.ts';
import { count } from '../util/format.ts';
import { abortOnSignals } from '../util/signals.ts';
import type { RunContext } from './context.ts';
import { failure, note, ok, table, type ReportBlock, type StageOutcome, type Verdict } from './report.ts';

/** Where and how to sign in. */
export interface DatabricksConnection {
  host: string;
  auth: DatabricksAuth;
}

export interface DatabricksTransformRequest extends DatabricksOverrides {
  /** Default: the profile's databricks section (its host and credentials). Not needed for a dry run. */
  connection?: DatabricksConnection;
  /** Time between polls of the run (default 10 s). */
  pollMs?: number;
}

export interface DatabricksRun {
  plan: DatabricksTransformPlan;
  /** Where the tasks run, e.g. "SQL warehouse abc". */
  compute: string;
  /** How the run ended; unset on a dry run. */
  run?: DatabricksTransformResult;
}

/** The profile's workspace and credentials (`lakehouse transform --on databricks`). */
export function profileConnection(resolved: ResolvedConfig): DatabricksConnection {
  const databricks = resolved.profile.databricks;
  const where = `profiles.${resolved.profileName}.databricks`;
  if (!databricks?.host) throw new ConfigError(`${where}.host: expected the workspace URL, found nothing`);
  return { host: databricks.host, auth: authFromSettings(databricks, where) };
}

export async function runDatabricksTransform(
  resolved: ResolvedConfig,
  request: DatabricksTransformRequest,
  ctx: RunContext,
): Promise<StageOutcome<DatabricksRun>> {
  const settings = await databricksSettings(resolved, request);
  const plan = planDatabricksTransform(settings);
  const compute = describeCompute(settings);
  ctx.log.info(
    `transform: ${count(plan.notebooks.length, 'notebook')} on Databricks (${compute}) in ${plan.workspaceFolder}${ctx.dryRun ? ' (dry run: nothing sent)' : ''}`,
  );
  const outcome = (run: DatabricksTransformResult | undefined, verdict: Verdict) => ({
    result: { plan, compute, run },
    report: databricksReport(resolved.root, { plan, compute, run }, ctx.dryRun),
    verdict,
  });
  if (ctx.dryRun) return outcome(undefined, ok);
  const connection = request.connection ?? profileConnection(resolved);
  const client = createDatabricksClient({
    ...connection,
    log: ctx.log,
    ...(ctx.onSecret ? { tokens: { onSecret: ctx.onSecret } } : {}),
  });
  // Ctrl-C, or a cancelled workflow's SIGTERM, cancels the Databricks run rather than leaving it running unwatched.
  const stop = abortOnSignals((signal) => ctx.log.warn(`${signal}: cancelling the Databricks run`));
  try {
    const run = await transformOnDatabricks(client, plan, {
      log: ctx.log,
      pollMs: request.pollMs,
      signal: stop.signal,
    });
    ctx.log.info(`transform: Databricks run ${run.runId} ${run.resultState}: ${run.runPageUrl}`);
    return outcome(run, ok);
  } catch (e) {
    if (!(e instanceof DatabricksTransformError)) throw e;
    return outcome(e.result, failure(e.message));
  } finally {
    stop.dispose();
  }
}

function databricksReport(root: string, { plan, compute, run }: DatabricksRun, dryRun: boolean) {
  const blocks: ReportBlock[] = [];
  if (run) {
    blocks.push(note(`run ${run.runId} on ${compute}: ${run.resultState}`));
    if (run.runPageUrl) blocks.push({ kind: 'link', text: 'Run page', url: run.runPageUrl });
  } else blocks.push(note(`compute: ${compute}`));
  blocks.push(note(`parameters: ${JSON.stringify(plan.parameters)}`));
  if (run)
    blocks.push(
      table(
        ['task', 'notebook', 'state', 'result', 'duration', 'output or error'],
        run.tasks.map((t) => [
          t.taskKey,
          t.notebook,
          t.state,
          t.resultState,
          `${(t.durationMs / 1000).toFixed(1)} s`,
          t.error ?? t.result ?? '',
        ]),
        { itemized: true, empty: 'No task reported.' },
      ),
    );
  else
    blocks.push(
      table(
        ['task', 'notebook', 'workspace path', 'runs after'],
        plan.notebooks.map((n, i) => [
          n.taskKey,
          path.relative(root, n.source),
          n.path,
          i ? plan.notebooks[i - 1]!.taskKey : '',
        ]),
      ),
    );
  return {
    stage: 'transform' as const,
    dryRun,
    title: `Transform on Databricks${dryRun ? ' (dry run: nothing sent)' : ''}`,
    blocks,
  };
}
