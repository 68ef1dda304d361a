// The load action's inputs: read, checked (naming the allowed values), and applied to lakehouse.yml: the plan is the
// one `lakehouse load` runs for the profile (its bucket, SQL target, datasets and ingest.destination), with the
// inputs given over it.
import { loadConfig, supplyEnvReferences, type ResolvedConfig } from '../../src/config/load.ts';
import { sqlTarget, type DatasetConfig } from '../../src/config/schema.ts';
import { booleanInput, inputReader, listOf } from '../../src/github/action-inputs.ts';
import { selectDatasets } from '../../src/pipeline/context.ts';
import { loadPlan, type LoadPlan } from '../../src/pipeline/load.ts';
import type { NetworkTarget } from '../../src/sql/network.ts';
import type { IngestManifest } from '../../src/stages/ingest.ts';
import { readManifest } from '../../src/stages/manifest.ts';

const ENGINES = ['sqlserver', 'mysql', 'postgres'] as const;
const MODES = ['append', 'merge'] as const;

export interface LoadInputs {
  config: string;
  profile?: string;
  datasets: string[];
  objects?: string[];
  manifest?: string;
  bucket?: string;
  connection?: string;
  engine?: (typeof ENGINES)[number];
  mode?: (typeof MODES)[number];
  batchSize?: number;
  dryRun: boolean;
}

export function readInputs(input: (name: string) => string): LoadInputs {
  const text = inputReader(input);
  const list = (name: string) => listOf(text(name));
  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
    const value = text(name);
    if (value !== undefined && !allowed.includes(value as T))
      throw new Error(`input ${name}: expected one of ${allowed.join(', ')}, found ${JSON.stringify(value)}`);
    return value as T | undefined;
  };
  const batch = text('batch-size');
  if (batch !== undefined && !/^[1-9]\d*$/.test(batch))
    throw new Error(
      `input batch-size: expected a positive whole number of rows, found ${JSON.stringify(batch)}`,
    );
  const inputs: LoadInputs = {
    config: text('config') ?? 'lakehouse.yml',
    profile: text('profile'),
    datasets: list('dataset') ?? [],
    objects: list('objects'),
    manifest: text('manifest'),
    bucket: text('bucket'),
    connection: text('connection'),
    engine: oneOf('engine', ENGINES),
    mode: oneOf('mode', MODES),
    batchSize: batch === undefined ? undefined : Number(batch),
    dryRun: booleanInput(text, 'dry-run', false),
  };
  if (inputs.objects && inputs.manifest)
    throw new Error('inputs objects and manifest: expected one of them, found both');
  return inputs;
}

/** The connection string and the password inside it: each must be masked on its own. */
export function connectionSecrets(connection: string | undefined): string[] {
  if (!connection) return [];
  const secrets = [connection];
  // ADO.NET values may be quoted ("…", '…') or braced ({…}) to hold a ';'.
  const ado = /(?:^|;)\s*(?:password|pwd|client secret)\s*=\s*(?:"([^"]*)"|'([^']*)'|\{([^}]*)\}|([^;]+))/gi;
  for (const m of connection.matchAll(ado)) secrets.push((m[1] ?? m[2] ?? m[3] ?? m[4]!).trim());
  const url = /^[a-z][a-z0-9+.-]*:\/\/[^/:@]*:([^@]*)@/i.exec(connection);
  if (url?.[1]) secrets.push(url[1], decodeURIComponent(url[1]));
  return secrets;
}

/** The load plan, on a network engine (the action loads into a server, never into the embedded PGlite). */
export interface ActionLoadPlan extends LoadPlan {
  target: NetworkTarget;
}

export async function planLoad(inputs: LoadInputs): Promise<ActionLoadPlan> {
  supplyEnvReferences(inputs.config, inputs.profile, 'sql', { connection: inputs.connection });
  const resolved = loadConfig(inputs.config, inputs.profile);
  let objects = inputs.objects;
  if (inputs.manifest) {
    const manifest = await readManifest<IngestManifest>(inputs.manifest);
    if (manifest.stage !== 'ingest')
      throw new Error(
        `manifest ${inputs.manifest}: expected an ingest manifest, found stage ${manifest.stage}`,
      );
    objects = manifest.objects
      .filter((o) => o.status === 'uploaded' || o.status === 'skipped')
      .map((o) => o.name);
  }
  const datasets = selectDatasets(resolved, inputs.datasets).map((d) => withMode(d, inputs.mode));
  const plan = loadPlan(resolved, datasets);
  return {
    ...plan,
    target: networkTarget(resolved, inputs),
    // A file:// bucket input is relative to lakehouse.yml's folder, as the profile's is.
    ...(inputs.bucket ? { bucket: inputs.bucket } : {}),
    objects,
    batchRows: inputs.batchSize ?? plan.batchRows,
  };
}

function networkTarget(resolved: ResolvedConfig, inputs: LoadInputs): NetworkTarget {
  const profileTarget = resolved.profile.sql;
  const engine = inputs.engine ?? profileTarget.engine;
  if (engine === 'pglite')
    throw new Error(
      `profile ${resolved.profileName}: sql.engine is pglite, which is embedded; the load action loads into sqlserver, mysql or postgres (set the engine and connection inputs, or choose another profile)`,
    );
  const base = profileTarget.engine === engine ? profileTarget : { engine, schema: schemaOf(profileTarget) };
  const candidate = { ...base, ...(inputs.connection ? { connection: inputs.connection } : {}) };
  const parsed = sqlTarget.safeParse(candidate);
  if (!parsed.success)
    throw new Error(
      `sql target: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const target = parsed.data as NetworkTarget;
  if (!target.connection && !target.host)
    throw new Error(
      `sql target (${engine}): expected a connection string (the connection input, or sql.connection in profile ${resolved.profileName}) or sql.host, found neither`,
    );
  return target;
}

function schemaOf(target: ResolvedConfig['profile']['sql']): string | undefined {
  return 'schema' in target ? target.schema : undefined;
}

function withMode(dataset: DatasetConfig, mode: LoadInputs['mode']): DatasetConfig {
  if (!mode || mode === dataset.load.mode) return dataset;
  if (mode === 'merge' && dataset.keys.length === 0)
    throw new Error(
      `input mode merge: dataset ${dataset.name} has no keys in lakehouse.yml (merge needs them)`,
    );
  return { ...dataset, load: { ...dataset.load, mode } };
}
