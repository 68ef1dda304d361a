// An object gone from the bucket (its source file deleted, say) takes its rows with it: they are deleted from the
// target, and its quarantined records from the quarantine, in one transaction claimed by an audit row of its own —
// so it happens once however many loads notice, and the notebooks' reconciliation sees the object's latest audit
// row say 0 rows loaded. That row has no MD5: the object, should it come back, loads again.
import { errorMessage } from '../util/log.ts';
import { ClaimedElsewhere, claimedElsewhere, claimObject, NO_COUNTS, type ObjectLoad } from './plan.ts';
import type { AuditRecord, LoadTables, SqlSession } from './types.ts';

export interface WithdrawOptions {
  bucketUri: string;
  objectName: string;
  /** The generation whose rows stand. */
  generation: string;
  runId: string;
  dryRun?: boolean;
}

export async function withdrawObject(
  session: SqlSession,
  tables: LoadTables,
  options: WithdrawOptions,
): Promise<ObjectLoad> {
  const { objectName, generation } = options;
  const base = { name: objectName, generation, md5: '', problems: {}, ...NO_COUNTS };
  if (options.dryRun)
    return {
      ...base,
      status: 'planned',
      reason: `gone from the bucket: would withdraw generation ${generation}`,
    };
  const record: AuditRecord = {
    dataset: tables.dataset,
    target: tables.target,
    bucket: options.bucketUri,
    objectName,
    generation: `withdrawn ${generation}`,
    md5: '',
    size: 0,
    runId: options.runId,
  };
  const { dialect } = session;
  await session.begin();
  try {
    await claimObject(session, tables, record);
    const rows = await session.execute(dialect.deleteObjectRows(tables, objectName));
    const quarantined = await session.execute(
      dialect.deleteObjectQuarantine(tables, options.bucketUri, objectName),
    );
    await session.execute(dialect.finishAudit(tables, record, { ...NO_COUNTS, rowsReplaced: rows }));
    await session.commit();
    return {
      ...base,
      rowsReplaced: rows,
      status: 'withdrawn',
      reason: `gone from the bucket: ${count(rows, 'row')} and ${count(quarantined, 'quarantined record')} withdrawn (generation ${generation} was loaded)`,
    };
  } catch (e) {
    await session.rollback().catch(() => undefined);
    if (e instanceof ClaimedElsewhere) return claimedElsewhere(session, tables, record, base);
    return { ...base, status: 'failed', reason: `${errorMessage(e)} (rolled back: its rows still stand)` };
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
