// Log replay: actions in, table state out. Pure: no I/O, so it is tested with plain arrays of actions.
import type { Action, AddFile, Metadata, Protocol, RemoveFile, Txn } from './actions.ts';
import { SUPPORTED_READER_VERSION } from './actions.ts';

export interface TableState {
  version: number;
  protocol: Protocol;
  metadata: Metadata;
  /** Live files, keyed by their (encoded) path as written in the log. */
  files: Map<string, AddFile>;
  /** Removed files (tombstones), kept for vacuum and checkpoints. */
  tombstones: Map<string, RemoveFile>;
  /** Latest transaction version per application id (idempotent writes). */
  txns: Map<string, Txn>;
}

export interface VersionedActions {
  version: number;
  actions: Action[];
}

/** Reader features whose tables this module reads correctly (a deletion vector on a file is refused). */
const READER_FEATURES = new Set(['timestampNtz', 'deletionVectors']);

/**
 * Applies `commits` (in ascending version order) on top of `base` (a checkpoint's state, or nothing). Newest
 * protocol and metaData win; a file is live when its latest add is not followed by a remove. `where` names the
 * table for messages.
 */
export function replay(base: TableState | undefined, commits: VersionedActions[], where: string): TableState {
  let protocol = base?.protocol;
  let metadata = base?.metadata;
  const files = new Map(base?.files);
  const tombstones = new Map(base?.tombstones);
  const txns = new Map(base?.txns);
  let version = base?.version ?? -1;
  for (const commit of commits) {
    if (commit.version !== version + 1 && !(base === undefined && version === -1)) {
      throw new Error(
        `${where}: log versions are not contiguous: expected ${version + 1}, found ${commit.version}`,
      );
    }
    version = commit.version;
    for (const action of commit.actions) {
      if (action.add) {
        files.set(fileKey(action.add), action.add);
        tombstones.delete(fileKey(action.add));
      } else if (action.remove) {
        files.delete(fileKey(action.remove));
        tombstones.set(fileKey(action.remove), action.remove);
      } else if (action.metaData) {
        metadata = action.metaData;
      } else if (action.protocol) {
        protocol = action.protocol;
      } else if (action.txn) {
        txns.set(action.txn.appId, action.txn);
      }
    }
  }
  if (!protocol) throw new Error(`${where}: no protocol action in the log up to version ${version}`);
  if (!metadata) throw new Error(`${where}: no metaData action in the log up to version ${version}`);
  checkReadable(protocol, where);
  return { version, protocol, metadata, files, tombstones, txns };
}

/**
 * A logical file is its path and its deletion vector (PROTOCOL.md "Reconciliation"): a DELETE with deletion vectors
 * removes (path) and adds (path + vector) in one commit, and the add must stay.
 */
function fileKey(file: AddFile | RemoveFile): string {
  const dv = file.deletionVector as
    { storageType?: string; pathOrInlineDv?: string; offset?: number } | null | undefined;
  if (!dv) return file.path;
  return `${file.path}#${dv.storageType ?? ''}${dv.pathOrInlineDv ?? ''}${dv.offset === undefined ? '' : `@${dv.offset}`}`;
}

export function checkReadable(protocol: Protocol, where: string): void {
  if (protocol.minReaderVersion <= SUPPORTED_READER_VERSION) return;
  const unknown =
    protocol.minReaderVersion === 3
      ? (protocol.readerFeatures ?? []).filter((f) => !READER_FEATURES.has(f))
      : null;
  if (unknown && unknown.length === 0) return;
  throw new Error(
    `${where}: the table needs Delta reader version ${protocol.minReaderVersion}` +
      (unknown ? ` with features ${unknown.join(', ')}` : '') +
      `; this module reads version ${SUPPORTED_READER_VERSION} (no column mapping)`,
  );
}

/** Actions that rebuild `state` (what a checkpoint holds): protocol, metaData, txns, live files, tombstones. */
export function stateActions(state: TableState, tombstonesSince: number): Action[] {
  const actions: Action[] = [{ protocol: state.protocol }, { metaData: state.metadata }];
  for (const txn of state.txns.values()) actions.push({ txn });
  for (const add of state.files.values()) actions.push({ add: { ...add, dataChange: false } });
  for (const remove of state.tombstones.values()) {
    if ((remove.deletionTimestamp ?? 0) >= tombstonesSince)
      actions.push({ remove: { ...remove, dataChange: false } });
  }
  return actions;
}
