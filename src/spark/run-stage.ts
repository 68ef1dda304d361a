// `lakehouse transform --on spark`: the profile's notebooks, parameters, SQL store and Delta folder, run on Apache
// Spark with Delta Lake (src/stages/transform-spark.ts); the manifest is the one the DuckDB transform writes, so the
// app and the next stages read it the same way. A dry run prints the plan and starts no JVM.
import { configPath } from '../config/load.ts';
import { sparkMaster } from '../config/schema.ts';
import {
  printTransformSummary,
  StageFailedError,
  transformInputs,
  type PipelineContext,
  type TransformRequest,
} from '../cli/pipeline.ts';
import { writeManifest } from '../stages/manifest.ts';
import { planTransform } from '../stages/transform.ts';
import { DEFAULT_MASTER, transformOnSpark, type SparkTransformManifest } from '../stages/transform-spark.ts';
import { progress } from '../util/progress.ts';
import { redact } from '../util/secrets.ts';
import { abortOnSignals } from '../util/signals.ts';

export async function runSparkTransformStage(
  ctx: PipelineContext,
  request: TransformRequest & { master?: string } = {},
): Promise<SparkTransformManifest | undefined> {
  const { resolved } = ctx;
  const { notebooks, params } = transformInputs(ctx, request);
  const spark = resolved.profile.spark;
  const master = request.master ?? spark?.master ?? DEFAULT_MASTER;
  const valid = sparkMaster.safeParse(master);
  if (!valid.success)
    throw new StageFailedError(`--master: expected ${valid.error.issues[0]!.message}, found ${master}`);
  const deltaRoot = configPath(resolved, resolved.profile.delta);
  ctx.log.info(
    `transform: ${notebooks.length} notebook(s) on Spark (${master}) → Delta tables in ${deltaRoot}`,
  );
  if (ctx.dryRun) {
    for (const p of await planTransform(notebooks))
      ctx.log.info(`transform (dry run): ${p.notebook} would write ${p.tables.join(', ') || 'no table'}`);
    return undefined;
  }
  const conf = Object.fromEntries(Object.entries(spark?.conf ?? {}).map(([k, v]) => [k, String(v)]));
  const debug = Boolean(process.env.LAKEHOUSE_DEBUG);
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
      progress: progress('transform'),
      onSparkLog: debug ? (line) => process.stderr.write(`spark: ${redact(line)}\n`) : undefined,
      signal: stop.signal,
    });
    await writeManifest(configPath(resolved, resolved.profile.manifests), manifest);
    printTransformSummary(ctx.log, manifest);
    return manifest;
  } finally {
    stop.dispose();
  }
}
