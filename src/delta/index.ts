// Delta Lake tables for the pipeline: read (snapshots, time travel, DuckDB views), write (create, append,
// overwrite, delete, merge), manage (history, vacuum, checkpoints). Protocol reader 1 / writer 2.
// The read side is the flat files here; the write side is transaction/, one file per operation and per concern
// (create-table, schema-evolution, validation, commit). README.md maps the files.
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
export type { CommonWriteOptions, WriteResult } from './transaction/operation.ts';
export type { WriteMode, WriteOptions } from './transaction/write.ts';
export { writeDelta } from './transaction/write.ts';
export type { DeleteResult } from './transaction/delete.ts';
export { deleteWhere } from './transaction/delete.ts';
export type { MergeOptions, MergeResult } from './transaction/merge.ts';
export { mergeDelta } from './transaction/merge.ts';
export type { CommitOutcome } from './transaction/commit.ts';
export { ConcurrentModificationError } from './transaction/commit.ts';
export { DEFAULT_CHECKPOINT_INTERVAL, writeCheckpoint } from './checkpoint.ts';
