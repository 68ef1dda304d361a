// The load plan, the same for every engine: one object, one transaction. The object is claimed in the audit
// table; its good rows written to the target and its bad records to quarantine — in one pass straight into the
// target in append mode where the engine's session can (append.ts), else through staging (every record, then
// checked and cast in SQL) — and the audit row completed, or nothing at all happens. So an object is loaded
// exactly once however often the stage runs, and rows in = rows loaded + rows quarantined, checked before commit.
import type { Readable } from 'node:stream';
import type { BucketObject } from '../bucket/types.ts';
import type { CsvOptions } from '../csv/reader.ts';
import { errorMessage } from '../util/log.ts';
import { appendObject } from './append.ts';
import {
  newCounts,
  objectRows,
  stagedBadRecord,
  type BadRecord,
  type GoodRow,
  type ReadCounts,
} from './object-rows.ts';
import type { AuditCounts, AuditRecord, LoadTables, SqlSession } from './types.ts';

export { problemKind } from './object-rows.ts';

export interface LoadHooks {
  /** Runs inside the transaction once the object's rows are written (tests use it to fail there). */
  afterStaging?(object: BucketObject): Promise<void>;
  /** Runs inside the transaction just before COMMIT. */
  beforeCommit?(object: BucketObject): Promise<void>;
}

export interface ObjectLoad extends AuditCounts {
  name: string;
  generation: string;
  md5: string;
  status: 'loaded' | 'skipped' | 'planned' | 'failed' | 'withdrawn';
  reason: string;
  /** Quarantined rows by kind of problem. */
  problems: Record<string, number>;
}

export interface LoadObjectOptions {
  bucketUri: string;
  object: BucketObject;
  open(): Promise<Readable>;
  csv: CsvOptions;
  runId: string;
  dryRun?: boolean;
  hooks?: LoadHooks;
  onRows?(rows: number): void;
}

/** What a loaded object's transaction found: its counts for the audit, and its bad records by kind. */
export interface Loaded {
  counts: AuditCounts;
  problems: Record<string, number>;
}

export const NO_COUNTS: AuditCounts = {
  rowsIn: 0,
  rowsLoaded: 0,
  rowsQuarantined: 0,
  rowsReplaced: 0,
  blankLines: 0,
};

export async function loadObject(
  session: SqlSession,
  tables: LoadTables,
  options: LoadObjectOptions,
): Promise<ObjectLoad> {
  const { object, bucketUri } = options;
  const base = {
    name: object.name,
    generation: object.generation,
    md5: object.md5,
    problems: {},
    ...NO_COUNTS,
  };
  const [last] = await session
    .query<{ md5: string; generation: string; loaded_at: Date | string }>(
      session.dialect.lastLoad(tables, bucketUri, object.name),
    )
    .catch((e: unknown) => {
      // A dry run creates no tables, so on a new store there is no audit table yet: nothing was loaded.
      if (options.dryRun) return [];
      throw e;
    });
  if (last && last.md5 === object.md5)
    return {
      ...base,
      status: 'skipped',
      reason: `already loaded (generation ${last.generation}, ${new Date(last.loaded_at).toISOString()}; same MD5)`,
    };
  if (options.dryRun)
    return {
      ...base,
      status: 'planned',
      reason: last ? `would replace generation ${last.generation}` : 'would load',
    };

  await session.begin();
  try {
    const { counts, problems } = await loadInTransaction(session, tables, options);
    return {
      ...base,
      ...counts,
      problems,
      status: 'loaded',
      reason: counts.rowsReplaced
        ? `replaced ${counts.rowsReplaced} rows of generation ${last?.generation}`
        : 'new object',
    };
  } catch (e) {
    await session.rollback().catch(() => undefined);
    if (e instanceof ClaimedElsewhere) return claimedElsewhere(session, tables, e.record, base);
    return {
      ...base,
      status: 'failed',
      reason: `${errorMessage(e)} (rolled back: nothing from this object is visible)`,
    };
  }
}

/** Another load holds the audit row of this object and generation: it has committed what this one would. */
export class ClaimedElsewhere extends Error {
  override name = 'ClaimedElsewhere';
  readonly record: AuditRecord;
  constructor(record: AuditRecord, cause: unknown) {
    super(`another load claimed ${record.objectName} (generation ${record.generation}) first`, { cause });
    this.record = record;
  }
}

/**
 * Claims the object's generation with its audit row, first thing in the transaction. A concurrent load of the
 * same generation waits on the row until this one commits, then fails with ClaimedElsewhere.
 */
export async function claimObject(
  session: SqlSession,
  tables: LoadTables,
  record: AuditRecord,
): Promise<void> {
  await session.execute(session.dialect.insertAudit(tables, record)).catch((e: unknown) => {
    throw session.dialect.isUniqueViolation(e) ? new ClaimedElsewhere(record, e) : e;
  });
}

/** The outcome for the load that lost a claim: skipped, naming the run that has it. */
export async function claimedElsewhere(
  session: SqlSession,
  tables: LoadTables,
  record: AuditRecord,
  base: Omit<ObjectLoad, 'status' | 'reason'>,
): Promise<ObjectLoad> {
  const [holder] = await session
    .query<{ run_id: string }>(session.dialect.claimant(tables, record))
    .catch(() => []);
  return {
    ...base,
    status: 'skipped',
    reason: `already being loaded by run ${holder?.run_id ?? '(unknown)'}, which claimed generation ${record.generation} first; this run wrote nothing for it`,
  };
}

/** The object's transaction, from the audit claim to COMMIT; the caller rolls back when it throws. */
async function loadInTransaction(
  session: SqlSession,
  tables: LoadTables,
  options: LoadObjectOptions,
): Promise<Loaded> {
  const { object, bucketUri } = options;
  const record: AuditRecord = {
    dataset: tables.dataset,
    target: tables.target,
    bucket: bucketUri,
    objectName: object.name,
    generation: object.generation,
    md5: object.md5,
    size: object.size,
    runId: options.runId,
  };
  await claimObject(session, tables, record);
  // Append mode goes straight into the target where the engine can; merge mode needs every record staged, to
  // find the keys a later line supersedes.
  const { counts, problems } =
    tables.mode === 'append' && session.appendRows
      ? await appendObject(session, tables, options, record)
      : await stageAndApply(session, tables, options, record);
  if (counts.rowsIn !== counts.rowsLoaded + counts.rowsQuarantined)
    throw new Error(
      `rows in (${counts.rowsIn}) ≠ rows loaded (${counts.rowsLoaded}) + rows quarantined (${counts.rowsQuarantined}); nothing was committed`,
    );
  await session.execute(session.dialect.finishAudit(tables, record, counts));
  await options.hooks?.beforeCommit?.(object);
  await session.commit();
  return { counts, problems };
}

/** Every record into staging, checked there, the good rows cast into the target and the bad into quarantine. */
async function stageAndApply(
  session: SqlSession,
  tables: LoadTables,
  options: LoadObjectOptions,
  record: AuditRecord,
): Promise<Loaded> {
  const { object, bucketUri } = options;
  const dialect = session.dialect;
  for (const ddl of dialect.createStaging(tables)) await session.execute(ddl);
  const read = await stageObject(session, tables, options);
  await options.hooks?.afterStaging?.(object);

  const invalid = await markInvalidRows(session, tables, read.problems);
  if (tables.mode === 'merge') for (const s of dialect.markSupersededKeys(tables)) await session.execute(s);
  const rowsReplaced =
    tables.mode === 'append' ? await session.execute(dialect.deleteObjectRows(tables, object.name)) : 0;
  await session.execute(dialect.deleteObjectQuarantine(tables, bucketUri, object.name));
  const [good] = await session.query<{ n: number | string }>(
    `SELECT count(*) AS n FROM ${dialect.staging(tables)} WHERE ${dialect.quote('lakehouse_reason')} IS NULL`,
  );
  for (const s of dialect.applyRows(tables, object.name)) await session.execute(s);
  const rowsQuarantined = await session.execute(dialect.insertQuarantine(tables, record));
  const superseded = rowsQuarantined - read.badRows - invalid;
  if (tables.mode === 'merge' && superseded > 0) read.problems['duplicate key'] = superseded;
  return {
    counts: {
      rowsIn: read.rows,
      rowsLoaded: Number(good!.n),
      rowsQuarantined,
      rowsReplaced,
      blankLines: read.blankLines,
    },
    problems: read.problems,
  };
}

/** Runs the dialect's row checks, counting what each marks under its problem; returns the rows marked. */
async function markInvalidRows(
  session: SqlSession,
  tables: LoadTables,
  problems: Record<string, number>,
): Promise<number> {
  let invalid = 0;
  for (const check of session.dialect.markInvalidRows(tables)) {
    const marked = await session.execute(check.statement);
    if (marked) problems[check.problem] = (problems[check.problem] ?? 0) + marked;
    invalid += marked;
  }
  return invalid;
}

/** Every record of the object into staging, good and bad alike, through the engine's bulk path. */
async function stageObject(
  session: SqlSession,
  tables: LoadTables,
  options: LoadObjectOptions,
): Promise<ReadCounts> {
  const read = newCounts();
  const width = tables.columns.length;
  const shapes = {
    good: (row: GoodRow) => {
      const hex = row.raw === undefined ? null : Buffer.from(row.raw).toString('hex');
      return [String(row.line), null, row.raw ?? null, hex, ...row.values];
    },
    bad: (record: BadRecord) => stagedBadRecord(record, width),
  };
  // Merge mode keeps every raw line: a record superseded by a later one with the same key goes to quarantine.
  const rows = objectRows(options, tables, shapes, read, tables.mode === 'merge');
  await session.bulkLoad(tables.staging, rows);
  options.onRows?.(read.rows);
  return read;
}
