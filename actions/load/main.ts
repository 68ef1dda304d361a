// The load action: inputs → the load stage (src/stages/load.ts) → outputs, a job summary and a run manifest.
import * as core from '@actions/core';
import { openBucket } from '../../src/bucket/index.ts';
import { openNetworkStore } from '../../src/sql/network.ts';
import { load, type LoadManifest } from '../../src/stages/load.ts';
import { writeManifest } from '../../src/stages/manifest.ts';
import { errorMessage } from '../../src/util/log.ts';
import { progress } from '../../src/util/progress.ts';
import { currentRun } from '../../src/util/run.ts';
import { redact, registerSecret } from '../../src/util/secrets.ts';
import { connectionSecrets, planLoad, readInputs } from './inputs.ts';
import { actionLogger } from '../../src/github/action-inputs.ts';

const log = actionLogger;

async function run(): Promise<void> {
  const connection = core.getInput('connection');
  // Masked before anything else can print it: the whole string and the password inside it.
  for (const secret of connectionSecrets(connection)) {
    core.setSecret(secret);
    registerSecret(secret);
  }
  const inputs = readInputs((name) => core.getInput(name));
  const plan = await planLoad(inputs);
  const bucket = await openBucket(plan.bucketUri, plan.resolved.root);
  const session = await openNetworkStore(plan.target, {
    batchRows: plan.batchRows,
    retry: { onRetry: (message) => log.warn(message) },
  });
  let manifest: LoadManifest;
  try {
    manifest = await load({
      session,
      bucket,
      datasets: plan.datasets,
      destination: plan.resolved.config.ingest.destination,
      run: currentRun(),
      objects: plan.objects,
      dryRun: inputs.dryRun,
      log,
      progress: progress('load'),
    });
  } finally {
    await session.close();
  }
  const manifestPath = inputs.dryRun ? '' : await writeManifest(plan.manifests, manifest);
  const t = manifest.totals;
  core.setOutput('rows-loaded', t.rowsLoaded);
  core.setOutput('rows-quarantined', t.rowsQuarantined);
  core.setOutput('objects-loaded', t.loaded);
  core.setOutput('objects-skipped', t.skipped);
  core.setOutput('objects-failed', t.failed);
  core.setOutput('manifest', manifestPath);
  await writeSummary(manifest, manifestPath);
  if (t.failed) {
    const failures = manifest.datasets.flatMap((d) => d.objects).filter((o) => o.status === 'failed');
    core.setFailed(
      redact(
        `load failed: ${t.failed} object(s) failed and were rolled back (the next run loads them): ${failures.map((o) => `${o.name}: ${o.reason}`).join('; ')}`,
      ),
    );
  }
}

async function writeSummary(manifest: LoadManifest, manifestPath: string): Promise<void> {
  const t = manifest.totals;
  const header = [
    'dataset',
    'table',
    'mode',
    'objects',
    'loaded',
    'skipped',
    'failed',
    'rows in',
    'rows loaded',
    'rows quarantined',
    'rows replaced',
  ].map((data) => ({ data, header: true }));
  const rows = manifest.datasets.map((d) =>
    [
      d.dataset,
      d.table,
      d.mode,
      d.totals.objects,
      d.totals.loaded,
      d.totals.skipped,
      d.totals.failed,
      d.totals.rowsIn,
      d.totals.rowsLoaded,
      d.totals.rowsQuarantined,
      d.totals.rowsReplaced,
    ].map(String),
  );
  const objects = manifest.datasets.flatMap((d) =>
    d.objects.map((o) => [
      o.name,
      o.status,
      String(o.rowsIn),
      String(o.rowsLoaded),
      String(o.rowsQuarantined),
      problems(o.problems),
      o.reason,
    ]),
  );
  const summary = core.summary
    .addHeading(`Load${manifest.dryRun ? ' (dry run: nothing written)' : ''}`, 2)
    .addRaw(redact(`Target: ${manifest.target}. Bucket: ${manifest.bucket}. Run: ${manifest.runId}.`), true)
    .addTable([header, ...rows]);
  if (!manifest.dryRun)
    summary.addRaw(
      `Rows in = rows loaded + rows quarantined: ${t.rowsIn} = ${t.rowsLoaded} + ${t.rowsQuarantined}.`,
      true,
    );
  if (objects.length)
    summary.addTable([
      ['object', 'status', 'rows in', 'loaded', 'quarantined', 'problems', 'reason'].map((data) => ({
        data,
        header: true,
      })),
      ...objects.map((row) => row.map(redact)),
    ]);
  if (manifestPath) summary.addRaw(`Manifest: ${manifestPath}`, true);
  await summary.write();
}

function problems(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([kind, n]) => `${kind}: ${n}`)
    .join(', ');
}

run().catch((e: unknown) => core.setFailed(`load failed: ${errorMessage(e)}`));
