// MERGE refuses several source rows matching one target row, under the same rule as Delta Lake
// (DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE), and leaves the table unchanged when it does.
import { beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import path from 'node:path';
import { mergeDelta, registerDeltaView, writeDelta } from '../../src/delta/index.ts';
import { parseMergeTail } from '../../src/delta/transaction/merge-statement.ts';
import { newConnection, rowsOf, tempDir } from './helpers.ts';

const DUPLICATED_SOURCE = `USING (SELECT * FROM (VALUES (2, 'x'), (2, 'y'), (5, 'new')) v(id, name)) s ON t.id = s.id`;

describe('MERGE with several source rows per target row', () => {
  let conn: DuckDBConnection;
  beforeAll(async () => {
    conn = await newConnection();
  });

  async function table(name: string): Promise<string> {
    const location = path.join(tempDir(`delta-merge-${name}`), 't');
    await writeDelta(conn, location, `SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) v(id, name)`, {
      mode: 'create',
    });
    return location;
  }

  async function read(location: string): Promise<string[]> {
    await registerDeltaView(conn, 'readback', location);
    return rowsOf(conn, 'SELECT * FROM readback');
  }

  const ORIGINAL = ['{"id":1,"name":"a"}', '{"id":2,"name":"b"}', '{"id":3,"name":"c"}'];

  it.each([
    ['an update', 'WHEN MATCHED THEN UPDATE SET name = s.name'],
    ['a conditional delete', "WHEN MATCHED AND s.name = 'x' THEN DELETE"],
    // Delta counts matches by the ON condition alone: a clause condition that only one of them meets does not help.
    [
      'an update whose condition only one source row meets',
      "WHEN MATCHED AND s.name = 'x' THEN UPDATE SET *",
    ],
    [
      'an unconditional delete beside an update',
      "WHEN MATCHED AND s.name = 'q' THEN UPDATE SET * WHEN MATCHED THEN DELETE",
    ],
    ['an update and an insert', 'WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *'],
  ])('fails for %s, naming the table and the key, and commits nothing', async (_, clauses) => {
    const location = await table('dup');
    await expect(
      mergeDelta(conn, location, { targetAlias: 't', statementTail: `${DUPLICATED_SOURCE} ${clauses}` }),
    ).rejects.toThrow(
      `mergeDelta: DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE: 2 source rows match the same target row of ${location} (t.id = 2) under ON t.id = s.id`,
    );
    expect(await read(location)).toEqual(ORIGINAL);
  });

  it('allows them for inserts only and for a lone unconditional WHEN MATCHED THEN DELETE, as Delta does', async () => {
    const inserts = await table('inserts');
    const inserted = await mergeDelta(conn, inserts, {
      targetAlias: 't',
      statementTail: `${DUPLICATED_SOURCE} WHEN NOT MATCHED THEN INSERT *`,
    });
    expect(inserted).toMatchObject({ inserted: 1, updated: 0, deleted: 0 });
    expect(await read(inserts)).toEqual([...ORIGINAL, '{"id":5,"name":"new"}']);

    const deletes = await table('deletes');
    const deleted = await mergeDelta(conn, deletes, {
      targetAlias: 't',
      statementTail: `${DUPLICATED_SOURCE} WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT *`,
    });
    expect(deleted).toMatchObject({ inserted: 1, deleted: 1 });
    expect(await read(deletes)).toEqual([
      '{"id":1,"name":"a"}',
      '{"id":3,"name":"c"}',
      '{"id":5,"name":"new"}',
    ]);
  });

  it('names a quoted key and string values in the error', async () => {
    const location = path.join(tempDir('delta-merge-quoted'), 't');
    await writeDelta(conn, location, `SELECT 'it''s' AS "OrderId", 1 AS qty`, { mode: 'create' });
    await expect(
      mergeDelta(conn, location, {
        targetAlias: 'tgt',
        statementTail: `USING (SELECT 'it''s' AS k FROM range(3)) AS src ON tgt."OrderId" = src.k AND TGT.qty = 1 WHEN MATCHED THEN UPDATE SET qty = 2`,
      }),
    ).rejects.toThrow(
      /3 source rows match the same target row of .* \(tgt\."OrderId" = 'it''s', tgt\.qty = 1\)/,
    );
  });

  it('reads which clauses a MERGE tail has', () => {
    const flags = (clauses: string) => {
      const { insertsOnly, onlyUnconditionalDelete } = parseMergeTail(`USING s ON t.k = s.k ${clauses}`);
      return { insertsOnly, onlyUnconditionalDelete };
    };
    expect(
      flags('WHEN NOT MATCHED THEN INSERT * WHEN NOT MATCHED BY TARGET AND s.k > 1 THEN INSERT *'),
    ).toEqual({
      insertsOnly: true,
      onlyUnconditionalDelete: false,
    });
    expect(flags('WHEN NOT MATCHED BY SOURCE THEN DELETE')).toEqual({
      insertsOnly: false,
      onlyUnconditionalDelete: false,
    });
    expect(flags("WHEN MATCHED AND (s.c = 'WHEN MATCHED THEN DELETE') THEN DELETE")).toEqual({
      insertsOnly: false,
      onlyUnconditionalDelete: false,
    });
    expect(flags('when matched then delete when not matched then insert *')).toEqual({
      insertsOnly: false,
      onlyUnconditionalDelete: true,
    });
  });
});
