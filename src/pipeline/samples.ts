// The local default's first run: a dataset whose source folder has no matching file gets its synthetic sample
// (lakehouse.yml `source.sample`), so that `npm start` needs no data of its own.
import fs from 'node:fs';
import { glob } from 'tinyglobby';
import { configPath, type ResolvedConfig } from '../config/load.ts';
import type { DatasetConfig } from '../config/schema.ts';
import { generateGroceries } from '../generate/groceries.ts';
import { count, formatNumber } from '../util/format.ts';
import type { RunContext } from './context.ts';

export async function ensureSamples(
  resolved: ResolvedConfig,
  datasets: DatasetConfig[],
  ctx: Pick<RunContext, 'log' | 'dryRun'>,
): Promise<void> {
  for (const dataset of datasets) {
    const sample = dataset.source.sample;
    const folder = configPath(resolved, dataset.source.path);
    if (!sample) continue;
    if (fs.existsSync(folder) && (await glob(dataset.source.glob, { cwd: folder })).length > 0) continue;
    ctx.log.info(
      `generate: no ${dataset.source.glob} in ${dataset.source.path}; writing a synthetic sample (${count(sample.rows, 'row')}, seed ${sample.seed})`,
    );
    if (ctx.dryRun) continue;
    const result = await generateGroceries({ rows: sample.rows, seed: sample.seed, outDir: folder });
    const dirty = Object.entries(result.dirty)
      .map(([kind, n]) => `${kind.replace('_', ' ')}: ${formatNumber(n)}`)
      .join(', ');
    ctx.log.info(
      `generate: ${count(result.files.length, 'file')}, ${count(result.lines, 'line')} (${dirty})`,
    );
  }
}
