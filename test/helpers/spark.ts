// Runs Spark SQL jobs on Apache Spark with Delta Lake (the spark/ Maven module's Engine) for tests: one JVM per
// job, so a suite batches its statements. Build the module first: `cd spark && mvn -q package`.
import { spawn } from 'node:child_process';
import { javaLaunch, sparkModule, type JavaLaunch } from '../../src/spark/engine.ts';

/** Settings that keep a local test job small and fast on a 2-core machine. */
export const TEST_SPARK_CONF: Record<string, string> = {
  'spark.sql.session.timeZone': 'UTC',
  'spark.sql.shuffle.partitions': '2',
  'spark.default.parallelism': '2',
  'spark.driver.host': '127.0.0.1',
  'spark.driver.bindAddress': '127.0.0.1',
  'spark.sql.jsonGenerator.ignoreNullFields': 'false',
  // Delta rebuilds a snapshot in 50 tasks by default; small test tables need 2.
  'spark.databricks.delta.snapshotPartitions': '2',
};

export interface SparkStatement {
  id: string;
  sql: string;
  args?: Record<string, string | number | boolean | null>;
  /** How many rows come back (default: all of them). */
  maxRows?: number;
}

export interface SparkResult {
  id: string;
  ok: boolean;
  ms: number;
  columns?: { name: string; type: string }[];
  rows?: unknown[][];
  error?: string;
}

export interface SparkJob {
  statements: SparkStatement[];
  conf?: Record<string, string>;
  /** Defaults to local[2]. */
  master?: string;
  /** Kill the JVM after this long (default 30 minutes). */
  timeoutMs?: number;
}

/**
 * Runs `job` in a new JVM and returns one result per statement that ran (the Engine stops at the first failure;
 * statements after it are missing from the map). Spark's own log is kept for the error when the JVM fails.
 */
export async function runSparkJob(job: SparkJob): Promise<Map<string, SparkResult>> {
  const input = JSON.stringify({
    master: job.master ?? 'local[2]',
    conf: { ...TEST_SPARK_CONF, ...job.conf },
    // Tests compare whole results: every row comes back (the Engine returns 100 unless told).
    statements: job.statements.map((s) => ({ maxRows: 2_147_483_647, ...s })),
  });
  const launch = javaLaunch(sparkModule(), 'lakehouse.spark.Engine', { heap: '1g', local: true });
  const { code, stdout, stderr } = await runJava(launch, input, job.timeoutMs ?? 1_800_000);
  const results = new Map<string, SparkResult>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const result = JSON.parse(line) as SparkResult;
    results.set(result.id, result);
  }
  if (code !== 0 && ![...results.values()].some((r) => !r.ok)) {
    const done = `${results.size} of ${job.statements.length} statements answered`;
    throw new Error(`the Spark job exited with ${code} (${done}):\n${stderr.slice(-4000)}`);
  }
  return results;
}

/** The result of statement `id`, failing with Spark's error (or why it never ran). */
export function resultOf(results: Map<string, SparkResult>, id: string): SparkResult {
  const result = results.get(id);
  if (result?.ok) return result;
  if (result) throw new Error(`Spark failed on ${id}: ${result.error}`);
  const failed = [...results.values()].find((r) => !r.ok);
  throw new Error(
    `Spark did not run ${id}` + (failed ? `: the job stopped at ${failed.id}: ${failed.error}` : ''),
  );
}

function runJava(
  { command, args, env }: JavaLaunch,
  input: string,
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(input);
  });
}
