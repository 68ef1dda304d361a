// Several source rows matching one target row, on Spark with Delta Lake and on our writer: the same MERGEs pass,
// and the same MERGE fails (DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE), leaving the same rows.
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import { mergeDelta, registerDeltaView, writeDelta } from '../../src/delta/index.ts';
import { needsSpark } from '../helpers/services.ts';
import { runSparkJob } from '../helpers/spark.ts';
import { newConnection, rowsOf, tempDir } from './helpers.ts';

const ok = await needsSpark();

const source = (rows: string) => `(SELECT * FROM (VALUES ${rows}) v(id, name)) s ON t.id = s.id`;
// Allowed with duplicates (inserts only; a lone unconditional delete, which removes 2 and the 5 just inserted), then
// refused although only one of the two source rows meets the clause's condition: Delta counts by ON alone.
const MERGES = [
  `${source("(2, 'x'), (2, 'y'), (5, 'new')")} WHEN NOT MATCHED THEN INSERT *`,
  `${source("(2, 'x'), (2, 'y'), (5, 'new')")} WHEN MATCHED THEN DELETE WHEN NOT MATCHED AND s.name = 'z' THEN INSERT *`,
  `${source("(1, 'x'), (1, 'y')")} WHEN MATCHED AND s.name = 'x' THEN UPDATE SET name = s.name`,
];

describe.runIf(ok)('MERGE with several source rows per target row, as Spark does it', () => {
  test('the same merges pass and fail on both', { timeout: 600_000 }, async () => {
    const root = tempDir('delta-merge-spark');
    const [ours, spark] = [path.join(root, 'ours'), path.join(root, 'spark')];
    const conn = await newConnection();
    const start = `SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) v(id, name)`;
    await writeDelta(conn, ours, start, { mode: 'create' });
    const outcomes: string[] = [];
    for (const merge of MERGES) {
      const statementTail = `USING ${merge}`;
      outcomes.push(
        await mergeDelta(conn, ours, { targetAlias: 't', statementTail }).then(
          () => 'ok',
          (e: Error) =>
            /DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE/.test(e.message) ? 'refused' : e.message,
        ),
      );
    }
    await registerDeltaView(conn, 'ours', ours);
    const ourRows = await rowsOf(conn, 'SELECT id, name FROM ours ORDER BY id');

    const table = `delta.\`${spark}\``;
    const results = await runSparkJob({
      statements: [
        { id: 'create', sql: `CREATE TABLE ${table} USING DELTA AS ${start}` },
        ...MERGES.map((merge, i) => ({
          id: `merge${i}`,
          sql: `MERGE INTO ${table} t USING ${merge}`,
        })),
      ],
    });
    const sparkOutcomes = MERGES.map((_, i) => {
      const r = results.get(`merge${i}`);
      if (r?.ok) return 'ok';
      return r && /DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE/.test(r.error ?? '')
        ? 'refused'
        : r?.error;
    });
    expect(outcomes).toEqual(['ok', 'ok', 'refused']);
    expect(sparkOutcomes).toEqual(outcomes);
    // Spark stopped at the refused merge; both tables hold the rows of the merges that passed.
    await registerDeltaView(conn, 'theirs', spark);
    expect(await rowsOf(conn, 'SELECT id, name FROM theirs ORDER BY id')).toEqual(ourRows);
    expect(ourRows).toEqual(['{"id":1,"name":"a"}', '{"id":3,"name":"c"}']);
  });
});
