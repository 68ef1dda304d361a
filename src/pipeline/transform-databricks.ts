// The transform on Databricks, run once for `lakehouse transform --on databricks` and the databricks action: the
// notebooks imported into the workspace folder and run as one job run (src/stages/transform-databricks.ts). A dry
// run reports the plan and sends nothing; a run that does not end in SUCCESS is a failed verdict with its tasks.
// Every run, failed ones too, writes its manifest; with the profile's SQL warehouse (warehouseHttpPath) the manifest
// holds the table versions the run committed and is also appended to the warehouse's run log, which the deployed app
// reads (src/databricks/run-log.ts).
import path from 'node:path';
import { ConfigError, configPath, type ResolvedConfig } from '../config/load.ts';
import { authFromSettings, createTokenProvider, type DatabricksAuth } from '../databricks/auth.ts';
import { createDatabricksClient } from '../databricks/rest.ts';
import { appendRunLog } from '../databricks/run-log.ts';
import { openWarehouse, type Warehouse } from '../databricks/sql.ts';
import { databricksManifest, versionsBefore } from '../stages/databricks-manifest.ts';
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
import type { TransformManifest } from '../stages/transform.ts';
import { count } from '../util/format.ts';
import { abortOnSignals } from '../util/signals.ts';
import { recordManifest, type RunContext } from './context.ts';
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
  /** The SQL warehouse that reads the table versions and keeps the run log. Default: the profile's warehouseHttpPath. */
  warehouse?: Warehouse;
}

export interface DatabricksRun {
  plan: DatabricksTransformPlan;
  /** Where the tasks run, e.g. "SQL warehouse abc". */
  compute: string;
  /** How the run ended; unset on a dry run. */
  run?: DatabricksTransformResult;
  /** The run's manifest; unset on a dry run. */
  manifest?: TransformManifest;
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
  const outcome = (
    run: DatabricksTransformResult | undefined,
    verdict: Verdict,
    manifest?: TransformManifest,
  ) => ({
    result: { plan, compute, run, manifest },
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
  const warehouse = request.warehouse ?? (await profileWarehouse(resolved, connection, ctx));
  try {
    const before = await versionsBefore(warehouse, plan);
    const { run, error } = await runJob(client, plan, request, ctx);
    const manifest = await databricksManifest({ run: ctx.run, plan, result: run, error, before, warehouse });
    await recordManifest(configPath(resolved, resolved.profile.manifests), manifest, ctx);
    if (warehouse) await appendRunLog(warehouse, manifest);
    return outcome(run, error === undefined ? ok : failure(error), manifest);
  } finally {
    if (warehouse && !request.warehouse) await warehouse.close();
  }
}

/** Runs the job; a run that did not end in SUCCESS is returned with its error, anything else is thrown. */
async function runJob(
  client: ReturnType<typeof createDatabricksClient>,
  plan: DatabricksTransformPlan,
  request: DatabricksTransformRequest,
  ctx: RunContext,
): Promise<{ run: DatabricksTransformResult | undefined; error?: string }> {
  // Ctrl-C, or a cancelled workflow's SIGTERM, cancels the Databricks run rather than leaving it running unwatched.
  const stop = abortOnSignals((signal) => ctx.log.warn(`${signal}: cancelling the Databricks run`));
  try {
    const run = await transformOnDatabricks(client, plan, {
      log: ctx.log,
      pollMs: request.pollMs,
      signal: stop.signal,
    });
    ctx.log.info(`transform: Databricks run ${run.runId} ${run.resultState}: ${run.runPageUrl}`);
    return { run };
  } catch (e) {
    if (!(e instanceof DatabricksTransformError)) throw e;
    return { run: e.result, error: e.message };
  } finally {
    stop.dispose();
  }
}

/**
 * The profile's SQL warehouse (databricks.warehouseHttpPath, on the workspace's host), signed in as the REST client
 * is. Without one the run's manifest cannot say which table versions the run wrote, and the deployed app serves the
 * latest versions: said once, in the log.
 */
async function profileWarehouse(
  resolved: ResolvedConfig,
  connection: DatabricksConnection,
  ctx: RunContext,
): Promise<Warehouse | undefined> {
  const httpPath = resolved.profile.databricks?.warehouseHttpPath;
  if (!httpPath) {
    ctx.log.info(
      `transform: no profiles.${resolved.profileName}.databricks.warehouseHttpPath: the run's manifest will not hold ` +
        'the table versions it wrote, and the app will serve the latest versions',
    );
    return undefined;
  }
  const tokens = createTokenProvider(connection.host, connection.auth, {
    log: ctx.log,
    ...(ctx.onSecret ? { onSecret: ctx.onSecret } : {}),
  });
  const token = (await tokens.authorization()).replace(/^Bearer /, '');
  return openWarehouse({ host: connection.host, httpPath, token });
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
