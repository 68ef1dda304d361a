// The ingest action: reads its inputs, checks them before anything is uploaded, runs the ingest stage of the
// library, and reports through outputs, a job summary and the run manifest. All the work is in src/.
import fs from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { openBucket, parseGcsUri, type GcsBucketOptions } from '../../src/bucket/index.ts';
import {
  actionLogger,
  booleanInput,
  inputReader,
  positiveInput,
  wholeNumberInput,
} from '../../src/github/action-inputs.ts';
import { checkDestination, ingest, type IngestManifest } from '../../src/stages/ingest.ts';
import { writeManifest } from '../../src/stages/manifest.ts';
import { errorMessage } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';
import { redact, registerSecret } from '../../src/util/secrets.ts';
import { formatBytes, markdownTable } from '../../src/util/table.ts';

interface Inputs {
  path: string;
  glob: string;
  bucket: string;
  destination: string;
  dataset: string;
  concurrency: number;
  gzip: boolean;
  resumableThresholdMB: number;
  skipUnchanged: boolean;
  dryRun: boolean;
  manifestDir: string;
  maxAttempts: number;
  credentials?: Record<string, unknown>;
  projectId?: string;
}

/** Summary rows per object, beyond which the summary only counts. */
const SUMMARY_OBJECT_ROWS = 50;

/** Reads and checks every input; a mistake names the input, what was expected and what was found. */
function readInputs(): Inputs {
  const text = inputReader();
  const folder = core.getInput('path', { required: true });
  const resolved = path.resolve(folder);
  const stats = fs.statSync(resolved, { throwIfNoEntry: false });
  if (!stats?.isDirectory())
    throw new Error(
      `input path: expected a folder, found ${stats ? 'a file' : 'nothing'} at ${JSON.stringify(folder)} (${resolved})`,
    );

  const credentialsJson = core.getInput('credentials-json');
  const credentials = credentialsJson ? parseCredentials(credentialsJson) : undefined;

  const destination = core.getInput('destination') || '{dataset}/{file}';
  checkDestination(destination);
  const dataset = core.getInput('dataset') || 'raw';
  if (!/^[A-Za-z0-9_.-]+$/.test(dataset) || dataset === '.' || dataset === '..')
    throw new Error(
      `input dataset: expected letters, digits, "_", "-" and "." (one object name segment), found ${JSON.stringify(dataset)}`,
    );

  const projectId = core.getInput('project-id');
  return {
    path: folder,
    glob: core.getInput('glob') || '**/*',
    bucket: bucketUri(core.getInput('bucket', { required: true })),
    destination,
    dataset,
    concurrency: wholeNumberInput(text, 'concurrency', 8, 1, 64),
    gzip: booleanInput(text, 'gzip', false),
    resumableThresholdMB: positiveInput(text, 'resumable-threshold-mb') ?? 8,
    skipUnchanged: booleanInput(text, 'skip-unchanged', true),
    dryRun: booleanInput(text, 'dry-run', false),
    manifestDir: core.getInput('manifest-dir') || '.lakehouse/manifests',
    maxAttempts: wholeNumberInput(text, 'max-attempts', 8, 1, 20),
    ...(credentials ? { credentials } : {}),
    ...(projectId ? { projectId } : {}),
  };
}

async function run(): Promise<void> {
  try {
    const inputs = readInputs();
    const log = actionLogger;
    const gcs: GcsBucketOptions = {
      resumableThreshold: Math.round(inputs.resumableThresholdMB * 1024 * 1024),
      retry: { maxAttempts: inputs.maxAttempts },
      log,
      ...(inputs.credentials ? { credentials: inputs.credentials } : {}),
      ...(inputs.projectId ? { projectId: inputs.projectId } : {}),
    };
    const bucket = await openBucket(inputs.bucket, process.cwd(), gcs);
    const manifest = await ingest({
      sources: [{ dataset: inputs.dataset, path: inputs.path, glob: inputs.glob }],
      bucket,
      destination: inputs.destination,
      run: currentRun(),
      concurrency: inputs.concurrency,
      gzip: inputs.gzip,
      skipUnchanged: inputs.skipUnchanged,
      dryRun: inputs.dryRun,
      log,
    });
    const manifestPath = await writeManifest(inputs.manifestDir, manifest);
    setOutputs(manifest, manifestPath);
    await writeSummary(manifest, manifestPath);

    const { conflicts, failed } = manifest.totals;
    if (conflicts + failed > 0) {
      const first = manifest.objects.find((o) => o.status === 'conflict' || o.status === 'failed')!;
      core.setFailed(
        `ingest failed: ${conflicts} conflict(s) and ${failed} failed upload(s) of ${manifest.totals.files} file(s); first: ${first.name}: ${first.reason}`,
      );
    }
  } catch (e) {
    core.setFailed(`ingest failed: ${errorMessage(e)}`);
  }
}

function bucketUri(value: string): string {
  // A bare bucket name means gs://<name>; file:// folders are accepted for runs without a cloud account.
  const uri = value.includes('://') ? value : `gs://${value}`;
  if (uri.startsWith('gs://')) {
    try {
      parseGcsUri(uri);
    } catch (e) {
      throw new Error(`input bucket: ${errorMessage(e)}`, { cause: e });
    }
  } else if (!uri.startsWith('file://'))
    throw new Error(
      `input bucket: expected gs://<bucket>[/<prefix>] or file://<folder>, found ${JSON.stringify(value)}`,
    );
  return uri;
}

function parseCredentials(json: string): Record<string, unknown> {
  // Masked before anything else can print it.
  core.setSecret(json);
  registerSecret(json);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(
      'input credentials-json: expected a service account key in JSON, found text that is not JSON',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('input credentials-json: expected a JSON object (a service account key)');
  const key = parsed as Record<string, unknown>;
  for (const field of ['private_key', 'private_key_id'])
    if (typeof key[field] === 'string') {
      for (const line of String(key[field]).split('\n'))
        if (line.trim().length >= 8) core.setSecret(line.trim());
      registerSecret(String(key[field]));
    }
  if (key.type !== 'service_account' && key.type !== 'external_account')
    throw new Error(
      `input credentials-json: expected "type": "service_account" or "external_account", found ${JSON.stringify(key.type ?? null)}`,
    );
  return key;
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

async function writeSummary(manifest: IngestManifest, manifestPath: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return; // not on a runner
  const t = manifest.totals;
  const seconds = (Date.parse(manifest.finishedAt) - Date.parse(manifest.startedAt)) / 1000;
  const totals = markdownTable([
    {
      files: t.files,
      uploaded: t.uploaded,
      skipped: t.skipped,
      conflicts: t.conflicts,
      failed: t.failed,
      ...(manifest.dryRun ? { planned: manifest.objects.filter((o) => o.status === 'planned').length } : {}),
      uploaded_bytes: formatBytes(t.bytes),
      seconds: seconds.toFixed(1),
      throughput: seconds > 0 ? `${formatBytes(Math.round(t.bytes / seconds))}/s` : '',
    },
  ]);
  // Problems first, then what changed; unchanged files only as a count.
  const order = { conflict: 0, failed: 1, uploaded: 2, planned: 3, skipped: 4 } as const;
  const shown = manifest.objects
    .filter((o) => o.status !== 'skipped')
    .sort((a, b) => order[a.status] - order[b.status] || a.name.localeCompare(b.name));
  const rows = shown.slice(0, SUMMARY_OBJECT_ROWS).map((o) => ({
    status: o.status,
    object: o.name,
    size: formatBytes(o.size),
    generation: o.generation ?? '',
    reason: o.reason,
  }));
  core.summary
    .addHeading(`Ingest → ${manifest.bucket}${manifest.dryRun ? ' (dry run)' : ''}`, 2)
    .addRaw(redact(totals), true)
    .addRaw('', true);
  if (rows.length) {
    core.summary.addRaw(redact(markdownTable(rows)), true);
    if (shown.length > rows.length)
      core.summary.addRaw(`\n…and ${shown.length - rows.length} more; see the manifest.`, true);
  } else core.summary.addRaw('Nothing to upload: every file matches its object.', true);
  await core.summary.addRaw(`\nManifest: \`${manifestPath}\`, run \`${manifest.runId}\``, true).write();
}

await run();
