// Ingest: local files → bucket objects. Unchanged objects (same MD5) are skipped, and every write carries a
// generation precondition, so a run never clobbers an object that someone else changed since it was listed. An
// object that ingest uploaded from a file that is gone since is reported, and deleted with `deleteMissing` (the
// load then withdraws its rows).
import fs from 'node:fs';
import path from 'node:path';
import fsp from 'node:fs/promises';
import { glob } from 'tinyglobby';
import { checkObjectName, PreconditionFailedError, type Bucket, type BucketObject } from '../bucket/types.ts';
import { digestFile } from '../bucket/file.ts';
import { mapLimit } from '../util/concurrency.ts';
import { consoleLogger, errorMessage, type Logger } from '../util/log.ts';
import { noProgress, type Progress } from '../util/progress.ts';
import { count, formatBytes } from '../util/format.ts';
import type { RunInfo } from '../util/run.ts';
import type { Manifest } from './manifest.ts';

export const PLACEHOLDERS = ['dataset', 'date', 'file', 'run_id', 'sha'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

export interface IngestSource {
  dataset: string;
  /** Folder the glob is relative to. */
  path: string;
  glob: string;
}

export interface IngestOptions {
  sources: IngestSource[];
  bucket: Bucket;
  /** Object name template, e.g. `{dataset}/{file}`. */
  destination: string;
  run: RunInfo;
  concurrency?: number;
  gzip?: boolean;
  skipUnchanged?: boolean;
  /** Delete the objects whose source file is gone (else they are only reported). */
  deleteMissing?: boolean;
  dryRun?: boolean;
  log?: Logger;
  progress?: Progress;
}

/** `missing`: the object's source file is gone (the object is kept); `deleted`: and the object was deleted. */
export type ObjectStatus = 'uploaded' | 'skipped' | 'conflict' | 'failed' | 'planned' | 'missing' | 'deleted';

export interface IngestedObject {
  dataset: string;
  /** The local file, relative to its source folder. */
  file: string;
  name: string;
  status: ObjectStatus;
  reason: string;
  size: number;
  /** Of the local file (base64, as GCS reports MD5s). */
  md5: string;
  /** Of the local file (hex); also stored on the object as metadata `source-sha256`. */
  sha256: string;
  generation?: string;
}

export interface IngestManifest extends Manifest {
  stage: 'ingest';
  bucket: string;
  destination: string;
  objects: IngestedObject[];
  totals: {
    files: number;
    uploaded: number;
    skipped: number;
    conflicts: number;
    failed: number;
    /** Objects whose source file is gone: kept, or deleted (ingest.deleteMissing). */
    missing: number;
    deleted: number;
    bytes: number;
  };
}

/** Checks a destination template before anything is read or uploaded. */
export function checkDestination(template: string): void {
  for (const [, name] of template.matchAll(/\{([^}]*)\}/g))
    if (!PLACEHOLDERS.includes(name as Placeholder))
      throw new Error(
        `destination template ${JSON.stringify(template)}: unknown placeholder {${name}} (expected ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`,
      );
  if (/[{}]/.test(template.replace(/\{[a-z_]+\}/g, '')))
    throw new Error(`destination template ${JSON.stringify(template)}: unbalanced { or }`);
}

export function renderDestination(template: string, values: Record<Placeholder, string>): string {
  const name = template.replace(/\{([a-z_]+)\}/g, (_, p: Placeholder) => values[p]);
  return checkObjectName(name);
}

/** The static part of the destination template for a dataset: `{dataset}/{file}` → `transactions/`. */
export function datasetPrefix(destination: string, dataset: string): string {
  const head = destination.replaceAll('{dataset}', dataset);
  const cut = head.indexOf('{');
  return cut === -1 ? head : head.slice(0, cut);
}

export async function ingest(options: IngestOptions): Promise<IngestManifest> {
  const { bucket, run, log = consoleLogger, progress = noProgress } = options;
  const startedAt = new Date().toISOString();
  checkDestination(options.destination);
  const planned = await planUploads(options);
  const total = planned.reduce((s, p) => s + p.size, 0);
  log.info(
    `ingest: ${count(planned.length, 'file')}, ${formatBytes(total)} → ${bucket.uri}${options.dryRun ? ' (dry run)' : ''}`,
  );

  let done = 0;
  let bytes = 0;
  // Progress by bytes looked at (an unchanged file is done too), the rate by bytes uploaded.
  let processed = 0;
  const objects = await mapLimit(planned, options.concurrency ?? 8, async (item) => {
    const result = await uploadOne(item, options);
    done++;
    processed += item.size;
    if (result.status === 'uploaded') bytes += result.size;
    progress.update(`${done}/${planned.length} files, ${formatBytes(bytes)} uploaded`, {
      done: processed,
      total,
      count: bytes,
      unit: 'B',
    });
    // Unchanged files are counted in the summary rather than listed: a rerun over many files stays readable.
    if (result.status !== 'planned' && result.status !== 'skipped')
      log.info(`  ${result.status.padEnd(8)} ${result.name}: ${result.reason}`);
    return result;
  });
  progress.done();
  for (const gone of await missingSources(options)) {
    const result = await removeMissing(gone, options);
    log.warn(`  ${result.status.padEnd(8)} ${result.name}: ${result.reason}`);
    objects.push(result);
  }

  const withStatus = (s: ObjectStatus) => objects.filter((o) => o.status === s).length;
  return {
    stage: 'ingest',
    runId: run.id,
    startedAt,
    finishedAt: new Date().toISOString(),
    dryRun: options.dryRun ?? false,
    bucket: bucket.uri,
    destination: options.destination,
    objects,
    totals: {
      files: objects.length,
      uploaded: withStatus('uploaded'),
      skipped: withStatus('skipped'),
      conflicts: withStatus('conflict'),
      failed: withStatus('failed'),
      missing: withStatus('missing'),
      deleted: withStatus('deleted'),
      bytes,
    },
  };
}

interface PlannedUpload {
  dataset: string;
  file: string;
  localPath: string;
  name: string;
  size: number;
}

async function planUploads(options: IngestOptions): Promise<PlannedUpload[]> {
  const planned: PlannedUpload[] = [];
  for (const source of options.sources) {
    const folder = path.resolve(source.path);
    const stats = await fsp.stat(folder).catch(() => undefined);
    if (!stats?.isDirectory())
      throw new Error(
        `dataset ${source.dataset}: source path ${source.path}: expected a folder, found ${stats ? 'a file' : 'nothing'}`,
      );
    const files = (await glob(source.glob, { cwd: folder, onlyFiles: true, dot: false })).sort();
    if (files.length === 0)
      options.log?.warn(`dataset ${source.dataset}: no file in ${source.path} matches ${source.glob}`);
    for (const file of files) {
      const localPath = path.join(folder, file);
      const values = {
        dataset: source.dataset,
        date: options.run.date,
        file: file.split(path.sep).join('/'),
        run_id: options.run.id,
        sha: options.run.sha,
      };
      let name: string;
      try {
        name = renderDestination(options.destination, values);
      } catch (e) {
        throw new Error(`dataset ${source.dataset}: file ${file}: ${errorMessage(e)}`, { cause: e });
      }
      planned.push({
        dataset: source.dataset,
        file: values.file,
        localPath,
        name,
        size: (await fsp.stat(localPath)).size,
      });
    }
  }
  const seen = new Map<string, PlannedUpload>();
  for (const p of planned) {
    const other = seen.get(p.name);
    if (other)
      throw new Error(
        `destination ${JSON.stringify(options.destination)} maps both ${other.file} and ${p.file} to object ${p.name}; add {file} to the template`,
      );
    seen.set(p.name, p);
  }
  return planned;
}

async function uploadOne(item: PlannedUpload, options: IngestOptions): Promise<IngestedObject> {
  const { bucket } = options;
  const { md5, sha256 } = await digestFile(item.localPath);
  const base = { dataset: item.dataset, file: item.file, name: item.name, size: item.size, md5, sha256 };
  let existing: BucketObject | undefined;
  try {
    existing = await bucket.stat(item.name);
  } catch (e) {
    return { ...base, status: 'failed', reason: `could not read the object's metadata: ${errorMessage(e)}` };
  }
  // A gzip upload stores other bytes than the file's, so the file's MD5 travels in the metadata.
  const existingSourceMd5 = existing?.metadata['source-md5'] ?? existing?.md5;
  if (existing && (options.skipUnchanged ?? true) && existingSourceMd5 === md5)
    return {
      ...base,
      status: 'skipped',
      reason: 'unchanged (MD5 matches the object)',
      generation: existing.generation,
    };
  if (options.dryRun)
    return {
      ...base,
      status: 'planned',
      reason: existing ? `would replace generation ${existing.generation}` : 'would create',
    };
  try {
    const written = await bucket.upload(item.localPath, item.name, {
      ifGenerationMatch: existing?.generation ?? '0',
      gzip: options.gzip,
      metadata: {
        'run-id': options.run.id,
        'source-path': item.file,
        'source-md5': md5,
        'source-sha256': sha256,
      },
    });
    return {
      ...base,
      status: 'uploaded',
      reason: existing ? `replaced generation ${existing.generation}` : 'new object',
      generation: written.generation,
    };
  } catch (e) {
    if (e instanceof PreconditionFailedError)
      return {
        ...base,
        status: 'conflict',
        reason: `${errorMessage(e)} (changed by someone else since it was listed)`,
      };
    return { ...base, status: 'failed', reason: errorMessage(e) };
  }
}

/**
 * Objects that ingest uploaded (they carry `source-path`) from a file that no longer exists in their dataset's
 * folder. Objects are judged only under a prefix that no other dataset writes under (the template names the
 * dataset): elsewhere, whose file an object was is not known.
 */
async function missingSources(options: IngestOptions): Promise<IngestedObject[]> {
  const prefixes = options.sources.map((s) => datasetPrefix(options.destination, s.dataset));
  const missing: IngestedObject[] = [];
  for (const [i, source] of options.sources.entries()) {
    const shared =
      prefixes.filter((p) => p.startsWith(prefixes[i]!) || prefixes[i]!.startsWith(p)).length > 1;
    for await (const object of options.bucket.list(prefixes[i])) {
      const file = object.metadata['source-path'];
      const dataset = object.metadata['source-dataset'];
      if (!file || (dataset ? dataset !== source.dataset : shared)) continue;
      if (fs.existsSync(path.join(path.resolve(source.path), ...file.split('/')))) continue;
      missing.push({
        dataset: source.dataset,
        file,
        name: object.name,
        status: 'missing',
        reason: `its source file ${file} is gone from ${source.path}; the object is kept (ingest.deleteMissing: true deletes it, and the load then withdraws its rows)`,
        size: object.size,
        md5: object.metadata['source-md5'] ?? object.md5,
        sha256: object.metadata['source-sha256'] ?? '',
        generation: object.generation,
      });
    }
  }
  return missing;
}

/** With deleteMissing, deletes the object of a gone file (only the generation seen: a newer one is not touched). */
async function removeMissing(gone: IngestedObject, options: IngestOptions): Promise<IngestedObject> {
  if (!options.deleteMissing) return gone;
  const what = `its source file ${gone.file} is gone`;
  if (options.dryRun) return { ...gone, reason: `${what}; would be deleted (ingest.deleteMissing)` };
  try {
    await options.bucket.delete(gone.name, { ifGenerationMatch: gone.generation });
    return {
      ...gone,
      status: 'deleted',
      reason: `${what}: deleted generation ${gone.generation} (the load withdraws its rows)`,
    };
  } catch (e) {
    if (e instanceof PreconditionFailedError)
      return { ...gone, status: 'conflict', reason: `${what}, but ${errorMessage(e)}` };
    return { ...gone, status: 'failed', reason: `${what}; deleting it failed: ${errorMessage(e)}` };
  }
}
