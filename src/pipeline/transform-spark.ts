// The transform on Apache Spark with Delta Lake: the profile's notebooks, parameters, SQL store and Delta folder run
// as one Spark job (src/stages/transform-spark.ts). The manifest is the one the DuckDB transform writes, so the app
// and the next stages read it the same way. A dry run prints the plan and starts no JVM.
import { ConfigError, configPath, type ResolvedConfig } from '../config/load.ts';
import { sparkMaster } from '../config/schema.ts';
import type { NotebookParams } from '../notebooks/params.ts';
import { planTransform, TransformFailedError } from '../stages/transform.ts';
import { DEFAULT_MASTER, transformOnSpark, type SparkTransformManifest } from '../stages/transform-spark.ts';
import { count } from '../util/format.ts';
import { redact } from '../util/secrets.ts';
import { abortOnSignals } from '../util/signals.ts';
import { recordManifest, type RunContext } from './context.ts';
import { ok, type StageOutcome } from './report.ts';
import { transformInputs, transformReport } from './transform-local.ts';

export interface SparkTransformRequest {
  notebooks?: string[];
  params?: NotebookParams;
  /** Overrides the profile's spark.master. */
  master?: string;
}

export async function runSparkTransform(
  resolved: ResolvedConfig,
  request: SparkTransformRequest,
  ctx: RunContext,
): Promise<StageOutcome<SparkTransformManifest>> {
  const { notebooks, params } = transformInputs(resolved, request);
  const spark = resolved.profile.spark;
  const master = request.master ?? spark?.master ?? DEFAULT_MASTER;
  const valid = sparkMaster.safeParse(master);
  if (!valid.success)
    throw new ConfigError(`--master: expected ${valid.error.issues[0]!.message}, found ${master}`);
  const deltaRoot = configPath(resolved, resolved.profile.delta);
  const title = `Transform on Spark (${master})`;
  ctx.log.info(
    `transform: ${count(notebooks.length, 'notebook')} on Spark (${master}) → Delta tables in ${deltaRoot}`,
  );
  if (ctx.dryRun) {
    for (const p of await planTransform(notebooks))
      ctx.log.info(`transform (dry run): ${p.notebook} would write ${p.tables.join(', ') || 'no table'}`);
    return { report: { stage: 'transform', dryRun: true, title, blocks: [] }, verdict: ok };
  }
  const conf = Object.fromEntries(Object.entries(spark?.conf ?? {}).map(([k, v]) => [k, String(v)]));
  const debug = Boolean(process.env.LAKEHOUSE_DEBUG);
  // Ctrl-C (or a cancelled workflow's SIGTERM) stops the JVM rather than leaving it running.
  const manifests = configPath(resolved, resolved.profile.manifests);
  const stop = abortOnSignals((signal) => ctx.log.warn(`${signal}: stopping the Spark engine`));
  try {
    const manifest = await transformOnSpark({
      notebooks,
      deltaRoot,
      sql: resolved.profile.sql,
      params,
      run: ctx.run,
      master,
      conf,
      log: ctx.log,
      progress: ctx.progress?.('transform'),
      onSparkLog: debug ? (line) => process.stderr.write(`spark: ${redact(line)}\n`) : undefined,
      signal: stop.signal,
    }).catch(async (error: unknown) => {
      if (error instanceof TransformFailedError) await recordManifest(manifests, error.manifest, ctx);
      throw error;
    });
    const manifestPath = await recordManifest(manifests, manifest, ctx);
    return { result: manifest, manifestPath, report: transformReport(manifest, true, title), verdict: ok };
  } finally {
    stop.dispose();
  }
}
