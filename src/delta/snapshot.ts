// A table at one version: protocol, metadata, schema and live files, plus the Scan that lists what to read.
import type { AddFile, Metadata, Protocol, RemoveFile, Txn } from './actions.ts';
import { decodeActionPath } from './actions.ts';
import type { TableState } from './replay.ts';
import type { StructType } from './schema.ts';
import { parseSchemaString } from './schema.ts';
import type { DeltaStorage } from './storage.ts';
import { fileURLToPath } from 'node:url';

export interface ScanFile {
  /** The path as written in the log (URI-encoded). */
  actionPath: string;
  /** Decoded path relative to the table root (or absolute, for absolute paths in the log). */
  path: string;
  /** Where DuckDB reads it (local storage), or undefined for a remote store. */
  localPath: string | undefined;
  /** Serialised partition values, with "" and missing normalised to null. */
  partitionValues: Record<string, string | null>;
  size: number;
  numRecords: number | undefined;
}

export class Snapshot {
  readonly version: number;
  readonly protocol: Protocol;
  readonly metadata: Metadata;
  readonly state: TableState;
  /** Commit timestamp of this version (ms), from its commitInfo or else the commit file's modification time. */
  readonly timestamp: number | undefined;
  readonly storage: DeltaStorage;
  private parsedSchema: StructType | undefined;

  constructor(storage: DeltaStorage, state: TableState, timestamp: number | undefined) {
    this.storage = storage;
    this.state = state;
    this.version = state.version;
    this.protocol = state.protocol;
    this.metadata = state.metadata;
    this.timestamp = timestamp;
  }

  /** The table schema (parsed on first use: log-only test tables may carry none). */
  get schema(): StructType {
    this.parsedSchema ??= parseSchemaString(
      this.metadata.schemaString,
      `${this.storage.location} version ${this.version}`,
    );
    return this.parsedSchema;
  }

  get partitionColumns(): string[] {
    return this.metadata.partitionColumns ?? [];
  }

  get files(): AddFile[] {
    return [...this.state.files.values()];
  }

  get tombstones(): RemoveFile[] {
    return [...this.state.tombstones.values()];
  }

  get txns(): Map<string, Txn> {
    return this.state.txns;
  }

  /** A table property (metaData.configuration), e.g. `delta.checkpointInterval`. */
  property(key: string): string | undefined {
    return this.metadata.configuration?.[key] ?? undefined;
  }

  /** `delta.deletedFileRetentionDuration` (e.g. "interval 7 days") in hours; 7 days when unset. */
  deletedFileRetentionHours(): number {
    const value = this.property('delta.deletedFileRetentionDuration');
    const m = value && /^\s*interval\s+(\d+)\s+(hour|day|week)s?\s*$/i.exec(value);
    if (!m) return 168;
    return Number(m[1]) * { hour: 1, day: 24, week: 168 }[m[2]!.toLowerCase() as 'hour' | 'day' | 'week'];
  }

  /** The files to read at this version, with their partition values. */
  scan(): ScanFile[] {
    return this.files
      .map((add) => {
        if (add.deletionVector) {
          throw new Error(
            `${this.storage.location} version ${this.version}: file ${add.path} has a deletion vector, which this module does not read`,
          );
        }
        const decoded = resolveActionPath(add.path);
        const partitionValues: Record<string, string | null> = {};
        for (const column of this.partitionColumns) {
          const value = add.partitionValues?.[column];
          partitionValues[column] = value === undefined || value === '' ? null : value;
        }
        return {
          actionPath: add.path,
          path: decoded,
          localPath: decoded.startsWith('/') ? decoded : this.storage.localPath?.(decoded),
          partitionValues,
          size: add.size,
          numRecords: parseNumRecords(add.stats),
        };
      })
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

/** A log path, decoded; `file:` URLs become absolute local paths. */
export function resolveActionPath(actionPath: string): string {
  if (/^file:/i.test(actionPath)) return fileURLToPath(actionPath.replace(/^file:\/*/i, 'file:///'));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(actionPath)) {
    throw new Error(`file ${actionPath}: absolute URLs to other stores are not supported`);
  }
  return decodeActionPath(actionPath);
}

function parseNumRecords(stats: string | null | undefined): number | undefined {
  if (!stats) return undefined;
  try {
    const n = (JSON.parse(stats) as { numRecords?: unknown }).numRecords;
    return typeof n === 'number' ? n : undefined;
  } catch {
    return undefined;
  }
}
