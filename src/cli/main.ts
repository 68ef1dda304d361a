// The `lakehouse` command: each subcommand loads lakehouse.yml (with --config/--profile), asks src/pipeline to run
// its stage, and prints the outcome (./report.ts). Any error ends the process with a readable message and exit 1.
import path from 'node:path';
import { Command, Option } from 'commander';
import {
  ConfigError,
  configPath,
  loadConfig,
  type LoadOptions,
  type ResolvedConfig,
} from '../config/load.ts';
import type { DatasetConfig } from '../config/schema.ts';
import { generateGroceries } from '../generate/groceries.ts';
import { selectDatasets, type RunContext } from '../pipeline/context.ts';
import { deployPlan, runDeploy } from '../pipeline/deploy.ts';
import { ingestPlan, runIngest } from '../pipeline/ingest.ts';
import { loadPlan, runLoad } from '../pipeline/load.ts';
import { ensureSamples } from '../pipeline/samples.ts';
import { storeStatus } from '../pipeline/status.ts';
import { runTransform, transformEngines, type TransformEngineName } from '../pipeline/transform.ts';
import { openSqlStore } from '../sql/index.ts';
import { consoleLogger, errorMessage } from '../util/log.ts';
import { progress } from '../util/progress.ts';
import { currentRun } from '../util/run.ts';
import { finish } from './report.ts';
import { createTableCommand } from './table.ts';

interface GlobalOptions {
  config: string;
  profile?: string;
  dryRun: boolean;
  dataset: string[];
}

const program = new Command('lakehouse')
  .description('A GitHub-Actions-native data pipeline: files → bucket → SQL store → Delta tables → app')
  .option('-c, --config <file>', 'the config file', 'lakehouse.yml')
  .option(
    '-p, --profile <name>',
    'the profile in the config (default: its defaultProfile, or $LAKEHOUSE_PROFILE)',
  )
  .option('-n, --dry-run', 'print the plan and change nothing', false)
  .addOption(
    new Option('-d, --dataset <name>', 'only this dataset (repeatable)')
      .argParser((v: string, previous: string[] = []) => [...previous, v])
      .default([]),
  )
  .showHelpAfterError();

/** What every stage command works with: the config, the datasets chosen with --dataset, and the run context. */
interface CliContext {
  resolved: ResolvedConfig;
  datasets: DatasetConfig[];
  run: RunContext;
}

function context(command: Command, loadOptions?: LoadOptions): CliContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  const resolved = loadConfig(options.config, options.profile, loadOptions);
  return {
    resolved,
    datasets: selectDatasets(resolved, options.dataset),
    run: { run: currentRun(), log: consoleLogger, dryRun: options.dryRun, progress },
  };
}

const log = consoleLogger;

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
      const result = await generateGroceries({
        rows: o.rows,
        seed: o.seed,
        outDir: o.out,
        dirtyShare: o.dirty,
        split: o.split,
      });
      console.log(
        `wrote ${result.lines.toLocaleString('en-US')} lines (${result.baskets.toLocaleString('en-US')} baskets) to ${result.files.length} file(s) in ${path.resolve(o.out)}; dirty: ${JSON.stringify(result.dirty)}`,
      );
    },
  );

program
  .command('ingest')
  .description('upload the datasets’ source files to the bucket (unchanged files are skipped)')
  .action(async (_o, command: Command) => {
    const c = context(command);
    finish(await runIngest(ingestPlan(c.resolved, c.datasets), c.run), log);
  });

program
  .command('load')
  .description('load bucket objects into the SQL store, each exactly once')
  .action(async (_o, command: Command) => {
    const c = context(command);
    finish(await runLoad(loadPlan(c.resolved, c.datasets), c.run, openSqlStore), log);
  });

program
  .command('transform')
  .description(
    'run the notebooks on DuckDB, writing Delta tables (each write a new table version), or on Databricks',
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
  .action(
    async (
      o: {
        notebook: string[];
        param: Record<string, string>;
        on: TransformEngineName;
        master?: string;
        timeoutMinutes?: number;
        pollSeconds?: number;
      },
      command: Command,
    ) => {
      // An engine that names the profile sections it needs gets only their secrets, and a dry run, which sends
      // nothing, none.
      const needs: LoadOptions['resolve'] = transformEngines[o.on].resolve;
      const dryRun = command.optsWithGlobals<GlobalOptions>().dryRun;
      const c = context(command, needs && { resolve: dryRun ? [] : needs });
      const request = {
        notebooks: o.notebook,
        params: o.param,
        master: o.master,
        timeoutMinutes: o.timeoutMinutes,
        pollMs: o.pollSeconds === undefined ? undefined : o.pollSeconds * 1000,
      };
      finish(await runTransform(c.resolved, o.on, request, c.run), log);
    },
  );

program
  .command('deploy')
  .description('deploy the app to the profile’s Render service and follow it until it is live')
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
      command: Command,
    ) => {
      // Only the render section's secrets are needed here, and a dry run, which sends nothing, needs none.
      const dryRun = command.optsWithGlobals<GlobalOptions>().dryRun;
      const c = context(command, { resolve: dryRun ? [] : ['render'] });
      finish(await runDeploy(deployPlan(c.resolved, o, dryRun), c.run), log);
    },
  );

program
  .command('status')
  .description('what is in the bucket, what is loaded, and what is waiting')
  .action(async (_o, command: Command) => {
    const c = context(command);
    finish(await storeStatus(c.resolved, c.datasets, log), log);
  });

program
  .command('run')
  .description('run every stage in order: (sample) → ingest → load → transform')
  .action(async (_o, command: Command) => {
    await runPipeline(context(command));
  });

program
  .command('start')
  .description('what `npm start` does: run the pipeline on the sample data, then serve the dashboard')
  .option('--port <n>', 'the dashboard’s port, 0 for any free one (default: app.port in the config)', port)
  .action(async (o: { port?: number }, command: Command) => {
    const c = context(command);
    await runPipeline(c);
    if (!c.run.dryRun) await serve(c.resolved, o.port);
  });

program
  .command('serve')
  .description('serve the dashboard on the Delta tables the pipeline wrote, without running it')
  .option('--port <n>', 'the dashboard’s port, 0 for any free one (default: app.port in the config)', port)
  .action(async (o: { port?: number }, command: Command) => {
    await serve(context(command).resolved, o.port);
  });

/** Serves the app until SIGINT/SIGTERM, then closes it gracefully (in-flight requests finish). */
async function serve(resolved: ResolvedConfig, port?: number): Promise<void> {
  const { serveApp } = await import('../../app/server.ts');
  const app = await serveApp({
    deltaRoot: configPath(resolved, resolved.profile.delta),
    manifestsDir: configPath(resolved, resolved.profile.manifests),
    port: port ?? resolved.config.app.port,
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
  createTableCommand((name) => {
    // `schema.table` lives at <profile's delta folder>/<schema>/<table>.
    const options = program.opts<GlobalOptions>();
    const resolved = loadConfig(options.config, options.profile);
    return path.join(configPath(resolved, resolved.profile.delta), ...name.split('.'));
  }),
);

/** `lakehouse run`: (sample) → ingest → load → transform, each stage's failure ending the run. */
async function runPipeline({ resolved, datasets, run }: CliContext): Promise<void> {
  log.info(`lakehouse run ${run.run.id}: profile ${resolved.profileName}${run.dryRun ? ' (dry run)' : ''}`);
  await ensureSamples(resolved, datasets, run);
  finish(await runIngest(ingestPlan(resolved, datasets), run), log);
  finish(await runLoad(loadPlan(resolved, datasets), run, openSqlStore), log);
  finish(await runTransform(resolved, 'local', { skipUnchanged: true }, run), log);
}

function keyValue(v: string, previous: Record<string, string> = {}): Record<string, string> {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(v);
  if (!match) throw new ConfigError(`--param: expected name=value, found ${JSON.stringify(v)}`);
  return { ...previous, [match[1]!]: match[2]! };
}

/** A numeric option parser that names the option and what it expects. */
function numberOption(name: string, expected: string, valid: (n: number) => boolean) {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !valid(n))
      throw new ConfigError(`${name}: expected ${expected}, found ${JSON.stringify(v)}`);
    return n;
  };
}

function positiveNumber(name: string) {
  return numberOption(name, 'a positive number', (n) => Number.isFinite(n) && n > 0);
}
function positiveInt(name: string) {
  return numberOption(name, 'a positive whole number', (n) => Number.isInteger(n) && n > 0);
}
function port(v: string) {
  return numberOption(
    '--port',
    'a port number from 0 to 65535',
    (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
  )(v);
}
function integer(name: string) {
  return numberOption(name, 'a whole number', Number.isInteger);
}
function share(name: string) {
  return numberOption(name, 'a number from 0 to 1', (n) => n >= 0 && n <= 1);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`lakehouse: ${errorMessage(e)}`);
  if (process.env.LAKEHOUSE_DEBUG && e instanceof Error) console.error(e.stack);
  process.exitCode = 1;
}
