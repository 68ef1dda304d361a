// src/cli/ holds the `lakehouse` command: this entry, its options, the report printed as text and `table`.
//
// The `lakehouse` command: each subcommand loads lakehouse.yml (with --config/--profile), asks src/pipeline to run
// its stage, and prints the outcome (./report.ts). Any error ends the process with a readable message and exit 1.
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { Command, Option } from 'commander';
import { configPath, loadConfig, type LoadOptions, type ResolvedConfig } from '../config/load.ts';
import type { DatasetConfig } from '../config/schema.ts';
import { selectDatasets, type RunContext } from '../pipeline/context.ts';
import { runTransform, transformEngines, type TransformEngineName } from '../pipeline/transform.ts';
import { count, formatNumber } from '../util/format.ts';
import { consoleLogger, errorDetails, errorMessage } from '../util/log.ts';
import { clearStatusLine, progress } from '../util/progress.ts';
import { currentRun } from '../util/run.ts';
import { createRehearseCommand } from '../rehearse/cli.ts';
import {
  addGlobalOptions,
  globalOptions,
  integer,
  keyValue,
  port,
  positiveInt,
  positiveNumber,
  share,
  type GlobalOption,
} from './options.ts';
import { finish } from './report.ts';
import { createTableCommand } from './table.ts';

const { version } = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = addGlobalOptions(
  new Command('lakehouse')
    .description('A GitHub-Actions-native data pipeline: files → bucket → SQL store → Delta tables → app')
    .version(version, '-V, --version', 'print the version of lakehouse'),
)
  .enablePositionalOptions()
  .showHelpAfterError();

/** A sub-command with the global options it uses (all of them unless named). */
function command(name: string, description: string, options?: GlobalOption[]): Command {
  return addGlobalOptions(program.command(name).description(description), options);
}

/** What every stage command works with: the config, the datasets chosen with --dataset, and the run context. */
interface CliContext {
  resolved: ResolvedConfig;
  datasets: DatasetConfig[];
  run: RunContext;
}

function context(command: Command, loadOptions?: LoadOptions): CliContext {
  const options = globalOptions(command);
  const resolved = loadConfig(options.config, options.profile, loadOptions);
  return {
    resolved,
    datasets: selectDatasets(resolved, options.dataset),
    run: { run: currentRun(), log: consoleLogger, dryRun: options.dryRun, progress },
  };
}

const log = consoleLogger;
const FULL_REFRESH_HELP =
  'rebuild every silver and gold table from all the data loaded (the notebooks’ full_refresh parameter), not only from the objects loaded since the last run';

// Each command imports its stage when it runs: the stages' clients and engines, imported up front, took a second
// of every command's start, `--version` and `status` included (bench/status.mjs measures it).
const stages = {
  generate: () => import('../generate/groceries.ts'),
  ingest: () => import('../pipeline/ingest.ts'),
  load: () => import('../pipeline/load.ts'),
  deploy: () => import('../pipeline/deploy.ts'),
  status: () => import('../pipeline/status.ts'),
  preflight: () => import('../pipeline/preflight.ts'),
  samples: () => import('../pipeline/samples.ts'),
  sql: () => import('../sql/index.ts'),
};

program
  .command('generate')
  .description('write synthetic grocery transactions (Member_number,Date,itemDescription), one CSV per month')
  .requiredOption(
    '--rows <n>',
    'lines to write after the headers, dirty ones included',
    positiveInt('--rows'),
  )
  .option('--seed <n>', 'random seed: the same seed gives the same files', integer('--seed'), 42)
  .requiredOption('--out <dir>', 'output folder')
  .option('--dirty <share>', 'share of dirty lines, 0–1', share('--dirty'), 0.01)
  .addOption(
    new Option('--split <how>', 'one file per month or a single file')
      .choices(['month', 'single'])
      .default('month'),
  )
  .action(
    async (o: { rows: number; seed: number; out: string; dirty: number; split: 'month' | 'single' }) => {
      const { generateGroceries } = await stages.generate();
      const result = await generateGroceries({
        rows: o.rows,
        seed: o.seed,
        outDir: o.out,
        dirtyShare: o.dirty,
        split: o.split,
      });
      console.log(
        `wrote ${count(result.lines, 'line')} (${count(result.baskets, 'basket')}) to ${count(result.files.length, 'file')} in ${path.resolve(o.out)}; dirty: ${Object.entries(
          result.dirty,
        )
          .map(([kind, n]) => `${kind.replace('_', ' ')}: ${formatNumber(n)}`)
          .join(', ')}`,
      );
    },
  );

command('ingest', 'upload the datasets’ source files to the bucket (unchanged files are skipped)').action(
  async (_o, cmd: Command) => {
    const c = context(cmd);
    const [{ preflight }, { ingestPlan, runIngest }] = await Promise.all([
      stages.preflight(),
      stages.ingest(),
    ]);
    await preflight(c.resolved, { stages: ['ingest'], datasets: c.datasets }, c.run);
    finish(await runIngest(ingestPlan(c.resolved, c.datasets), c.run), log);
  },
);

command('load', 'load bucket objects into the SQL store, each exactly once').action(
  async (_o, cmd: Command) => {
    const c = context(cmd);
    const [{ preflight }, { loadPlan, runLoad }, { openSqlStore }] = await Promise.all([
      stages.preflight(),
      stages.load(),
      stages.sql(),
    ]);
    await preflight(c.resolved, { stages: ['load'], datasets: c.datasets }, c.run);
    finish(await runLoad(loadPlan(c.resolved, c.datasets), c.run, openSqlStore), log);
  },
);

command(
  'transform',
  'run the notebooks on DuckDB, writing Delta tables (each write a new table version), or on Databricks',
  ['config', 'profile', 'dryRun'],
)
  .addOption(
    new Option(
      '--on <engine>',
      `where the notebooks run: ${Object.entries(transformEngines)
        .map(([name, engine]) => `${name} (${engine.description})`)
        .join(', ')}`,
    )
      .choices(Object.keys(transformEngines))
      .default('local'),
  )
  .option(
    '--timeout-minutes <n>',
    'with --on databricks: stop and cancel the run after this long (default 60)',
    positiveNumber('--timeout-minutes'),
  )
  .option('--master <url>', 'with --on spark: local[*] (default), local[N] or spark://host:port')
  .option(
    '--poll-seconds <n>',
    'with --on databricks: time between polls of the run (default 10)',
    positiveNumber('--poll-seconds'),
  )
  .addOption(
    new Option('--notebook <file>', 'run this notebook instead of the configured list (repeatable)')
      .argParser((v: string, previous: string[] = []) => [...previous, v])
      .default([]),
  )
  .addOption(
    new Option('--param <name=value>', 'a notebook parameter over transform.parameters (repeatable)')
      .argParser(keyValue)
      .default({}),
  )
  .option('--full-refresh', FULL_REFRESH_HELP)
  .action(
    async (
      o: {
        notebook: string[];
        param: Record<string, string>;
        fullRefresh?: boolean;
        on: TransformEngineName;
        master?: string;
        timeoutMinutes?: number;
        pollSeconds?: number;
      },
      cmd: Command,
    ) => {
      // An engine that names the profile sections it needs gets only their secrets, and a dry run, which sends
      // nothing, none.
      const needs: LoadOptions['resolve'] = transformEngines[o.on].resolve;
      const dryRun = globalOptions(cmd).dryRun;
      const c = context(cmd, needs && { resolve: dryRun ? [] : needs });
      const params = { ...o.param, ...(o.fullRefresh ? { full_refresh: true } : {}) };
      const transform = { notebooks: o.notebook, params };
      const defaultNotebooks = o.on === 'databricks';
      const { preflight } = await stages.preflight();
      await preflight(
        c.resolved,
        { stages: ['transform'], datasets: [], transform, defaultNotebooks },
        c.run,
      );
      const request = {
        notebooks: o.notebook,
        params,
        master: o.master,
        timeoutMinutes: o.timeoutMinutes,
        pollMs: o.pollSeconds === undefined ? undefined : o.pollSeconds * 1000,
      };
      finish(await runTransform(c.resolved, o.on, request, c.run), log);
    },
  );

command('deploy', 'deploy the app to the profile’s Render service and follow it until it is live', [
  'config',
  'profile',
  'dryRun',
])
  .option('--commit <sha>', 'the commit Render builds (default: the latest of the service’s branch)')
  .option('--clear-cache', 'clear Render’s build cache first', false)
  .option('--no-wait', 'start the deploy and return without following it')
  .option(
    '--timeout-minutes <n>',
    'stop following the deploy after this long (default 15)',
    positiveNumber('--timeout-minutes'),
  )
  .option(
    '--poll-seconds <n>',
    'time between looks at the deploy (default 10)',
    positiveNumber('--poll-seconds'),
  )
  .action(
    async (
      o: {
        commit?: string;
        clearCache: boolean;
        wait: boolean;
        timeoutMinutes?: number;
        pollSeconds?: number;
      },
      cmd: Command,
    ) => {
      // Only the render section's secrets are needed here, and a dry run, which sends nothing, needs none.
      const dryRun = globalOptions(cmd).dryRun;
      const c = context(cmd, { resolve: dryRun ? [] : ['render'] });
      const { deployPlan, runDeploy } = await stages.deploy();
      finish(await runDeploy(deployPlan(c.resolved, o, dryRun), c.run), log);
    },
  );

command('status', 'what is in the bucket, what is loaded, and what is waiting', [
  'config',
  'profile',
  'dataset',
]).action(async (_o, cmd: Command) => {
  const c = context(cmd);
  compileWebAssemblyBaselineOnly();
  const { storeStatus } = await stages.status();
  finish(await storeStatus(c.resolved, c.datasets, log), log);
});

/**
 * For a command that runs a few small queries on PGlite (`status`): V8 compiles PGlite's WebAssembly with its
 * baseline compiler only. Otherwise it optimises functions in the background once they have run a while, which
 * PostgreSQL's start passes in many; on 2 cores under load those compiles cost status about 1 s of CPU for queries
 * that last milliseconds, and Node waits at exit for the ones still running (0.2–0.4 s; measured with
 * bench/status.mjs). A higher tiering budget left that wait. V8's flags hold for the whole process, so only a CLI
 * command sets them, not the library.
 */
function compileWebAssemblyBaselineOnly(): void {
  v8.setFlagsFromString('--liftoff-only');
}

command('run', 'run every stage in order: (sample) → ingest → load → transform')
  .option('--full-refresh', FULL_REFRESH_HELP)
  .action(async (o: { fullRefresh?: boolean }, cmd: Command) => {
    await runPipeline(context(cmd), o.fullRefresh === true);
  });

command('start', 'what `npm start` does: run the pipeline on the sample data, then serve the dashboard')
  .option('--port <n>', 'the dashboard’s port, 0 for any free one (default: app.port in the config)', port)
  .action(async (o: { port?: number }, cmd: Command) => {
    const c = context(cmd);
    await runPipeline(c);
    if (!c.run.dryRun) await serve(c.resolved, o.port);
  });

command('serve', 'serve the dashboard on the Delta tables the pipeline wrote, without running it', [
  'config',
  'profile',
])
  .option('--port <n>', 'the dashboard’s port, 0 for any free one (default: app.port in the config)', port)
  .action(async (o: { port?: number }, cmd: Command) => {
    await serve(context(cmd).resolved, o.port);
  });

/** Serves the app until SIGINT/SIGTERM, then closes it gracefully (in-flight requests finish). */
async function serve(resolved: ResolvedConfig, port?: number): Promise<void> {
  const { serveApp } = await import('../../app/server.ts');
  const app = await serveApp({
    deltaRoot: configPath(resolved, resolved.profile.delta),
    manifestsDir: configPath(resolved, resolved.profile.manifests),
    port: port ?? resolved.config.app.port,
    freshness: resolved.config.app.freshness,
  });
  log.info(`\ndashboard: ${app.url}  (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      log.info('stopping the dashboard…');
      void app.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

program.addCommand(
  createTableCommand((cmd) => {
    // `schema.table` lives at <profile's delta folder>/<schema>/<table>.
    const options = globalOptions(cmd);
    const resolved = loadConfig(options.config, options.profile);
    return configPath(resolved, resolved.profile.delta);
  }),
);
program.addCommand(createRehearseCommand());

/**
 * `lakehouse run`: the preflight, then (sample) → ingest → load → transform, each stage's failure ending the run.
 * A dry run tells the transform whether the stages before it would change what it reads, so that it says "would
 * skip" only where a real run would skip.
 */
async function runPipeline({ resolved, datasets, run }: CliContext, fullRefresh = false): Promise<void> {
  log.info(`lakehouse run ${run.run.id}: profile ${resolved.profileName}${run.dryRun ? ' (dry run)' : ''}`);
  const [
    { preflight },
    { ensureSamples },
    { ingestPlan, runIngest },
    { loadPlan, runLoad },
    { openSqlStore },
  ] = await Promise.all([stages.preflight(), stages.samples(), stages.ingest(), stages.load(), stages.sql()]);
  await preflight(resolved, { stages: ['ingest', 'load', 'transform'], datasets, samples: true }, run);
  await ensureSamples(resolved, datasets, run);
  const ingested = finish(await runIngest(ingestPlan(resolved, datasets), run), log);
  const loaded = finish(await runLoad(loadPlan(resolved, datasets), run, openSqlStore), log);
  const uploads = ingested?.objects.filter((o) => o.status === 'planned').length ?? 0;
  const loads = loaded?.datasets.flatMap((d) => d.objects).filter((o) => o.status === 'planned').length ?? 0;
  if (run.dryRun && uploads > 0)
    log.info(
      `load (dry run): also the ${count(uploads, 'object')} that ingest would upload (not in the bucket yet)`,
    );
  const inputsWillChange = run.dryRun && (uploads > 0 || loads > 0 || loaded === undefined);
  // A full refresh always runs: it is asked for when the tables are not to be trusted.
  const transform = fullRefresh
    ? { params: { full_refresh: true } }
    : { skipUnchanged: true, inputsWillChange };
  finish(await runTransform(resolved, 'local', transform, run), log);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // The last words go on a line of their own, never after a progress line.
  clearStatusLine();
  for (const line of errorMessage(e).split('\n')) console.error(`lakehouse: ${line}`);
  if (process.env.LAKEHOUSE_DEBUG) console.error(errorDetails(e));
  process.exitCode = 1;
}
