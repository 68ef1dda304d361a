// The load's tables: created when missing and brought up to date (a column added since), safely when several
// loads start at the same moment — CREATE … IF NOT EXISTS is not atomic in the catalog, and the loser's "already
// exists" error means that the object is there. And the audit re-keyed when a bucket's identity changes.
import type { LoadTables, SqlSession } from './types.ts';

export async function ensureLoadTables(session: SqlSession, t: LoadTables): Promise<void> {
  const { dialect } = session;
  for (const ddl of dialect.ensureTables(t)) await createOnce(session, ddl, () => session.execute(ddl));
  if (await hasColumn(session, t.quarantine, 'raw_bytes')) return;
  await createOnce(session, dialect.addQuarantineBytes(t), async () => {
    if (!(await hasColumn(session, t.quarantine, 'raw_bytes')))
      throw new Error(`${t.quarantine}: could not add the column raw_bytes`);
  });
}

/**
 * Runs DDL that another session may be running at the same moment. Its duplicate-object error says that the other
 * got there first: `recheck` then confirms the object is there (a CREATE … IF NOT EXISTS run again finds it).
 */
async function createOnce(session: SqlSession, ddl: string, recheck: () => Promise<unknown>): Promise<void> {
  try {
    await session.execute(ddl);
  } catch (e) {
    if (!session.dialect.isDuplicateObject(e)) throw e;
    await recheck();
  }
}

async function hasColumn(session: SqlSession, table: string, column: string): Promise<boolean> {
  const [row] = await session.query<{ n: number | string }>(session.dialect.columnExists(table, column));
  return Number(row?.n ?? 0) > 0;
}

/**
 * Re-keys the audit and the quarantine from one bucket identity to another (an absolute file:// path, as earlier
 * versions keyed them, to the URI as configured), in one transaction; returns the audit rows moved.
 */
export async function moveBucketIdentity(
  session: SqlSession,
  t: LoadTables,
  from: string,
  to: string,
): Promise<number> {
  const { dialect } = session;
  const rows = await session.query<{ id: number | string; object_name: string; generation: string }>(
    dialect.auditRowsOf(t, from),
  );
  if (rows.length === 0) return 0;
  await session.begin();
  try {
    for (const r of rows)
      await session.execute(
        dialect.moveAuditRow(t, String(r.id), {
          bucket: to,
          objectName: r.object_name,
          generation: r.generation,
        }),
      );
    await session.execute(dialect.moveQuarantine(t, from, to));
    await session.commit();
  } catch (e) {
    await session.rollback().catch(() => undefined);
    throw e;
  }
  return rows.length;
}
