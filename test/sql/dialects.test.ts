// Every dialect writes values only as parameters: statements built from an audit record full of SQL
// metacharacters never contain any of its values, and every placeholder has its parameter.
import { describe, expect, it } from 'vitest';
import type { DatasetConfig } from '../../src/config/schema.ts';
import { MysqlDialect } from '../../src/sql/mysql/dialect.ts';
import { PostgresDialect } from '../../src/sql/postgres/dialect.ts';
import { SqlServerDialect } from '../../src/sql/sqlserver/dialect.ts';
import type { AuditRecord, LoadDialect, Statement } from '../../src/sql/types.ts';
import { loadTables } from '../../src/stages/load.ts';

const HOSTILE = `x'); DROP TABLE t; -- "]\``;
const record: AuditRecord = {
  dataset: 'sales',
  target: 'sales',
  bucket: `gs://b/${HOSTILE}`,
  objectName: `sales/${HOSTILE}.csv`,
  generation: `1${HOSTILE}`,
  md5: `m${HOSTILE}`,
  size: 10,
  runId: `run${HOSTILE}`,
};
const dataset: DatasetConfig = {
  name: 'sales',
  source: { path: 'data', glob: '*.csv' },
  format: 'csv',
  csv: { header: true, delimiter: ',' },
  columns: [
    { name: 'id', type: 'string', nullable: false },
    { name: 'amount', type: 'decimal(12,2)', nullable: true },
  ],
  keys: ['id'],
  load: { mode: 'merge', table: 'sales' },
};

/** Placeholders a statement uses, in each engine's style. */
function placeholders(sql: string): number {
  const dollar = new Set([...sql.matchAll(/\$(\d+)/g)].map((m) => m[1])).size;
  const at = new Set([...sql.matchAll(/@p(\d+)/g)].map((m) => m[1])).size;
  const question = [...sql.matchAll(/\?/g)].length;
  return dollar + at + question;
}

describe.each<[string, LoadDialect]>([
  ['PostgreSQL', new PostgresDialect('postgres', 'raw')],
  ['MySQL', new MysqlDialect('raw')],
  ['SQL Server', new SqlServerDialect('raw')],
])('%s dialect', (_, dialect) => {
  it('never splices a value into SQL', () => {
    for (const mode of ['merge', 'append'] as const) {
      const t = loadTables({ ...dataset, load: { mode, table: 'sales' } });
      const statements: Statement[] = [
        dialect.lastLoad(t, record.bucket, record.objectName),
        dialect.insertAudit(t, record),
        dialect.finishAudit(t, record, {
          rowsIn: 1,
          rowsLoaded: 1,
          rowsQuarantined: 0,
          rowsReplaced: 0,
          blankLines: 0,
        }),
        dialect.deleteObjectRows(t, record.objectName),
        dialect.deleteObjectQuarantine(t, record.bucket, record.objectName),
        ...dialect.markInvalidRows(t).map((c) => c.statement),
        ...(mode === 'merge' ? dialect.markSupersededKeys(t) : []),
        ...dialect.applyRows(t, record.objectName),
        dialect.insertQuarantine(t, record),
        dialect.claimant(t, record),
        dialect.columnExists(t.quarantine, 'raw_bytes'),
        dialect.standingLoads(t, record.bucket),
        dialect.auditRowsOf(t, record.bucket),
        dialect.moveAuditRow(t, '1', record),
        dialect.moveQuarantine(t, record.bucket, `file://${HOSTILE}`),
      ];
      for (const s of statements) {
        expect(s.sql).not.toContain('DROP TABLE');
        expect(s.sql).not.toContain(HOSTILE);
        expect(placeholders(s.sql)).toBe(s.params.length);
      }
      const ddl = [...dialect.ensureTables(t), ...dialect.createStaging(t), dialect.addQuarantineBytes(t)];
      for (const sql of ddl) expect(sql).not.toMatch(/DROP TABLE t|--/);
    }
  });

  it('refuses identifiers that quoting alone would have to make safe', () => {
    for (const name of ['a"b', 'a`b', 'a]b', "a'b", 'a;b', 'a--b', 'a b', '']) {
      expect(() => dialect.quote(name)).toThrow(/expected letters, digits and _/);
      expect(() =>
        dialect.ensureTables(loadTables({ ...dataset, load: { mode: 'merge', table: name } })),
      ).toThrow(/expected letters, digits and _/);
    }
  });
});
