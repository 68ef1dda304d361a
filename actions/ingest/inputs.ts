// The ingest action's inputs: read and checked before anything is uploaded (a mistake names the input, what was
// expected and what was found), and turned into the ingest plan. With lakehouse.yml (the config input), the plan is
// the one the CLI runs: each dataset's source folder and glob, the profile's bucket and ingest.destination, so
// that the load job finds the objects by the same names; an input given overrides its part. Without lakehouse.yml,
// the inputs alone say everything, with path and bucket required.
import fs from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { parseGcsUri } from '../../src/bucket/index.ts';
import { loadConfig } from '../../src/config/load.ts';
import { ingestSettings } from '../../src/config/schema.ts';
import {
  booleanInput,
  configFile,
  inputReader,
  listOf,
  positiveInput,
  wholeNumberInput,
} from '../../src/github/action-inputs.ts';
import { maskSecret } from '../../src/github/action-report.ts';
import { selectDatasets } from '../../src/pipeline/context.ts';
import { ingestPlan, type IngestPlan } from '../../src/pipeline/ingest.ts';
import { checkDestination } from '../../src/stages/ingest.ts';
import { errorMessage } from '../../src/util/log.ts';
import { registerSecret } from '../../src/util/secrets.ts';

export interface IngestInputs {
  /** lakehouse.yml, unless the default is absent. */
  config?: string;
  profile?: string;
  path?: string;
  glob?: string;
  bucket?: string;
  destination?: string;
  datasets: string[];
  concurrency?: number;
  gzip?: boolean;
  resumableThresholdMB?: number;
  skipUnchanged?: boolean;
  dryRun: boolean;
  manifestDir?: string;
  maxAttempts: number;
  credentials?: Record<string, unknown>;
  projectId?: string;
}

export function readInputs(): IngestInputs {
  const text = inputReader();
  const credentialsJson = core.getInput('credentials-json');
  // Parsed (and so masked) before anything else can print it.
  const credentials = credentialsJson ? parseCredentials(credentialsJson) : undefined;
  const config = configFile(core.getInput('config'));
  const folder = core.getInput('path') || undefined;
  if (!config && !folder)
    throw new Error(
      `Input required and not supplied: path (or a lakehouse.yml naming each dataset's source folder; there is none at ${path.resolve('lakehouse.yml')})`,
    );
  if (folder) checkFolder(folder);
  const bucket = core.getInput('bucket', { required: !config }) || undefined;
  const destination = core.getInput('destination') || undefined;
  if (destination) checkDestination(destination);
  const datasets = listOf(core.getInput('dataset')) ?? [];
  if (!config) checkDatasetName(datasets);
  return {
    config,
    profile: core.getInput('profile') || undefined,
    path: folder,
    glob: core.getInput('glob') || undefined,
    bucket: bucket && bucketUri(bucket),
    destination,
    datasets,
    concurrency: wholeNumberInput(text, 'concurrency', undefined, 1, 64),
    gzip: booleanInput(text, 'gzip'),
    resumableThresholdMB: positiveInput(text, 'resumable-threshold-mb'),
    skipUnchanged: booleanInput(text, 'skip-unchanged'),
    dryRun: booleanInput(text, 'dry-run', false),
    manifestDir: core.getInput('manifest-dir') || undefined,
    maxAttempts: wholeNumberInput(text, 'max-attempts', 8, 1, 20),
    ...(credentials ? { credentials } : {}),
    ...(core.getInput('project-id') ? { projectId: core.getInput('project-id') } : {}),
  };
}

/** lakehouse.yml's plan with the inputs given over it; without lakehouse.yml, the inputs' own. */
export function planIngest(inputs: IngestInputs): IngestPlan {
  const base = inputs.config ? configPlan(inputs, inputs.config) : inputsPlan(inputs);
  const { settings } = base;
  return {
    ...base,
    sources: base.sources.map((s) => ({ ...s, path: inputs.path ?? s.path, glob: inputs.glob ?? s.glob })),
    // A file:// bucket input is relative to lakehouse.yml's folder, as the profile's and the load action's are.
    ...(inputs.bucket ? { bucket: inputs.bucket } : {}),
    destination: inputs.destination ?? base.destination,
    settings: {
      concurrency: inputs.concurrency ?? settings.concurrency,
      gzip: inputs.gzip ?? settings.gzip,
      resumableThresholdMB: inputs.resumableThresholdMB ?? settings.resumableThresholdMB,
      skipUnchanged: inputs.skipUnchanged ?? settings.skipUnchanged,
      deleteMissing: settings.deleteMissing,
    },
    gcs: {
      retry: { maxAttempts: inputs.maxAttempts },
      ...(inputs.credentials ? { credentials: inputs.credentials } : {}),
      ...(inputs.projectId ? { projectId: inputs.projectId } : {}),
    },
    manifests: inputs.manifestDir ?? base.manifests,
  };
}

function configPlan(inputs: IngestInputs, file: string): IngestPlan {
  // Only the bucket's ${env:…} is needed here, and not even that when the bucket input replaces it.
  const resolved = loadConfig(file, inputs.profile, { resolve: inputs.bucket ? [] : ['bucket'] });
  const datasets = selectDatasets(resolved, inputs.datasets);
  if (inputs.path && datasets.length !== 1)
    throw new Error(
      `input path: expected one dataset to take the files of (the dataset input), found ${datasets.length} in ${file}: ${datasets.map((d) => d.name).join(', ')}`,
    );
  return ingestPlan(resolved, datasets);
}

function inputsPlan(inputs: IngestInputs): IngestPlan {
  const { destination, ...settings } = ingestSettings.parse(undefined);
  return {
    sources: [{ dataset: inputs.datasets[0] ?? 'raw', path: inputs.path!, glob: '**/*' }],
    bucket: inputs.bucket!,
    root: process.cwd(),
    destination,
    settings,
    manifests: '.lakehouse/manifests',
  };
}

function checkFolder(folder: string): void {
  const resolved = path.resolve(folder);
  const stats = fs.statSync(resolved, { throwIfNoEntry: false });
  if (!stats?.isDirectory())
    throw new Error(
      `input path: expected a folder, found ${stats ? 'a file' : 'nothing'} at ${JSON.stringify(folder)} (${resolved})`,
    );
}

/** Without lakehouse.yml the dataset is only a name for {dataset}: one object name segment. */
function checkDatasetName(datasets: string[]): void {
  const dataset = datasets.join(',');
  if (datasets.length && (!/^[A-Za-z0-9_.-]+$/.test(dataset) || dataset === '.' || dataset === '..'))
    throw new Error(
      `input dataset: expected letters, digits, "_", "-" and "." (one object name segment), found ${JSON.stringify(dataset)}`,
    );
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
  maskSecret(json);
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
      // The runner masks line by line: each line of a PEM key on its own.
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
