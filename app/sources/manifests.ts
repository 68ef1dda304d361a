// The last pipeline run, as the stages' run manifests (`<stage>-latest.json`) describe it.
import { readLatestManifest } from '../../src/stages/manifest.ts';
import type { RunSummary } from '../source.ts';

const STAGES = ['ingest', 'load', 'transform'] as const;

export async function readRunSummary(manifestsDir: string | undefined): Promise<RunSummary | null> {
  if (!manifestsDir) return null;
  const stages: RunSummary['stages'] = [];
  for (const stage of STAGES) {
    const manifest = await readLatestManifest(manifestsDir, stage);
    if (!manifest || manifest.dryRun) continue;
    stages.push({
      stage,
      runId: manifest.runId,
      startedAt: manifest.startedAt,
      finishedAt: manifest.finishedAt,
    });
  }
  return stages.length ? { stages } : null;
}
