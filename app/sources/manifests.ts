// The pipeline's run manifests (`<stage>-<run id>.json`, written by src/stages/manifest.ts), for the run the app
// serves, the run history and the lineage. The app looks at them at every version check, so each file is parsed
// once and again only when it changes.
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { IngestManifest } from '../../src/stages/ingest.ts';
import type { LoadManifest } from '../../src/stages/load.ts';
import type { TransformManifest } from '../../src/stages/transform.ts';

export type { IngestManifest, LoadManifest, TransformManifest };
export type StageManifest = IngestManifest | LoadManifest | TransformManifest;

const MANIFEST_FILE = /^(ingest|load|transform)-(.+)\.json$/;

interface Parsed {
  mtimeMs: number;
  size: number;
  manifest: StageManifest | undefined;
}

async function parse(file: string): Promise<StageManifest | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as StageManifest;
  } catch {
    // Half written (a run manifest is written in place) or not JSON: read again when it changes.
    return undefined;
  }
}

async function listing(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** A reader of every run manifest in `dir` (none without a folder), oldest run first; dry runs are left out. */
export function manifestReader(dir: string | undefined): () => Promise<StageManifest[]> {
  const parsed = new Map<string, Parsed>();
  return async () => {
    if (!dir) return [];
    const manifests: StageManifest[] = [];
    for (const name of await listing(dir)) {
      const match = MANIFEST_FILE.exec(name);
      if (!match || match[2] === 'latest') continue;
      const file = path.join(dir, name);
      const stat = await fsp.stat(file).catch(() => undefined);
      if (!stat) continue;
      let entry = parsed.get(name);
      if (!entry || entry.mtimeMs !== stat.mtimeMs || entry.size !== stat.size) {
        entry = { mtimeMs: stat.mtimeMs, size: stat.size, manifest: await parse(file) };
        parsed.set(name, entry);
      }
      if (entry.manifest && !entry.manifest.dryRun) manifests.push(entry.manifest);
    }
    return manifests.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  };
}
