// The load action: its inputs (./inputs.ts) → the load run of src/pipeline → outputs and a job summary. All the
// work is in src/; index.ts calls run(), and so can a test or `npx @github/local-action`.
import * as core from '@actions/core';
import { actionLogger } from '../../src/github/action-inputs.ts';
import { maskSecret, runAction, writeJobSummary } from '../../src/github/action-report.ts';
import { runLoad, type StoreOpener } from '../../src/pipeline/load.ts';
import { openNetworkStore, type NetworkTarget } from '../../src/sql/network.ts';
import type { LoadManifest } from '../../src/stages/load.ts';
import { progress } from '../../src/util/progress.ts';
import { currentRun } from '../../src/util/run.ts';
import { connectionSecrets, planLoad, readInputs } from './inputs.ts';

// The plan holds only network targets (planLoad refuses PGlite), and this bundle only their drivers.
const openStore: StoreOpener = (target, _root, options) => openNetworkStore(target as NetworkTarget, options);

export async function run(): Promise<void> {
  await runAction('load', async () => {
    // Masked before anything else can print it: the whole string and the password inside it.
    for (const secret of connectionSecrets(core.getInput('connection'))) maskSecret(secret);
    const inputs = readInputs((name) => core.getInput(name));
    const plan = await planLoad(inputs);
    const ctx = { run: currentRun(), log: actionLogger, dryRun: inputs.dryRun, progress };
    const outcome = await runLoad(plan, ctx, openStore);
    setOutputs(outcome.result!, outcome.manifestPath ?? '');
    await writeJobSummary(outcome);
    return outcome.verdict;
  });
}

function setOutputs(manifest: LoadManifest, manifestPath: string): void {
  const t = manifest.totals;
  core.setOutput('rows-loaded', t.rowsLoaded);
  core.setOutput('rows-quarantined', t.rowsQuarantined);
  core.setOutput('objects-loaded', t.loaded);
  core.setOutput('objects-skipped', t.skipped);
  core.setOutput('objects-failed', t.failed);
  core.setOutput('objects-withdrawn', t.withdrawn);
  core.setOutput('rows-replaced', t.rowsReplaced);
  // What a workflow gates the transform on: a dry run changes nothing.
  core.setOutput('changed', !manifest.dryRun && t.loaded + t.withdrawn > 0);
  core.setOutput('manifest', manifestPath);
}
