// The preflight: what can be known to fail is found before any stage runs, and a dry run runs it too, so that a dry
// run fails where the real run would. Each stage about to run adds its checks: ingest, that every source folder
// exists (or its sample will be generated) and that its files' headers name the dataset's columns; load, what the
// SQL target is; transform, that the notebooks parse and their parameters fit the types they declare. Every problem
// is told at once, one line each; the same cause in many files is one line that names them.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { glob } from 'tinyglobby';
import { configPath, type ResolvedConfig } from '../config/load.ts';
import type { DatasetConfig, SqlTargetConfig } from '../config/schema.ts';
import { readCsv } from '../csv/reader.ts';
import { count, someOf } from '../util/format.ts';
import { describeServer } from '../sql/network-session.ts';
import type { RunContext } from './context.ts';
import { defaultNotebooks } from '../stages/transform-databricks.ts';
import { checkNotebooks } from './preflight-notebooks.ts';
import { transformInputs, type LocalTransformRequest } from './transform-local.ts';

export type PreflightStage = 'ingest' | 'load' | 'transform';

export interface PreflightRequest {
  stages: PreflightStage[];
  datasets: DatasetConfig[];
  /** A source folder with no file will get its synthetic sample first (`lakehouse run`). */
  samples?: boolean;
  transform?: LocalTransformRequest;
  /** With no notebooks listed, the transform runs every notebooks/*.sql (on Databricks). */
  defaultNotebooks?: boolean;
}

export class PreflightError extends Error {
  override name = 'PreflightError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(
      problems.length === 1
        ? `preflight: ${problems[0]}`
        : `${problems.map((p) => `preflight: ${p}`).join('\n')}\n${count(problems.length, 'problem')} found before anything ran`,
    );
    this.problems = problems;
  }
}

/** Runs the checks of the stages about to run; logs what holds, throws every problem found. */
export async function preflight(
  resolved: ResolvedConfig,
  request: PreflightRequest,
  ctx: RunContext,
): Promise<void> {
  const problems: string[] = [];
  const told = (line: string) => ctx.log.info(`preflight: ${line}`);
  if (request.stages.includes('ingest'))
    for (const dataset of request.datasets) {
      const check = await checkSource(resolved, dataset, request.samples ?? false);
      if (check.checked) told(check.checked);
      problems.push(...check.problems);
    }
  if (request.stages.includes('load'))
    told(`SQL target: ${describeTarget(resolved.profile.sql, resolved.root)}`);
  if (request.stages.includes('transform')) {
    const listed = request.transform?.notebooks?.length || resolved.config.transform.notebooks.length;
    // With none listed, the Databricks transform runs every notebooks/*.sql; the others refuse (transformInputs).
    const fallback = !listed && request.defaultNotebooks ? await defaultNotebooks(resolved) : undefined;
    const { notebooks: files, params } = transformInputs(resolved, {
      ...request.transform,
      ...(fallback && { notebooks: fallback }),
    });
    const check = await checkNotebooks(files, params);
    if (check.problems.length === 0) told(check.checked);
    problems.push(...check.problems);
  }
  if (problems.length) throw new PreflightError(problems);
}

/** The store a load writes to, told without connecting and without a password. */
export function describeTarget(target: SqlTargetConfig, root: string): string {
  if (target.engine === 'pglite') return `PGlite at ${path.resolve(root, target.path)}`;
  const parts = target.connection ? connectionParts(target.connection) : {};
  return describeServer(target.engine, {
    user: target.user ?? parts.user,
    host: target.host ?? parts.host,
    port: target.port ?? parts.port,
    database: target.database ?? parts.database,
  });
}

type ServerParts = Parameters<typeof describeServer>[1];

/** User, host, port and database of a URL (postgres://, mysql://) or of a SQL Server connection string. */
function connectionParts(connection: string): ServerParts {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(connection)) {
    const url = new URL(connection);
    return {
      user: decodeURIComponent(url.username) || undefined,
      host: url.hostname || undefined,
      port: url.port ? Number(url.port) : undefined,
      database: url.pathname.slice(1) || undefined,
    };
  }
  const pairs = new Map(
    connection
      .split(';')
      .map((pair) => pair.split('='))
      .filter((kv) => kv.length >= 2)
      .map(([k, ...v]) => [k!.trim().toLowerCase(), v.join('=').trim()]),
  );
  const server = (pairs.get('server') ?? pairs.get('data source') ?? pairs.get('address'))?.replace(
    /^tcp:/i,
    '',
  );
  const [host, port] = server?.split(',') ?? [];
  return {
    user: pairs.get('user id') ?? pairs.get('uid') ?? pairs.get('user'),
    host,
    port: port ? Number(port) : undefined,
    database: pairs.get('database') ?? pairs.get('initial catalog'),
  };
}

interface SourceCheck {
  checked?: string;
  problems: string[];
}

async function checkSource(
  resolved: ResolvedConfig,
  dataset: DatasetConfig,
  samples: boolean,
): Promise<SourceCheck> {
  const { path: folder, glob: pattern, sample } = dataset.source;
  const absolute = configPath(resolved, folder);
  const stats = await fsp.stat(absolute).catch(() => undefined);
  if (!stats?.isDirectory()) {
    if (!stats && sample && samples)
      return { checked: `dataset ${dataset.name}: ${folder} will hold a generated sample`, problems: [] };
    return {
      problems: [
        `dataset ${dataset.name}: source path ${absolute}: expected a folder, found ${stats ? 'a file' : 'nothing'}${sample ? ' (`lakehouse run` generates the sample there)' : ''}`,
      ],
    };
  }
  const files = (await glob(pattern, { cwd: absolute, onlyFiles: true, dot: false })).sort();
  if (files.length === 0 && sample && samples)
    return { checked: `dataset ${dataset.name}: ${folder} will hold a generated sample`, problems: [] };
  const problems = dataset.csv.header ? await headerProblems(dataset, absolute, files) : [];
  return { checked: `dataset ${dataset.name}: ${count(files.length, 'file')} in ${folder}`, problems };
}

/** Files whose header does not name the dataset's columns, grouped by what is wrong: one line per cause. */
async function headerProblems(dataset: DatasetConfig, folder: string, files: string[]): Promise<string[]> {
  const byCause = new Map<string, string[]>();
  for (const file of files) {
    const cause = await headerProblem(dataset, path.join(folder, file));
    if (cause) byCause.set(cause, [...(byCause.get(cause) ?? []), file]);
  }
  return [...byCause].map(
    ([cause, names]) =>
      `dataset ${dataset.name}: ${count(names.length, 'file')} in ${folder}: ${cause}: ${someOf(names)}`,
  );
}

/** What the load would say of the file's header, read from its first line alone (undefined: it is right). */
async function headerProblem(dataset: DatasetConfig, file: string): Promise<string | undefined> {
  const handle = await fsp.open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head[0] === 0x1f && head[1] === 0x8b) return undefined; // gzip: the load reads it whole
    const end = head.indexOf(0x0a);
    const firstLine = end === -1 ? head : head.subarray(0, end + 1);
    const events = readCsv(Readable.from([firstLine]), dataset.columns, {
      header: true,
      delimiter: dataset.csv.delimiter,
    });
    for await (const event of events) void event;
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    await handle.close();
  }
}
