// A throwaway project run stage by stage in this process, as `lakehouse run` runs it: the sample, ingest, load,
// transform on DuckDB. Used by the tests of bad rows, moved projects and killed runs.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, type ResolvedConfig } from '../../src/config/load.ts';
import { ingestPlan, runIngest } from '../../src/pipeline/ingest.ts';
import { loadPlan, runLoad } from '../../src/pipeline/load.ts';
import { ensureSamples } from '../../src/pipeline/samples.ts';
import { runLocalTransform } from '../../src/pipeline/transform-local.ts';
import { openSqlStore } from '../../src/sql/index.ts';
import { memoryLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { tempProject } from '../helpers/cli.ts';

export interface Project {
  dir: string;
  config: string;
  resolved(): ResolvedConfig;
  context(): Parameters<typeof runIngest>[1] & { log: ReturnType<typeof memoryLogger> };
  ingest(): ReturnType<typeof runIngest>;
  load(): ReturnType<typeof runLoad>;
  transform(): ReturnType<typeof runLocalTransform>;
}

/** A project of `rows` sample rows in `dir` (a new temp folder by default), with `edit` applied to its lakehouse.yml. */
export async function project(
  rows: number,
  options: { dir?: string; edit?: (yaml: string) => string } = {},
): Promise<Project> {
  const { dir, config } = await tempProject(rows, options.dir);
  if (options.edit) await fsp.writeFile(config, options.edit(await fsp.readFile(config, 'utf8')));
  return openProject(dir);
}

/** The project whose lakehouse.yml is in `dir`, as it is now (after a move, say). */
export function openProject(dir: string): Project {
  const config = path.join(dir, 'lakehouse.yml');
  const resolved = () => loadConfig(config);
  const context = () => ({ run: currentRun(), log: memoryLogger(), dryRun: false });
  return {
    dir,
    config,
    resolved,
    context,
    async ingest() {
      const r = resolved();
      const ctx = context();
      await ensureSamples(r, r.config.datasets, ctx);
      return runIngest(ingestPlan(r, r.config.datasets), ctx);
    },
    load: () => runLoad(loadPlan(resolved(), resolved().config.datasets), context(), openSqlStore),
    transform: () => runLocalTransform(resolved(), {}, context()),
  };
}

/** The latest committed version of a Delta table of the project, or -1 when it has none. */
export function tableVersion(p: Project, table: string): number {
  const log = path.join(p.dir, '.lakehouse/delta', ...table.split('.'), '_delta_log');
  if (!fs.existsSync(log)) return -1;
  const versions = fs
    .readdirSync(log)
    .filter((f) => /^\d{20}\.json$/.test(f))
    .map((f) => Number(f.slice(0, 20)));
  return Math.max(-1, ...versions);
}
