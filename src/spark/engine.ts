// src/spark/ holds the transform on Apache Spark: the job built from the notebooks (job.ts, jdbc.ts) and this
// engine process that runs it.
//
// Starts the Spark engine (spark/: one Java entry class, lakehouse.spark.Engine) and talks to it: the job goes to
// its stdin as JSON (so credentials never reach argv), one JSON line per statement comes back on stdout as it
// finishes, and Spark's own log on stderr is kept, redacted, for when the JVM dies without answering. The
// protocol is described at the top of spark/src/main/java/lakehouse/spark/Engine.java.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { redact } from '../util/secrets.ts';

export type SparkParam = string | number | boolean;

export type SparkStatement =
  | { id: string; sql: string; args?: Record<string, SparkParam>; maxRows?: number }
  | { id: string; view: string; jdbc: Record<string, string> };

export interface SparkJob {
  appName?: string;
  master: string;
  conf: Record<string, string>;
  /** The catalog over a folder of Delta tables `<root>/<schema>/<table>` (see DeltaFolder.java). */
  delta?: { root: string; schemas: string[] };
  /** Values the JVM must never print (it replaces them in what it writes; this side redacts too). */
  redact?: string[];
  /** Run every statement even after one fails (each result says how it went); by default the job stops there. */
  continueOnError?: boolean;
  statements: SparkStatement[];
}

export interface SparkSessionInfo {
  spark: string;
  delta: string;
  master: string;
  /** The existing Delta tables registered at start, as schema.table. */
  tables: string[];
  ms: number;
}

export type SparkResult =
  | {
      id: string;
      ok: true;
      ms: number;
      columns?: { name: string; type: string }[];
      rows?: unknown[][];
      truncated?: boolean;
    }
  | {
      id: string;
      ok: false;
      ms: number;
      error: string;
      /** Spark's error condition, e.g. USER_RAISED_EXCEPTION for a failed assert_true. */
      condition?: string;
      parameters?: Record<string, string>;
    };

export class SparkEngineError extends Error {
  override name = 'SparkEngineError';
}

/**
 * The JVM options a plain `java` needs for Spark: those Spark's launcher adds for Java 17 (Spark reaches into these
 * JDK internals), and UTC, so that timestamps print the same on every machine.
 */
export const SPARK_JVM_OPTIONS = [
  '-XX:+IgnoreUnrecognizedVMOptions',
  ...[
    'java.lang',
    'java.lang.invoke',
    'java.lang.reflect',
    'java.io',
    'java.net',
    'java.nio',
    'java.util',
    'java.util.concurrent',
    'java.util.concurrent.atomic',
    'jdk.internal.ref',
    'sun.nio.ch',
    'sun.nio.cs',
    'sun.security.action',
    'sun.util.calendar',
  ].map((p) => `--add-opens=java.base/${p}=ALL-UNNAMED`),
  '-Djdk.reflect.useDirectMethodHandle=false',
  '-Duser.timezone=UTC',
];

/** The built module: `(cd spark && mvn -q package)` writes the jar and its dependencies there. */
export const DEFAULT_MODULE_DIR = path.resolve(import.meta.dirname, '../../spark/target');

export interface SparkModule {
  jar: string;
  lib: string;
}

export function sparkModule(dir = DEFAULT_MODULE_DIR): SparkModule {
  const jar = path.join(dir, 'lakehouse-spark.jar');
  const lib = path.join(dir, 'lib');
  if (!fs.existsSync(jar) || !fs.existsSync(lib)) {
    throw new SparkEngineError(
      `the Spark engine is not built (no ${path.relative(process.cwd(), jar) || jar}): run \`(cd spark && mvn -q package)\`, which needs Java 17 and Maven`,
    );
  }
  return { jar, lib };
}

/** `java` of JAVA_HOME when it is set, else the one on the PATH. */
export function javaCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : 'java';
}

export interface RunSparkJobOptions {
  module?: SparkModule;
  /** Called for each statement's result as soon as the JVM writes it. */
  onResult?: (result: SparkResult) => void;
  /** Streams Spark's own log (redacted) to this function as well, e.g. for LAKEHOUSE_DEBUG. */
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

export interface SparkJobOutcome {
  session: SparkSessionInfo;
  results: SparkResult[];
}

/**
 * Runs one job in a new JVM and returns every statement's result; the last is the failure if one failed (the
 * engine stops there). Throws SparkEngineError when the JVM cannot start or dies without answering.
 */
export async function runSparkJob(job: SparkJob, options: RunSparkJobOptions = {}): Promise<SparkJobOutcome> {
  const { jar, lib } = options.module ?? sparkModule();
  // In local mode the driver is this JVM, so spark.driver.memory becomes its heap, as spark-submit does.
  const java = javaLaunch({ jar, lib }, 'lakehouse.spark.Engine', {
    heap: job.conf['spark.driver.memory'],
    local: /^local(\[|$)/.test(job.master),
  });
  const child = spawn(java.command, java.args, { stdio: ['pipe', 'pipe', 'pipe'], env: java.env });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (e) =>
      reject(
        new SparkEngineError(
          `cannot start ${javaCommand()} (Java 17 is needed for --on spark): ${e.message}`,
        ),
      ),
    );
    child.once('close', (code) => resolve(code));
  });
  const abort = () => child.kill();
  options.signal?.addEventListener('abort', abort, { once: true });
  const log: string[] = [];
  readline.createInterface({ input: child.stderr }).on('line', (raw) => {
    const line = redact(raw);
    log.push(line);
    if (log.length > 60) log.shift();
    options.onLog?.(line);
  });
  child.stdin.on('error', () => undefined); // a JVM that died early is reported by its exit, below
  child.stdin.end(JSON.stringify(job));

  let session: SparkSessionInfo | undefined;
  let failure: string | undefined;
  const results: SparkResult[] = [];
  try {
    for await (const line of readline.createInterface({ input: child.stdout })) {
      const message = JSON.parse(line) as Record<string, unknown>;
      if ('session' in message) {
        if (message.session === null) failure = redact(String(message.error));
        else session = message.session as SparkSessionInfo;
        continue;
      }
      const result = redactResult(message as unknown as SparkResult);
      results.push(result);
      options.onResult?.(result);
    }
    const code = await exited;
    if (failure) throw new SparkEngineError(`Spark could not start a session: ${failure}`);
    const failed = results.at(-1)?.ok === false;
    if (!session || (code !== 0 && !failed) || (code === 0 && results.length < job.statements.length)) {
      const reason = options.signal?.aborted ? 'stopped' : `exited with code ${code}`;
      throw new SparkEngineError(
        `the Spark engine ${reason} after ${results.length} of ${job.statements.length} statements; its last log lines:\n${log.slice(-15).join('\n')}`,
      );
    }
    return { session, results };
  } finally {
    options.signal?.removeEventListener('abort', abort);
    if (child.exitCode === null) child.kill();
  }
}

function redactResult(result: SparkResult): SparkResult {
  if (result.ok) return result;
  return {
    ...result,
    error: redact(result.error),
    parameters: result.parameters
      ? Object.fromEntries(Object.entries(result.parameters).map(([k, v]) => [k, redact(v)]))
      : undefined,
  };
}

export interface JavaLaunch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * `java [heap, time zone, module options] -cp <jar>:<lib>/* <mainClass> [args]` and its environment, for an entry class
 * of the module: lakehouse.spark.Engine here, lakehouse.spark.FpGrowthBench in bench/rules.mjs. Nothing secret.
 */
export function javaLaunch(
  module: SparkModule,
  mainClass: string,
  options: {
    heap?: string;
    local?: boolean;
    args?: string[];
    /** Entries before the module's (another module built on this one's jars). */
    classpath?: string[];
  } = {},
): JavaLaunch {
  return {
    command: javaCommand(),
    args: [
      `-Xmx${options.heap ?? '2g'}`,
      ...SPARK_JVM_OPTIONS,
      '-cp',
      [...(options.classpath ?? []), module.jar, path.join(module.lib, '*')].join(path.delimiter),
      mainClass,
      ...(options.args ?? []),
    ],
    // Spark otherwise binds to the machine's outward address, which a local session has no use for.
    env: options.local ? { ...process.env, SPARK_LOCAL_IP: '127.0.0.1' } : process.env,
  };
}

/** The jars a cluster's executors need beside Spark itself: Delta Lake, the JDBC drivers and this module. */
export function clusterJars(module: SparkModule): string[] {
  const wanted = /^(delta-spark|delta-storage|postgresql|mariadb-java-client|mssql-jdbc)[_-]/;
  return [
    module.jar,
    ...fs
      .readdirSync(module.lib)
      .filter((f) => wanted.test(f))
      .map((f) => path.join(module.lib, f)),
  ];
}
