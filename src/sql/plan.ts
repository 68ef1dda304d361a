// The load plan, the same for every engine: one object, one transaction. The object is claimed in the audit
// table, streamed into staging (good and bad records alike), applied to the target, its bad records moved to
// quarantine, and the audit row completed — or nothing at all happens. So an object is loaded exactly once
// however often the stage runs, and rows in = rows loaded + rows quarantined, checked before commit.
import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BucketObject } from '../bucket/types.ts';
import { readCsvBatches, type CsvOptions } from '../csv/reader.ts';
import { errorMessage } from '../util/log.ts';
import type { AuditCounts, AuditRecord, LoadTables, SqlSession } from './types.ts';

export interface LoadHooks {
  /** Runs inside the transaction once the object is staged (tests use it to fail there). */
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
): Promise<{ counts: AuditCounts; problems: Record<string, number> }> {
  const { object, bucketUri } = options;
  const dialect = session.dialect;
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
  for (const ddl of dialect.createStaging(tables)) await session.execute(ddl);
  const staged = await stageObject(session, tables, options);
  await options.hooks?.afterStaging?.(object);

  const invalid = await markInvalidRows(session, tables, staged.problems);
  if (tables.mode === 'merge') for (const s of dialect.markSupersededKeys(tables)) await session.execute(s);
  const rowsReplaced =
    tables.mode === 'append' ? await session.execute(dialect.deleteObjectRows(tables, object.name)) : 0;
  await session.execute(dialect.deleteObjectQuarantine(tables, bucketUri, object.name));
  const [good] = await session.query<{ n: number | string }>(
    `SELECT count(*) AS n FROM ${dialect.staging(tables)} WHERE ${dialect.quote('lakehouse_reason')} IS NULL`,
  );
  for (const s of dialect.applyRows(tables, object.name)) await session.execute(s);
  const rowsQuarantined = await session.execute(dialect.insertQuarantine(tables, record));
  const counts: AuditCounts = {
    rowsIn: staged.rows,
    rowsLoaded: Number(good!.n),
    rowsQuarantined,
    rowsReplaced,
    blankLines: staged.blankLines,
  };
  if (counts.rowsIn !== counts.rowsLoaded + counts.rowsQuarantined)
    throw new Error(
      `rows in (${counts.rowsIn}) ≠ rows loaded (${counts.rowsLoaded}) + rows quarantined (${counts.rowsQuarantined}); nothing was committed`,
    );
  const superseded = counts.rowsQuarantined - staged.badRows - invalid;
  if (tables.mode === 'merge' && superseded > 0) staged.problems['duplicate key'] = superseded;
  await session.execute(dialect.finishAudit(tables, record, counts));
  await options.hooks?.beforeCommit?.(object);
  await session.commit();
  return { counts, problems: staged.problems };
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

interface Staged {
  rows: number;
  badRows: number;
  blankLines: number;
  problems: Record<string, number>;
}

async function stageObject(
  session: SqlSession,
  tables: LoadTables,
  options: LoadObjectOptions,
): Promise<Staged> {
  const staged: Staged = { rows: 0, badRows: 0, blankLines: 0, problems: {} };
  const stream = await options.open();
  const hash = crypto.createHash('md5');
  async function* bytes(): AsyncGenerator<Buffer> {
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  }
  // Merge mode keeps every raw line: a record superseded by a later one with the same key goes to quarantine.
  const keepRaw = tables.mode === 'merge';
  const emptyColumns = tables.columns.map(() => null);
  async function* rows(): AsyncGenerator<(string | null)[][]> {
    for await (const events of readCsvBatches(bytes(), tables.columns, { ...options.csv, keepRaw })) {
      const batch: (string | null)[][] = [];
      for (const event of events) {
        if (event.kind === 'blank') {
          staged.blankLines++;
          continue;
        }
        if (event.kind === 'row') {
          const hex = event.raw === undefined ? null : Buffer.from(event.raw).toString('hex');
          batch.push([String(event.line), null, event.raw ?? null, hex, ...event.values]);
        } else {
          staged.badRows++;
          const kind = problemKind(event.reason);
          staged.problems[kind] = (staged.problems[kind] ?? 0) + 1;
          batch.push([
            String(event.line),
            event.reason,
            event.text,
            event.raw.toString('hex'),
            ...emptyColumns,
          ]);
        }
      }
      staged.rows += batch.length;
      options.onRows?.(staged.rows);
      yield batch;
    }
  }
  await session.bulkLoad(tables.staging, rows());
  options.onRows?.(staged.rows);
  checkContent(options.object, hash.digest('base64'));
  return staged;
}

/** The bytes read must be the bytes listed: otherwise the object changed underneath the load. */
function checkContent(object: BucketObject, md5: string): void {
  const expected = object.contentEncoding === 'gzip' ? object.metadata['source-md5'] : object.md5;
  if (expected && expected !== md5)
    throw new Error(
      `object ${object.name} changed while it was being read (MD5 ${md5}, expected ${expected} of generation ${object.generation})`,
    );
}

export function problemKind(reason: string): string {
  if (reason.startsWith('expected') && reason.includes('fields')) return 'wrong field count';
  if (reason.startsWith('invalid UTF-8')) return 'invalid UTF-8';
  if (reason.includes('quote')) return 'malformed quoting';
  if (reason.includes('NUL')) return 'NUL character';
  if (reason.startsWith('duplicate key')) return 'duplicate key';
  if (reason.startsWith('longer than the line-length limit')) return 'line too long';
  const column = /^([^:]+):/.exec(reason)?.[1];
  return column ? `bad value in ${column}` : reason;
}
