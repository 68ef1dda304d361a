import { describe, expect, it } from 'vitest';
import { readCsv, splitFields, type CsvEvent } from '../../src/csv/reader.ts';
import { splitPlainFields } from '../../src/csv/fields.ts';
import { parseValue } from '../../src/csv/values.ts';
import type { ColumnConfig } from '../../src/config/schema.ts';

const columns: ColumnConfig[] = [
  { name: 'member_number', source: 'Member_number', type: 'integer', nullable: false },
  { name: 'txn_date', source: 'Date', type: 'date', format: 'YYYY-MM-DD', nullable: false },
  { name: 'item', source: 'itemDescription', type: 'string', nullable: false },
];

async function read(input: Buffer | string, chunkSize = 7): Promise<CsvEvent[]> {
  const bytes = Buffer.from(input);
  // Small chunks exercise records, quotes and multi-byte characters split across chunk boundaries.
  const chunks = async function* () {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
  };
  const events: CsvEvent[] = [];
  for await (const e of readCsv(chunks(), columns, { header: true, delimiter: ',' })) events.push(e);
  return events;
}

/** A bad record as shown: its text instead of its bytes (bad-input.test.ts checks the bytes). */
function shown(events: CsvEvent[]) {
  return events.map((e) =>
    e.kind === 'bad' ? { kind: e.kind, line: e.line, raw: e.text, reason: e.reason } : e,
  );
}

describe('readCsv', () => {
  it('maps columns by header name, whatever their order, and types values', async () => {
    const events = await read(
      'itemDescription,Member_number,Date\nwhole milk,1808,2015-07-21\n"rolls/buns",+7,2015-1-5\n',
    );
    expect(events).toEqual([
      { kind: 'row', line: 2, values: ['1808', '2015-07-21', 'whole milk'] },
      { kind: 'row', line: 3, values: ['7', '2015-01-05', 'rolls/buns'] },
    ]);
  });

  it('quarantines each kind of bad record with its line and reason, and counts blank lines', async () => {
    const file = [
      '\ufeffMember_number,Date,itemDescription',
      '1,2015-02-30,milk',
      '2,2015-01-01',
      '3,2015-01-01,milk,extra',
      '',
      'x,2015-01-01,milk',
      '4,2015-01-01,"unterminated',
      '5,2015-01-01,ok',
    ].join('\n');
    const events = shown(await read(file));
    expect(events).toEqual([
      {
        kind: 'bad',
        line: 2,
        raw: '1,2015-02-30,milk',
        reason: 'Date: "2015-02-30" is not a calendar date (YYYY-MM-DD)',
      },
      { kind: 'bad', line: 3, raw: '2,2015-01-01', reason: 'expected 3 fields, found 2' },
      { kind: 'bad', line: 4, raw: '3,2015-01-01,milk,extra', reason: 'expected 3 fields, found 4' },
      { kind: 'blank', line: 5 },
      {
        kind: 'bad',
        line: 6,
        raw: 'x,2015-01-01,milk',
        reason: 'Member_number: expected a whole number, found "x"',
      },
      {
        kind: 'bad',
        line: 7,
        raw: '4,2015-01-01,"unterminated',
        reason:
          'a quoted field opened on line 7 is not closed where its record should end: lines 7..7 quarantined, the next record starts on line 8',
      },
      { kind: 'row', line: 8, values: ['5', '2015-01-01', 'ok'] },
    ]);
  });

  it('keeps quoted newlines in one record and counts physical lines', async () => {
    const events = await read(
      'Member_number,Date,itemDescription\n1,2015-01-01,"two\nlines"\n2,2015-01-02,"say ""hi"""\n',
    );
    expect(events).toEqual([
      { kind: 'row', line: 2, values: ['1', '2015-01-01', 'two\nlines'] },
      { kind: 'row', line: 4, values: ['2', '2015-01-02', 'say "hi"'] },
    ]);
  });

  it('treats CRLF as the line break, but keeps a stray \\r in an LF file as data', async () => {
    expect(await read('Member_number,Date,itemDescription\r\n1,2015-01-01,milk\r\n\r\n')).toEqual([
      { kind: 'row', line: 2, values: ['1', '2015-01-01', 'milk'] },
      { kind: 'blank', line: 3 },
    ]);
    expect(await read('Member_number,Date,itemDescription\n1,2015-01-01,milk\r\n')).toEqual([
      { kind: 'row', line: 2, values: ['1', '2015-01-01', 'milk\r'] },
    ]);
  });

  it('quarantines invalid UTF-8 and keeps valid multi-byte text split across chunks', async () => {
    const bad = Buffer.concat([
      Buffer.from('Member_number,Date,itemDescription\n1,2015-01-01,caf'),
      Buffer.from([0xe9, 0x0a]),
    ]);
    const good = Buffer.from('2,2015-01-01,café crème ☕\n');
    const events = shown(await read(Buffer.concat([bad, good]), 3));
    expect(events).toEqual([
      { kind: 'bad', line: 2, raw: '1,2015-01-01,caf\\xe9', reason: 'invalid UTF-8 at byte 17 of the line' },
      { kind: 'row', line: 3, values: ['2', '2015-01-01', 'café crème ☕'] },
    ]);
  });

  it('names the missing header column', async () => {
    await expect(read('Member_number,When,itemDescription\n1,2015-01-01,milk\n')).rejects.toThrow(
      'header has no column "Date" (expected Member_number, Date, itemDescription; found Member_number, When, itemDescription)',
    );
  });
});

describe('splitFields', () => {
  it('rejects malformed quoting', () => {
    expect(splitFields('a,b"c', ',')).toBe('a quote inside an unquoted field at character 4');
    expect(splitFields('"a"b,c', ',')).toBe('unexpected text after the closing quote at character 4');
    expect(splitFields('"",x,""', ',')).toEqual(['', 'x', '']);
  });

  it('cuts a record without quotes out of its chunk as split would', () => {
    const chunk = 'h1,h2\na,,b,\n;;x;;y;;\n';
    expect(splitPlainFields(chunk, 6, 11, ',')).toEqual('a,,b,'.split(','));
    expect(splitPlainFields(chunk, 12, 20, ';;')).toEqual(';;x;;y;;'.split(';;'));
    expect(splitPlainFields(chunk, 0, 2, ',')).toEqual(['h1']);
  });
});

describe('parseValue', () => {
  const col = (type: ColumnConfig['type'], extra: Partial<ColumnConfig> = {}): ColumnConfig => ({
    name: 'c',
    type,
    nullable: true,
    ...extra,
  });
  it.each([
    ['integer', '  42 ', '42'],
    ['integer', '0', '0'],
    ['integer', '007', '7'],
    ['integer', '+5', '5'],
    ['integer', '-0', '0'],
    ['integer', '4a', { error: 'expected a whole number, found "4a"' }],
    ['integer', '1234567890123456', '1234567890123456'],
    ['integer', '9223372036854775808', { error: '9223372036854775808 does not fit in a 64-bit integer' }],
    ['double', '1e3', '1000'],
    ['double', 'NaN', { error: 'expected a number, found "NaN"' }],
    ['boolean', 'Yes', 'true'],
    ['decimal(5,2)', '-012.5', '-12.5'],
    ['decimal(5,2)', '1234.5', { error: '1234.5 has more than 3 digits before the decimal point' }],
    ['decimal(5,2)', '1.234', { error: '1.234 has more than 2 decimal places' }],
    ['timestamp', '2015-07-21T10:00:00+02:00', '2015-07-21T08:00:00Z'],
    ['timestamp', '2015-07-21 25:00', { error: '"2015-07-21 25:00" is not a valid time of day' }],
    ['date', '2016-02-29', '2016-02-29'],
    ['date', '2015-02-29', { error: '"2015-02-29" is not a calendar date (YYYY-MM-DD)' }],
    ['string', ' keep \r', ' keep \r'],
    ['string', '', null],
  ] as const)('%s %j → %j', (type, text, expected) => {
    expect(parseValue(text, col(type))).toEqual(expected);
  });
  it('parses other date formats and refuses empty non-nullable values', () => {
    expect(parseValue('21-07-2015', col('date', { format: 'DD-MM-YYYY' }))).toBe('2015-07-21');
    expect(parseValue('07/21/2015', col('date', { format: 'MM/DD/YYYY' }))).toBe('2015-07-21');
    expect(parseValue('', col('integer', { nullable: false }))).toEqual({
      error: 'empty, but the column is not nullable',
    });
  });
});

describe('timestamps with an offset', () => {
  const ts: ColumnConfig = { name: 't', type: 'timestamp', nullable: true };
  it.each([
    ['2015-07-21T10:00:00.123456+02:00', '2015-07-21T08:00:00.123456Z'],
    ['2015-07-21 00:30:00.5-0130', '2015-07-21T02:00:00.5Z'],
    ['2016-03-01T00:15:00+00:30', '2016-02-29T23:45:00Z'],
    ['2015-07-21T10:00Z', '2015-07-21T10:00:00Z'],
  ])('%s → %s, microseconds kept', (text, expected) => {
    expect(parseValue(text, ts)).toBe(expected);
  });
});
