// Log replay is pure: actions in, state out.
import { describe, expect, it } from 'vitest';
import type { Action, AddFile } from '../../src/delta/index.ts';
import { replay } from '../../src/delta/index.ts';
import { parseCommit } from '../../src/delta/actions.ts';
import { canWiden, deltaTypeFor, parseSchemaString } from '../../src/delta/schema.ts';
import { checkCompatible, evolveSchema } from '../../src/delta/transaction/schema-evolution.ts';
import { statsJson } from '../../src/delta/stats.ts';

const protocol: Action = { protocol: { minReaderVersion: 1, minWriterVersion: 2 } };
const metaData = (schema: string): Action => ({
  metaData: {
    id: 'id',
    format: { provider: 'parquet', options: {} },
    schemaString: `{"type":"struct","fields":[${schema}]}`,
    partitionColumns: [],
  },
});
const add = (path: string, size = 1): Action => ({
  add: { path, partitionValues: {}, size, modificationTime: 1, dataChange: true } as AddFile,
});
const remove = (path: string): Action => ({ remove: { path, deletionTimestamp: 5, dataChange: true } });
const idField = '{"name":"id","type":"long","nullable":true,"metadata":{}}';

describe('replay', () => {
  it('reconciles adds and removes by path, newest action winning', () => {
    const state = replay(
      undefined,
      [
        { version: 0, actions: [protocol, metaData(idField), add('a'), add('b')] },
        { version: 1, actions: [remove('a'), add('c')] },
        { version: 2, actions: [add('a', 7), remove('b')] },
      ],
      't',
    );
    expect(state.version).toBe(2);
    expect([...state.files.keys()].sort()).toEqual(['a', 'c']);
    expect(state.files.get('a')!.size).toBe(7);
    expect([...state.tombstones.keys()]).toEqual(['b']);
  });

  it('takes the newest metaData and protocol, and the newest txn per application', () => {
    const state = replay(
      undefined,
      [
        { version: 0, actions: [protocol, metaData(idField), { txn: { appId: 'x', version: 1 } }] },
        {
          version: 1,
          actions: [
            metaData(`${idField},{"name":"v","type":"string","nullable":true,"metadata":{}}`),
            { txn: { appId: 'x', version: 4 } },
          ],
        },
      ],
      't',
    );
    expect(parseSchemaString(state.metadata.schemaString, 't').fields.map((f) => f.name)).toEqual([
      'id',
      'v',
    ]);
    expect(state.txns.get('x')!.version).toBe(4);
  });

  it('continues from a base state (a checkpoint) and checks that versions are contiguous', () => {
    const base = replay(undefined, [{ version: 10, actions: [protocol, metaData(idField), add('a')] }], 't');
    expect(replay(base, [{ version: 11, actions: [add('b')] }], 't').files.size).toBe(2);
    expect(() => replay(base, [{ version: 12, actions: [] }], 't')).toThrow(
      /not contiguous: expected 11, found 12/,
    );
  });

  it('refuses logs without protocol or metaData, and protocols it cannot read', () => {
    expect(() => replay(undefined, [{ version: 0, actions: [protocol, add('a')] }], 't')).toThrow(
      /no metaData action/,
    );
    expect(() => replay(undefined, [{ version: 0, actions: [metaData(idField)] }], 't')).toThrow(
      /no protocol action/,
    );
    const columnMapping: Action = { protocol: { minReaderVersion: 2, minWriterVersion: 5 } };
    expect(() =>
      replay(undefined, [{ version: 0, actions: [columnMapping, metaData(idField)] }], 't'),
    ).toThrow(/needs Delta reader version 2; this module reads version 1/);
    const features: Action = {
      protocol: {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ['timestampNtz', 'columnMapping'],
      },
    };
    expect(() => replay(undefined, [{ version: 0, actions: [features, metaData(idField)] }], 't')).toThrow(
      /reader version 3 with features columnMapping/,
    );
  });

  it('parses commit files line by line, naming the line of invalid JSON', () => {
    expect(parseCommit('{"add":{"path":"a"}}\n\n{"remove":{"path":"a"}}\n', 'f')).toHaveLength(2);
    expect(() => parseCommit('{"add":{}}\n{oops', '00.json')).toThrow(
      /00.json, line 2: expected one JSON action per line/,
    );
  });
});

describe('schemas', () => {
  it('maps DuckDB types to Delta types, refusing those Delta cannot store', () => {
    expect(deltaTypeFor('DECIMAL(18,3)', 'c')).toBe('decimal(18,3)');
    expect(deltaTypeFor('TIMESTAMP WITH TIME ZONE', 'c')).toBe('timestamp');
    expect(deltaTypeFor('STRUCT("a b" INTEGER, c VARCHAR[])', 'c')).toEqual({
      type: 'struct',
      fields: [
        { name: 'a b', type: 'integer', nullable: true, metadata: {} },
        {
          name: 'c',
          type: { type: 'array', elementType: 'string', containsNull: true },
          nullable: true,
          metadata: {},
        },
      ],
    });
    expect(deltaTypeFor('MAP(VARCHAR, BIGINT)', 'm')).toEqual({
      type: 'map',
      keyType: 'string',
      valueType: 'long',
      valueContainsNull: true,
    });
    expect(() => deltaTypeFor('INTERVAL', 'gap')).toThrow(
      /column "gap": DuckDB type INTERVAL has no Delta Lake equivalent/,
    );
  });

  it('widens only without loss', () => {
    expect(canWiden('integer', 'long')).toBe(true);
    expect(canWiden('long', 'integer')).toBe(false);
    expect(canWiden('decimal(5,2)', 'decimal(10,2)')).toBe(true);
    expect(canWiden('decimal(10,4)', 'decimal(10,2)')).toBe(false);
    expect(canWiden('string', 'long')).toBe(false);
  });

  it('evolves by added nullable columns only, naming the column otherwise', () => {
    const table = parseSchemaString(`{"type":"struct","fields":[${idField}]}`, 't');
    const v = { name: 'v', type: 'string', nullable: true, metadata: {} };
    expect(evolveSchema(table, [v], 'addColumns', 't').added).toEqual(['v']);
    expect(() => evolveSchema(table, [v], 'none', 't')).toThrow(/column "v" is not in the table/);
    const next = { type: 'struct' as const, fields: [{ ...table.fields[0]!, type: 'string' }] };
    expect(() => checkCompatible(table, next, 't')).toThrow(
      /column "id" would change type from long to string/,
    );
    expect(() => checkCompatible(table, { type: 'struct', fields: [v] }, 't')).toThrow(
      /column "id" would be dropped or renamed/,
    );
    expect(() =>
      checkCompatible(table, { type: 'struct', fields: [table.fields[0]!, { ...v, nullable: false }] }, 't'),
    ).toThrow(/added column "v" must be nullable/);
  });
});

describe('statistics', () => {
  const field = (name: string, type: string) => ({ name, type, nullable: true, metadata: {} });
  const stats = (entries: Record<string, Record<string, string>>) =>
    new Map(Object.entries(entries).map(([k, v]) => [k, new Map(Object.entries(v))]));

  it('keeps every digit of longs and decimals, milliseconds of timestamps, 32 characters of strings', () => {
    const json = statsJson(
      3,
      [
        field('big', 'long'),
        field('d', 'decimal(38,10)'),
        field('ts', 'timestamp'),
        field('s', 'string'),
        field('b', 'boolean'),
      ],
      stats({
        big: { min: '-9223372036854775808', max: '9223372036854775807', null_count: '0' },
        d: { min: '-12345678901234567890.0123456789', max: '1.5000000000', null_count: '1' },
        ts: { min: '2024-01-01 10:00:00.123999+00', max: '2024-01-01 12:00:00+02', null_count: '0' },
        s: { min: 'a'.repeat(40), max: 'z'.repeat(40), null_count: '2' },
        b: { min: 'false', max: 'true', null_count: '0' },
      }),
    );
    expect(json).toContain('"big":-9223372036854775808');
    expect(json).toContain('"d":-12345678901234567890.0123456789');
    expect(json).toContain('"big":9223372036854775807');
    expect(JSON.parse(json)).toEqual({
      numRecords: 3,
      minValues: {
        big: expect.any(Number),
        d: expect.any(Number),
        ts: '2024-01-01T10:00:00.123Z',
        s: 'a'.repeat(32),
      },
      maxValues: {
        big: expect.any(Number),
        d: 1.5,
        ts: '2024-01-01T10:00:00.000Z',
        s: 'z'.repeat(32) + '\u{10FFFF}',
      },
      nullCount: { big: 0, d: 1, ts: 0, s: 2, b: 0 },
    });
  });
});
