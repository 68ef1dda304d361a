// Append mode in one pass: the object's good rows, typed and checked in Node by the parser, stream through the
// engine's bulk path straight into the target (the engine casts each value as applyRows would), while its bad
// records wait in a spool and then go to quarantine through staging — all inside the object's transaction,
// after the rows of an earlier generation are deleted. Every row is touched once, where staging touched it twice.
import type { LoadObjectOptions, Loaded } from './plan.ts';
import { newCounts, objectRows, stagedBadRecord, type BadRecord, type GoodRow } from './object-rows.ts';
import { QuarantineSpool } from './quarantine-spool.ts';
import type { AuditRecord, LoadTables, SqlSession } from './types.ts';

export async function appendObject(
  session: SqlSession,
  tables: LoadTables,
  options: LoadObjectOptions,
  record: AuditRecord,
): Promise<Loaded> {
  const { object, bucketUri } = options;
  const dialect = session.dialect;
  // The new generation's rows and records replace the earlier one's: those go first.
  const rowsReplaced = await session.execute(dialect.deleteObjectRows(tables, object.name));
  await session.execute(dialect.deleteObjectQuarantine(tables, bucketUri, object.name));

  const read = newCounts();
  const spool = new QuarantineSpool();
  const width = tables.columns.length;
  const shapes = {
    // The values array is the row's own (the parser makes one per row): the lineage is added in place.
    good: (row: GoodRow) => {
      row.values.push(object.name, String(row.line));
      return row.values;
    },
    bad: (bad: BadRecord) => void spool.add(stagedBadRecord(bad, width)),
  };
  try {
    const rowsLoaded = await session.appendRows!(
      tables,
      objectRows(options, tables, shapes, read),
      object.name,
    );
    options.onRows?.(read.rows);
    const rowsQuarantined = await quarantine(session, tables, record, spool);
    await options.hooks?.afterStaging?.(object);
    return {
      counts: { rowsIn: read.rows, rowsLoaded, rowsQuarantined, rowsReplaced, blankLines: read.blankLines },
      problems: read.problems,
    };
  } finally {
    spool.dispose();
  }
}

/** The spooled bad records into quarantine, through staging (the quarantine's statement reads from it). */
async function quarantine(
  session: SqlSession,
  tables: LoadTables,
  record: AuditRecord,
  spool: QuarantineSpool,
): Promise<number> {
  if (!spool.count) return 0;
  for (const ddl of session.dialect.createStaging(tables)) await session.execute(ddl);
  const staged = await session.bulkLoad(tables.staging, spool.batches());
  if (staged !== spool.count)
    throw new Error(`staged ${staged} quarantined records, expected ${spool.count}`);
  return session.execute(session.dialect.insertQuarantine(tables, record));
}
