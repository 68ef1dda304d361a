// What every stage's run shares: the context it runs in (who runs it, where it logs, whether to change anything),
// the datasets a command selected from lakehouse.yml, and the rule for writing a run manifest.
import { findDataset, type ResolvedConfig } from '../config/load.ts';
import type { DatasetConfig } from '../config/schema.ts';
import { writeManifest, type Manifest } from '../stages/manifest.ts';
import type { Logger } from '../util/log.ts';
import type { Progress } from '../util/progress.ts';
import type { RunInfo } from '../util/run.ts';

export interface RunContext {
  run: RunInfo;
  log: Logger;
  dryRun: boolean;
  /** Progress lines for long work (the CLI's; an action may leave them out). */
  progress?: (label: string) => Progress;
  /** Masks a secret learnt while running (an OAuth token) wherever the output goes, e.g. core.setSecret. */
  onSecret?: (value: string) => void;
  /** Write the manifest of a dry run too: in a workflow, the next job's dry run reads the plan from it. */
  dryRunManifest?: boolean;
}

/** The named datasets of lakehouse.yml (all of them when none is named); an unknown name is an error. */
export function selectDatasets(resolved: ResolvedConfig, names: readonly string[] = []): DatasetConfig[] {
  const { config } = resolved;
  return names.length ? names.map((name) => findDataset(config, name)) : config.datasets;
}

/** Writes the run manifest, except on a dry run that no later job reads; returns its path. */
export async function recordManifest(
  folder: string,
  manifest: Manifest,
  ctx: RunContext,
): Promise<string | undefined> {
  if (ctx.dryRun && !ctx.dryRunManifest) return undefined;
  return writeManifest(folder, manifest);
}
