// The transform's front door: one request, run on the engine it names. Each engine is one function from the
// request to a stage outcome, plus the profile sections whose secrets it needs; adding an engine (a Spark cluster)
// is adding one entry here. Each engine's module loads when it runs: DuckDB, the Delta writer, the Databricks and
// Spark clients cost the CLI's start a second when imported up front (bench/status.mjs).
import type { ResolvedConfig } from '../config/load.ts';
import type { ProfileConfig } from '../config/schema.ts';
import type { ParameterValue } from '../stages/transform-databricks.ts';
import type { RunContext } from './context.ts';
import type { StageOutcome } from './report.ts';

export interface TransformRequest {
  /** Run these notebooks instead of the config's list. */
  notebooks?: string[];
  /** Parameters over the config's `transform.parameters`. */
  params?: Record<string, ParameterValue>;
  /** Skip the run when nothing it reads changed since the last one (engines that can tell). */
  skipUnchanged?: boolean;
  /** In a dry run: the stages before this one would change what the notebooks read (engines that skip). */
  inputsWillChange?: boolean;
  /** Stop (and cancel) a remote run after this long. */
  timeoutMinutes?: number;
  /** Time between polls of a remote run. */
  pollMs?: number;
  /** The Spark master (over the profile's spark.master). */
  master?: string;
}

export interface TransformEngine {
  /** Where the notebooks run, for `--on`'s help. */
  description: string;
  /**
   * The profile sections whose ${env:…} references this engine needs resolved (undefined: every section but
   * databricks and render, as for the other stages). A dry run resolves none.
   */
  resolve?: (keyof ProfileConfig)[];
  run(resolved: ResolvedConfig, request: TransformRequest, ctx: RunContext): Promise<StageOutcome<unknown>>;
}

export type TransformEngineName = 'local' | 'databricks' | 'spark';

export const transformEngines: Record<TransformEngineName, TransformEngine> = {
  local: {
    description: 'DuckDB in this process, reading the SQL store, writing Delta tables',
    run: async (resolved, request, ctx) =>
      (await import('./transform-local.ts')).runLocalTransform(resolved, request, ctx),
  },
  databricks: {
    description: 'the profile’s Databricks workspace (one job run)',
    // Databricks reads the SQL store itself: only the databricks section's secrets are needed here.
    resolve: ['databricks'],
    run: async (resolved, request, ctx) =>
      (await import('./transform-databricks.ts')).runDatabricksTransform(
        resolved,
        {
          notebooks: request.notebooks,
          parameters: request.params,
          timeoutSeconds:
            request.timeoutMinutes === undefined ? undefined : Math.ceil(request.timeoutMinutes * 60),
          pollMs: request.pollMs,
        },
        ctx,
      ),
  },
  spark: {
    description:
      'Apache Spark with Delta Lake (local[*], or the profile’s spark.master), reading the SQL store over JDBC',
    run: async (resolved, request, ctx) =>
      (await import('./transform-spark.ts')).runSparkTransform(resolved, request, ctx),
  },
};

export function runTransform(
  resolved: ResolvedConfig,
  on: TransformEngineName,
  request: TransformRequest,
  ctx: RunContext,
): Promise<StageOutcome<unknown>> {
  return transformEngines[on].run(resolved, request, ctx);
}
