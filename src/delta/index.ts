// Delta Lake tables for the pipeline: read (snapshots, time travel, DuckDB views), write (create, append,
// overwrite, delete, merge), manage (history, vacuum, checkpoints). Protocol reader 1 / writer 2.
export type { Action, AddFile, CommitInfo, Metadata, Protocol, RemoveFile, Txn } from './actions.ts';
export type { DeltaStorage, StoredFile } from './storage.ts';
export { FileExistsError, LocalStorage, storageFor } from './storage.ts';
export type { StructType, StructField, DeltaType } from './schema.ts';
export type { TableState, VersionedActions } from './replay.ts';
export { replay } from './replay.ts';
export type { ScanFile } from './snapshot.ts';
export { Snapshot } from './snapshot.ts';
export type {
  DeltaTableOptions,
  HistoryEntry,
  SnapshotOptions,
  VacuumOptions,
  VacuumResult,
} from './table.ts';
export { DeltaTable, TableNotFoundError, openDeltaTable } from './table.ts';
export type { RegisterViewOptions, ScanSqlOptions } from './view.ts';
export { registerDeltaView, scanSql } from './view.ts';
export type {
  CommonWriteOptions,
  DeleteResult,
  MergeOptions,
  MergeResult,
  WriteMode,
  WriteOptions,
  WriteResult,
} from './write.ts';
export { deleteWhere, mergeDelta, writeDelta } from './write.ts';
export { ConcurrentModificationError } from './transaction.ts';
export { DEFAULT_CHECKPOINT_INTERVAL, writeCheckpoint } from './checkpoint.ts';
