// src/stages/ holds one function per stage (ingest, load, transform on DuckDB, Databricks or Spark, deploy) that
// src/pipeline runs, and the run manifests they write (this file).
//
// Every stage writes a run manifest (inputs, outputs, counts, checksums) that the next stage reads and the
// summaries show: `<folder>/<stage>-<run id>.json`, and `<stage>-latest.json` for the next stage to find.
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { redact } from '../util/secrets.ts';

export interface Manifest {
  stage: string;
  runId: string;
  startedAt: string;
  finishedAt: string;
  dryRun: boolean;
}

export async function writeManifest(folder: string, manifest: Manifest): Promise<string> {
  await fsp.mkdir(folder, { recursive: true });
  const text = redact(JSON.stringify(manifest, jsonValue, 2)) + '\n';
  const file = path.join(folder, `${manifest.stage}-${manifest.runId}.json`);
  await fsp.writeFile(file, text);
  // Replace "latest" atomically so a reader never sees half a manifest; the temporary file is this writer's own
  // (two runs may finish at the same moment).
  const latest = path.join(folder, `${manifest.stage}-latest.json`);
  const tmp = `${latest}.${process.pid}-${crypto.randomUUID()}.tmp`;
  await fsp.writeFile(tmp, text);
  await fsp.rename(tmp, latest);
  return file;
}

/** Query results carry 64-bit integers as BigInt, which JSON has no form for. */
function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === 'bigint'
    ? Number.isSafeInteger(Number(value))
      ? Number(value)
      : value.toString()
    : value;
}

export async function readManifest<T extends Manifest>(file: string): Promise<T> {
  const text = await fsp.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new Error(
      `manifest ${file}: ${e.code === 'ENOENT' ? 'not found (run the previous stage first)' : e.message}`,
    );
  });
  return JSON.parse(text) as T;
}

export async function readLatestManifest<T extends Manifest>(
  folder: string,
  stage: string,
): Promise<T | undefined> {
  try {
    return JSON.parse(await fsp.readFile(path.join(folder, `${stage}-latest.json`), 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
