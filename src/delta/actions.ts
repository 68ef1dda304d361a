// The actions of the Delta log (PROTOCOL.md "Actions"), as they appear in commit JSON and checkpoints.

export interface Protocol {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface Format {
  provider: string;
  options?: Record<string, string>;
}

export interface Metadata {
  id: string;
  name?: string | null;
  description?: string | null;
  format: Format;
  schemaString: string;
  partitionColumns: string[];
  configuration?: Record<string, string | null>;
  createdTime?: number | null;
}

export interface AddFile {
  /** URI-encoded path, relative to the table root unless absolute. */
  path: string;
  /** Serialised partition values; null (or "") means a null value. */
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  /** JSON: numRecords, minValues, maxValues, nullCount. */
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: unknown;
}

export interface RemoveFile {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean | null;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
  deletionVector?: unknown;
}

export interface Txn {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

export interface CommitInfo {
  timestamp?: number;
  operation?: string;
  operationParameters?: Record<string, unknown>;
  readVersion?: number;
  isolationLevel?: string;
  isBlindAppend?: boolean;
  operationMetrics?: Record<string, string>;
  engineInfo?: string;
  txnId?: string;
  userMetadata?: string;
  [key: string]: unknown;
}

/** One line of a commit file, or one row of a checkpoint: exactly one field is set. */
export interface Action {
  protocol?: Protocol;
  metaData?: Metadata;
  add?: AddFile;
  remove?: RemoveFile;
  txn?: Txn;
  commitInfo?: CommitInfo;
  cdc?: unknown;
  domainMetadata?: unknown;
}

/** The reader and writer versions this module implements; tables needing more are refused. */
export const SUPPORTED_READER_VERSION = 1;
export const SUPPORTED_WRITER_VERSION = 2;

/** Parses a newline-delimited commit file; `where` names the file for errors. */
export function parseCommit(text: string, where: string): Action[] {
  const actions: Action[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    try {
      actions.push(JSON.parse(line) as Action);
    } catch (e) {
      throw new Error(
        `${where}, line ${i + 1}: expected one JSON action per line, found invalid JSON (${String(e)})`,
        { cause: e },
      );
    }
  }
  return actions;
}

export function serializeCommit(actions: Action[]): string {
  return actions.map((a) => JSON.stringify(a)).join('\n') + '\n';
}

/** The file path (relative to the table root, or absolute) that an add/remove path denotes. */
export function decodeActionPath(actionPath: string): string {
  return decodeURIComponent(actionPath);
}

/** Encodes a relative file path for add/remove, as Spark does (`%`, spaces and the like escaped; `/` and `=` kept). */
export function encodeActionPath(relPath: string): string {
  return relPath
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%3D/g, '='))
    .join('/');
}
