// Each write operation, partitioned and not, checked against PROTOCOL.md and read back.
import { beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';
import {
  deleteWhere,
  mergeDelta,
  openDeltaTable,
  registerDeltaView,
  writeDelta,
} from '../../src/delta/index.ts';
import type { SnapshotOptions } from '../../src/delta/index.ts';
import { parseMergeTail } from '../../src/delta/transaction/merge-statement.ts';
import { newConnection, rowsOf, scalar, tempDir } from './helpers.ts';
import { checkCheckpoint, checkLog, checkStats, commitsOf } from './protocol.ts';

// Every type the writer maps, with nulls, long strings (statistics truncation) and sub-millisecond instants.
const ALL_TYPES = `
  SELECT i::INTEGER AS i32, i::BIGINT * 1000000000 AS i64, (i % 100)::SMALLINT AS i16, (i % 100)::TINYINT AS i8,
         i / 7 AS dbl, (i / 3)::FLOAT AS flt, (i / 8)::DECIMAL(12,3) AS dec,
         CASE WHEN i % 5 = 0 THEN NULL ELSE 'name-' || i END AS str,
         CASE WHEN i = 3 THEN repeat('z', 40) || '-tail' ELSE 'short' END AS long_str,
         DATE '2024-02-28' + i::INTEGER AS day,
         TIMESTAMPTZ '2024-03-01 12:00:00.123456+00' + to_microseconds(i * 1001) AS ts,
         TIMESTAMP '2024-03-01 08:00:00' + INTERVAL (i) MINUTE AS naive_ts,
         i % 2 = 0 AS flag, encode('b' || i) AS bin, [i, i + 1] AS list, {'a': i, 'b': 'x' || i} AS rec,
         ['north', 'south', NULL, 'a/b=c%d'][i % 4 + 1] AS region
  FROM range(20) r(i)`;

describe('writing Delta tables', () => {
  let conn: DuckDBConnection;
  beforeAll(async () => {
    conn = await newConnection();
  });

  async function read(location: string, options: SnapshotOptions = {}): Promise<string[]> {
    await registerDeltaView(conn, 'readback', location, options);
    return rowsOf(conn, 'SELECT * FROM readback');
  }

  describe.each([
    ['not partitioned', [] as string[]],
    ['partitioned by region and flag', ['region', 'flag']],
  ])('%s', (_, partitionBy) => {
    let location: string;
    beforeAll(async () => {
      location = path.join(tempDir('delta-write'), 'table');
      await conn.run(`CREATE OR REPLACE TEMP TABLE source AS ${ALL_TYPES}`);
    });

    it('creates a table whose log, schema and statistics follow the protocol and whose rows read back', async () => {
      const result = await writeDelta(conn, location, 'SELECT * FROM source', {
        mode: 'errorIfExists',
        partitionBy,
      });
      expect(result).toMatchObject({ version: 0, rows: 20, committed: true });
      const [v0] = checkLog(location);
      const metaData = v0!.find((a) => a.metaData)!.metaData!;
      expect(metaData.partitionColumns).toEqual(partitionBy);
      const fields = JSON.parse(metaData.schemaString).fields as { name: string; type: unknown }[];
      expect(Object.fromEntries(fields.map((f) => [f.name, f.type]))).toEqual({
        i32: 'integer',
        i64: 'long',
        i16: 'short',
        i8: 'byte',
        dbl: 'double',
        flt: 'float',
        dec: 'decimal(12,3)',
        str: 'string',
        long_str: 'string',
        day: 'date',
        ts: 'timestamp',
        naive_ts: 'timestamp',
        flag: 'boolean',
        bin: 'binary',
        list: { type: 'array', elementType: 'long', containsNull: true },
        rec: {
          type: 'struct',
          fields: [
            { name: 'a', type: 'long', nullable: true, metadata: {} },
            { name: 'b', type: 'string', nullable: true, metadata: {} },
          ],
        },
        region: 'string',
      });
      const info = v0!.find((a) => a.commitInfo)!.commitInfo!;
      expect(info.operationMetrics).toMatchObject({ numOutputRows: '20', numFiles: String(result.files) });
      await checkStats(conn, location);
      // A timestamp without zone is stored as that wall-clock time in UTC.
      expect(await read(location)).toEqual(
        await rowsOf(conn, `SELECT * REPLACE (timezone('UTC', naive_ts) AS naive_ts) FROM source`),
      );
    });

    it('lays out partitions in Hive-style folders, nulls as __HIVE_DEFAULT_PARTITION__, values escaped', async () => {
      if (partitionBy.length === 0) {
        expect(fs.readdirSync(location).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
        return;
      }
      const snapshot = await openDeltaTable(location).snapshot();
      const byRegion = new Map(snapshot.files.map((f) => [f.partitionValues.region, f.path]));
      expect([...byRegion.keys()].sort()).toEqual(['a/b=c%d', 'north', 'south', null].sort());
      expect(byRegion.get(null)).toMatch(/^region=__HIVE_DEFAULT_PARTITION__\/flag=(true|false)\//);
      // The folder is region=a%2Fb%3Dc%25d; the log path URI-encodes it once more.
      expect(byRegion.get('a/b=c%d')).toMatch(/^region=a%252Fb%253Dc%2525d\/flag=/);
      expect(fs.existsSync(path.join(location, 'region=a%2Fb%3Dc%25d'))).toBe(true);
    });

    it('appends (a blind append) and rejects a second create', async () => {
      await expect(writeDelta(conn, location, 'SELECT * FROM source', { partitionBy })).rejects.toThrow(
        /already exists \(version 0\)/,
      );
      const result = await writeDelta(conn, location, 'SELECT * FROM source WHERE i32 < 5', {
        mode: 'append',
      });
      expect(result).toMatchObject({ version: 1, rows: 5 });
      const info = commitsOf(location)[1]!.find((a) => a.commitInfo)!.commitInfo!;
      expect(info).toMatchObject({ operation: 'WRITE', isBlindAppend: true, readVersion: 0 });
      expect(commitsOf(location)[1]!.some((a) => a.remove || a.metaData)).toBe(false);
      expect(await scalar(conn, 'SELECT count(*) FROM source')).toBe('20');
      await registerDeltaView(conn, 'readback', location);
      expect(await scalar(conn, 'SELECT count(*) FROM readback')).toBe('25');
      checkLog(location);
      await checkStats(conn, location);
    });

    it('adds nullable columns with schemaEvolution addColumns; older files read them as NULL', async () => {
      await expect(
        writeDelta(conn, location, `SELECT 1::INTEGER AS i32, 'x' AS extra`, { mode: 'append' }),
      ).rejects.toThrow(/column "extra" is not in the table .*schemaEvolution: 'addColumns'/);
      const result = await writeDelta(
        conn,
        location,
        `SELECT 1000::INTEGER AS i32, 'x' AS extra, 'north' AS region`,
        {
          mode: 'append',
          schemaEvolution: 'addColumns',
        },
      );
      expect(result.version).toBe(2);
      const info = commitsOf(location)[2]!.find((a) => a.commitInfo)!.commitInfo!;
      expect(info.isBlindAppend).toBe(false);
      await registerDeltaView(conn, 'readback', location);
      expect(
        await rowsOf(
          conn,
          'SELECT extra, count(*) AS n, count(i64) AS with_i64 FROM readback GROUP BY extra',
        ),
      ).toEqual(['{"extra":"x","n":"1","with_i64":"0"}', '{"extra":null,"n":"25","with_i64":"25"}']);
      // Time travel still shows the schema of version 1.
      await registerDeltaView(conn, 'readback', location, { version: 1 });
      expect(
        await rowsOf(conn, `SELECT column_name FROM (DESCRIBE readback) WHERE column_name = 'extra'`),
      ).toEqual([]);
      checkLog(location);
    });

    it('refuses incompatible changes with an error naming the column', async () => {
      await expect(writeDelta(conn, location, `SELECT 'text' AS i32`, { mode: 'append' })).rejects.toThrow(
        /column "i32" has type integer in the table, but the query gives string/,
      );
      await expect(
        writeDelta(conn, location, `SELECT 1::INTEGER AS i32`, { mode: 'append', partitionBy: ['i32'] }),
      ).rejects.toThrow(/partitioned by \[.*\], but the write asks for \[i32\]/);
      // A narrower integer widens safely.
      const widened = await writeDelta(conn, location, `SELECT 7::TINYINT AS i64, 'south' AS region`, {
        mode: 'append',
      });
      expect(widened.version).toBe(3);
      expect(await read(location)).toHaveLength(27);
    });

    it('deletes by predicate, rewriting only the files that hold matching rows', async () => {
      const before = await openDeltaTable(location).snapshot();
      const result = await deleteWhere(conn, location, `i32 BETWEEN 2 AND 4`);
      expect(result.deletedRows).toBe(6);
      const after = await openDeltaTable(location).snapshot();
      const info = commitsOf(location)[after.version]!.find((a) => a.commitInfo)!.commitInfo!;
      expect(info).toMatchObject({ operation: 'DELETE', isBlindAppend: false, readVersion: before.version });
      expect(info.operationMetrics).toMatchObject({ numDeletedRows: '6' });
      const deleteCommit = commitsOf(location)[after.version]!;
      const removed = deleteCommit.filter((a) => a.remove).map((a) => a.remove!.path);
      // Files without matching rows (e.g. the single-row appends) are untouched.
      const kept = before.files.filter((f) => !removed.includes(f.path));
      expect(kept.length).toBeGreaterThan(0);
      for (const f of kept) expect(after.state.files.has(f.path)).toBe(true);
      await registerDeltaView(conn, 'readback', location);
      expect(await scalar(conn, 'SELECT count(*) FROM readback WHERE i32 BETWEEN 2 AND 4')).toBe('0');
      expect(await scalar(conn, 'SELECT count(*) FROM readback')).toBe('21');
      expect(await deleteWhere(conn, location, 'false')).toMatchObject({
        committed: false,
        version: after.version,
      });
      checkLog(location);
      await checkStats(conn, location);
    });

    it('merges copy-on-write with the same result as DuckDB MERGE on a plain table', async () => {
      await registerDeltaView(conn, 'readback', location);
      await conn.run('CREATE OR REPLACE TEMP TABLE expected AS SELECT * FROM readback');
      const before = await openDeltaTable(location).snapshot();
      const tail = `USING (SELECT i::INTEGER AS i32, 'merged-' || i AS str, i = 7 AS gone FROM range(5, 30) r(i)) AS s
        ON t.i32 = s.i32
        WHEN MATCHED AND s.gone THEN DELETE
        WHEN MATCHED THEN UPDATE SET str = s.str
        WHEN NOT MATCHED THEN INSERT (i32, str, region) VALUES (s.i32, s.str, 'south')`;
      await conn.run(`MERGE INTO expected AS t ${tail}`);
      const result = await mergeDelta(conn, location, { targetAlias: 't', statementTail: tail });
      expect(result).toMatchObject({ committed: true, deleted: 1, inserted: 10 });
      expect(await read(location)).toEqual(await rowsOf(conn, 'SELECT * FROM expected'));
      const commit = commitsOf(location)[result.version]!;
      const info = commit.find((a) => a.commitInfo)!.commitInfo!;
      expect(info).toMatchObject({ operation: 'MERGE', readVersion: before.version, isBlindAppend: false });
      expect(info.operationMetrics).toMatchObject({ numTargetRowsDeleted: '1', numTargetRowsInserted: '10' });
      // Files whose rows match no source row (e.g. the one holding i32 = 1000) are kept as they were.
      const removed = new Set(commit.filter((a) => a.remove).map((a) => a.remove!.path));
      expect(removed.size).toBeLessThan(before.files.length);
      checkLog(location);
      await checkStats(conn, location);
    });

    it('overwrites, keeping history for time travel', async () => {
      const before = await openDeltaTable(location).snapshot();
      const result = await writeDelta(conn, location, 'SELECT * FROM source WHERE i32 >= 18', {
        mode: 'overwrite',
      });
      const commit = commitsOf(location)[result.version]!;
      expect(commit.filter((a) => a.remove)).toHaveLength(before.files.length);
      expect(await read(location)).toHaveLength(2);
      expect(await read(location, { version: 0 })).toHaveLength(20);
      checkLog(location);
    });
  });

  it('replaces a table with mode create (new schema and partitioning, same table id)', async () => {
    const location = path.join(tempDir('delta-replace'), 't');
    await writeDelta(conn, location, 'SELECT 1 AS a, 2 AS b', { mode: 'create' });
    const id = (await openDeltaTable(location).snapshot()).metadata.id;
    const result = await writeDelta(conn, location, `SELECT 'x' AS c, 1 AS p`, {
      mode: 'create',
      partitionBy: ['p'],
    });
    const snapshot = await openDeltaTable(location).snapshot();
    expect(snapshot.metadata.id).toBe(id);
    expect(snapshot.partitionColumns).toEqual(['p']);
    expect(snapshot.schema.fields.map((f) => f.name)).toEqual(['c', 'p']);
    const info = commitsOf(location)[result.version]!.find((a) => a.commitInfo)!.commitInfo!;
    expect(info.operation).toBe('CREATE OR REPLACE TABLE AS SELECT');
    expect(await read(location)).toEqual(['{"c":"x","p":1}']);
    expect(await read(location, { version: 0 })).toEqual(['{"a":1,"b":2}']);
    await expect(
      writeDelta(conn, location, `SELECT 1 AS p`, { mode: 'create', partitionBy: ['p'] }),
    ).rejects.toThrow(/at least one data column/);
    await expect(
      writeDelta(conn, location, `SELECT 1 AS p`, { mode: 'create', partitionBy: ['q'] }),
    ).rejects.toThrow(/partition column "q" is not in the query's columns \(p\)/);
    await expect(writeDelta(conn, location, `SELECT '08:00'::TIME AS t`, { mode: 'create' })).rejects.toThrow(
      /column "t": DuckDB type TIME has no Delta Lake equivalent/,
    );
  });

  it('merges with Spark semantics for INSERT * and UPDATE SET * (by name), and NOT MATCHED BY SOURCE', async () => {
    const location = path.join(tempDir('delta-merge-star'), 't');
    await writeDelta(
      conn,
      location,
      `SELECT * FROM (VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)) v(id, name, qty)`,
      {
        mode: 'create',
      },
    );
    await writeDelta(conn, location, `SELECT 9 AS id, 'z' AS name, 90 AS qty`, { mode: 'append' });
    const star = await mergeDelta(conn, location, {
      targetAlias: 't',
      statementTail: `USING (SELECT * FROM (VALUES (11, 2, 'B'), (40, 4, 'd')) v(qty, id, name)) s ON t.id = s.id
        WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *`,
    });
    expect(star).toMatchObject({ updated: 1, inserted: 1, deleted: 0 });
    // Only the first file held a matching row; the appended file was not rewritten.
    const merged = commitsOf(location)[star.version]!;
    expect(merged.filter((a) => a.remove)).toHaveLength(1);
    expect(await read(location)).toEqual([
      '{"id":1,"name":"a","qty":10}',
      '{"id":2,"name":"B","qty":11}',
      '{"id":3,"name":"c","qty":30}',
      '{"id":4,"name":"d","qty":40}',
      '{"id":9,"name":"z","qty":90}',
    ]);
    const bySource = await mergeDelta(conn, location, {
      targetAlias: 'tgt',
      statementTail: `USING (SELECT 1 AS id) AS src ON tgt.id = src.id WHEN NOT MATCHED BY SOURCE AND tgt.qty > 20 THEN DELETE`,
    });
    expect(bySource).toMatchObject({ deleted: 3, committed: true });
    expect(await read(location)).toEqual(['{"id":1,"name":"a","qty":10}', '{"id":2,"name":"B","qty":11}']);
    checkLog(location);
    await checkStats(conn, location);
  });

  it('merges inserts only without rewriting the matched files', async () => {
    const location = path.join(tempDir('delta-merge-insert'), 't');
    await writeDelta(conn, location, `SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(id, name)`, {
      mode: 'create',
    });
    const result = await mergeDelta(conn, location, {
      targetAlias: 't',
      statementTail: `USING (SELECT * FROM (VALUES (2, 'x'), (3, 'c')) v(id, name)) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *`,
    });
    expect(result).toMatchObject({ inserted: 1, updated: 0, deleted: 0, rows: 1 });
    expect(commitsOf(location)[result.version]!.filter((a) => a.remove)).toEqual([]);
    expect(await read(location)).toEqual([
      '{"id":1,"name":"a"}',
      '{"id":2,"name":"b"}',
      '{"id":3,"name":"c"}',
    ]);
  });

  it('respects delta.appendOnly, NOT NULL columns and column invariants (writer version 2)', async () => {
    const location = path.join(tempDir('delta-writer2'), 't');
    const schema = {
      type: 'struct',
      fields: [
        { name: 'id', type: 'integer', nullable: false, metadata: {} },
        {
          name: 'qty',
          type: 'integer',
          nullable: true,
          metadata: { 'delta.invariants': JSON.stringify({ expression: { expression: 'qty > 0' } }) },
        },
      ],
    };
    // A table as Spark creates it with CREATE TABLE … (id INT NOT NULL, qty INT CHECK …) TBLPROPERTIES (appendOnly).
    const v0 = [
      { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      {
        metaData: {
          id: '5d3a4c1e-0b7a-4b8e-9a51-2f1e2d3c4b5a',
          format: { provider: 'parquet', options: {} },
          schemaString: JSON.stringify(schema),
          partitionColumns: [],
          configuration: { 'delta.appendOnly': 'true' },
          createdTime: Date.now(),
        },
      },
    ];
    fs.mkdirSync(path.join(location, '_delta_log'), { recursive: true });
    fs.writeFileSync(
      path.join(location, '_delta_log', '00000000000000000000.json'),
      v0.map((a) => JSON.stringify(a)).join('\n'),
    );
    await expect(
      writeDelta(conn, location, 'SELECT NULL::INTEGER AS id, 1 AS qty', { mode: 'append' }),
    ).rejects.toThrow(/1 rows break the column "id" is NOT NULL; nothing was written/);
    await expect(writeDelta(conn, location, 'SELECT 1 AS id, 0 AS qty', { mode: 'append' })).rejects.toThrow(
      /invariant of column "qty": qty > 0/,
    );
    expect(fs.readdirSync(location).filter((f) => f.endsWith('.parquet'))).toEqual([]);
    await writeDelta(conn, location, 'SELECT 1 AS id, 5 AS qty', { mode: 'append' });
    await expect(
      writeDelta(conn, location, 'SELECT 2 AS id, 5 AS qty', { mode: 'overwrite' }),
    ).rejects.toThrow(/append-only \(delta.appendOnly = true\): overwrite would remove data/);
    await expect(deleteWhere(conn, location, 'id = 1')).rejects.toThrow(/append-only/);
    await expect(
      mergeDelta(conn, location, {
        targetAlias: 't',
        statementTail: 'USING (SELECT 1 AS id) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET qty = 9',
      }),
    ).rejects.toThrow(/append-only .*MERGE/);
    await mergeDelta(conn, location, {
      targetAlias: 't',
      statementTail:
        'USING (SELECT 1 AS id, 7 AS qty UNION ALL SELECT 2, 8) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *',
    });
    expect(await read(location)).toEqual(['{"id":1,"qty":5}', '{"id":2,"qty":8}']);
  });

  it('matches columns by position for INSERT INTO, and skips an application transaction already committed', async () => {
    const location = path.join(tempDir('delta-insert'), 't');
    await writeDelta(conn, location, `SELECT 1 AS id, 'a' AS name`, { mode: 'create' });
    await writeDelta(conn, location, `SELECT 2, 'b'`, { mode: 'append', byPosition: true });
    const first = await writeDelta(conn, location, `SELECT 3 AS id, 'c' AS name`, {
      mode: 'append',
      txn: { appId: 'nightly', version: 5 },
    });
    const again = await writeDelta(conn, location, `SELECT 3 AS id, 'c' AS name`, {
      mode: 'append',
      txn: { appId: 'nightly', version: 5 },
    });
    expect(again).toMatchObject({ committed: false, version: first.version });
    expect(await read(location)).toEqual([
      '{"id":1,"name":"a"}',
      '{"id":2,"name":"b"}',
      '{"id":3,"name":"c"}',
    ]);
  });

  it('writes a checkpoint every N commits whose content equals the replayed log, and reads through it', async () => {
    const location = path.join(tempDir('delta-checkpoint'), 't');
    await writeDelta(conn, location, 'SELECT 0 AS id, 0 AS part', {
      mode: 'create',
      partitionBy: ['part'],
      configuration: { 'delta.checkpointInterval': '4' },
    });
    for (let i = 1; i <= 9; i++) {
      const result = await writeDelta(conn, location, `SELECT ${i} AS id, ${i % 3} AS part`, {
        mode: 'append',
      });
      const expected =
        result.version % 4 === 0 ? { version: result.version, size: expect.any(Number) } : undefined;
      expect(result.checkpoint).toEqual(expected);
      if (i === 5) expect((await deleteWhere(conn, location, 'id = 2')).version).toBe(6);
    }
    const files = fs.readdirSync(path.join(location, '_delta_log'));
    expect(files.filter((f) => f.endsWith('.checkpoint.parquet'))).toEqual([
      '00000000000000000004.checkpoint.parquet',
      '00000000000000000008.checkpoint.parquet',
    ]);
    expect(await openDeltaTable(location).latestVersion()).toBe(10);
    expect(await checkCheckpoint(conn, location)).toBe(8);
    // Reading needs the checkpoint only: hide the commits it covers.
    for (let v = 0; v <= 8; v++)
      fs.rmSync(path.join(location, '_delta_log', `${String(v).padStart(20, '0')}.json`));
    expect(await read(location)).toEqual(
      await rowsOf(
        conn,
        'SELECT range::INTEGER AS id, (range % 3)::INTEGER AS part FROM range(10) WHERE range <> 2',
      ),
    );
    await expect(read(location, { version: 3 })).rejects.toThrow(/cannot rebuild version 3/);
  });

  it('checkpoints by default every 10 commits, with an option to change it', async () => {
    const location = path.join(tempDir('delta-checkpoint10'), 't');
    await writeDelta(conn, location, 'SELECT 0 AS id', { mode: 'create' });
    for (let i = 1; i <= 10; i++) await writeDelta(conn, location, `SELECT ${i} AS id`, { mode: 'append' });
    expect(await checkCheckpoint(conn, location)).toBe(10);
    const r = await writeDelta(conn, location, 'SELECT 11 AS id', { mode: 'append', checkpointInterval: 11 });
    expect(r.checkpoint).toEqual({ version: 11, size: expect.any(Number) });
  });

  it('vacuums unreferenced files older than the retention, refusing under 7 days unless forced', async () => {
    const location = path.join(tempDir('delta-vacuum'), 't');
    await writeDelta(conn, location, 'SELECT range AS id FROM range(3)', { mode: 'create' });
    await writeDelta(conn, location, 'SELECT 9 AS id', { mode: 'overwrite' });
    fs.writeFileSync(path.join(location, 'stray.parquet'), 'not referenced');
    const table = openDeltaTable(location);
    await expect(table.vacuum({ retentionHours: 0 })).rejects.toThrow(/under the safe minimum of 168 hours/);
    expect((await table.vacuum({ retentionHours: 168 })).files).toEqual([]);
    const dry = await table.vacuum({ retentionHours: 0, force: true, dryRun: true });
    const v0file = commitsOf(location)[0]!.find((a) => a.add)!.add!.path;
    expect(dry.files.sort()).toEqual([v0file, 'stray.parquet'].sort());
    expect(fs.existsSync(path.join(location, v0file))).toBe(true);
    const done = await table.vacuum({ retentionHours: 0, force: true });
    expect(done.files).toEqual(dry.files);
    expect(fs.existsSync(path.join(location, v0file))).toBe(false);
    expect(await read(location)).toEqual(['{"id":"9"}']);
    expect((await table.history(1))[0]).toMatchObject({
      operation: 'VACUUM END',
      operationMetrics: { numDeletedFiles: '2' },
    });
    checkLog(location, { removedFilesMayBeGone: true });
  });

  it('time-travels by timestamp and lists history newest first', async () => {
    const location = path.join(tempDir('delta-history'), 't');
    await writeDelta(conn, location, 'SELECT 1 AS id', { mode: 'create', userMetadata: 'first' });
    await new Promise((r) => setTimeout(r, 20));
    await writeDelta(conn, location, 'SELECT 2 AS id', { mode: 'append' });
    const table = openDeltaTable(location);
    const history = await table.history();
    expect(history.map((h) => [h.version, h.operation, h.userMetadata])).toEqual([
      [1, 'WRITE', undefined],
      [0, 'CREATE TABLE AS SELECT', 'first'],
    ]);
    expect(await read(location, { timestamp: history[1]!.timestamp })).toEqual(['{"id":1}']);
    expect(await table.history(1)).toHaveLength(1);
  });

  it('registers views by plain or schema-qualified name, pinned to their version', async () => {
    const location = path.join(tempDir('delta-views'), 't');
    await writeDelta(conn, location, 'SELECT 1 AS id', { mode: 'create' });
    const snapshot = await registerDeltaView(conn, 'gold.item_popularity', location);
    await registerDeltaView(conn, 'plain_name', location);
    await writeDelta(conn, location, 'SELECT 2 AS id', { mode: 'append' });
    expect(snapshot.version).toBe(0);
    expect(await rowsOf(conn, 'SELECT * FROM gold.item_popularity')).toEqual(['{"id":1}']);
    expect(await rowsOf(conn, 'SELECT * FROM plain_name')).toEqual(['{"id":1}']);
    expect(
      await rowsOf(
        conn,
        `SELECT schema_name, temporary FROM duckdb_views() WHERE view_name IN ('item_popularity', 'plain_name')`,
      ),
    ).toEqual(['{"schema_name":"gold","temporary":false}', '{"schema_name":"main","temporary":true}']);
    await expect(registerDeltaView(conn, 'a.b.c', location)).rejects.toThrow(/expected a view name/);
  });

  it('splits a MERGE tail at its top-level keywords', () => {
    expect(
      parseMergeTail(
        `USING (SELECT 'ON' AS x, id FROM s WHERE a IN (SELECT 1)) AS s ON t.id = s.id AND s.x = 'WHEN' WHEN MATCHED THEN DELETE`,
      ),
    ).toEqual({
      source: `(SELECT 'ON' AS x, id FROM s WHERE a IN (SELECT 1)) AS s`,
      condition: `t.id = s.id AND s.x = 'WHEN'`,
      matchesBySource: false,
      insertsOnly: false,
      onlyUnconditionalDelete: true,
      duckdbTail: expect.any(String),
    });
    expect(
      parseMergeTail(
        `USING s ON t.k = s.k WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED AND s.x = 'INSERT *' THEN INSERT *`,
      ).duckdbTail,
    ).toBe(
      `USING s ON t.k = s.k WHEN MATCHED THEN UPDATE BY NAME WHEN NOT MATCHED AND s.x = 'INSERT *' THEN INSERT BY NAME`,
    );
    expect(
      parseMergeTail('USING src ON t.k = src.k WHEN NOT MATCHED BY SOURCE THEN DELETE').matchesBySource,
    ).toBe(true);
    expect(() => parseMergeTail('ON t.id = 1')).toThrow(/expected the statement tail to read "USING/);
  });
});
