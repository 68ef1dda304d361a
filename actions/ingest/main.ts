// The ingest action: its inputs (./inputs.ts) → the ingest run of src/pipeline → outputs and a job summary. All the
// work is in src/; index.ts calls run(), and so can a test or `npx @github/local-action`.
import * as core from '@actions/core';
import { actionLogger } from '../../src/github/action-inputs.ts';
import { runAction, writeJobSummary } from '../../src/github/action-report.ts';
import { runIngest } from '../../src/pipeline/ingest.ts';
import type { IngestManifest } from '../../src/stages/ingest.ts';
import { currentRun } from '../../src/util/run.ts';
import { planIngest, readInputs } from './inputs.ts';

export async function run(): Promise<void> {
  await runAction('ingest', async () => {
    const inputs = readInputs();
    const outcome = await runIngest(planIngest(inputs), {
      run: currentRun(),
      log: actionLogger,
      dryRun: inputs.dryRun,
      // The load job's dry run reads the plan from it.
      dryRunManifest: true,
    });
    setOutputs(outcome.result!, outcome.manifestPath ?? '');
    // Markdown tables: compact for a long listing of objects.
    await writeJobSummary(outcome, { markdown: true });
    return outcome.verdict;
  });
}

function setOutputs(manifest: IngestManifest, manifestPath: string): void {
  const t = manifest.totals;
  core.setOutput('uploaded', t.uploaded);
  core.setOutput('skipped', t.skipped);
  core.setOutput('conflicts', t.conflicts);
  core.setOutput('failed', t.failed);
  core.setOutput('planned', manifest.objects.filter((o) => o.status === 'planned').length);
  core.setOutput('bytes', t.bytes);
  core.setOutput('manifest', manifestPath);
  core.setOutput(
    'uploaded-objects',
    JSON.stringify(
      manifest.objects.filter((o) => o.status === 'uploaded').map((o) => `${manifest.bucket}/${o.name}`),
    ),
  );
}
