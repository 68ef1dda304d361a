// The reader under hostile input: a quote left open, NUL bytes, invalid UTF-8, other line endings, lines without
// end. A bad record never takes good ones with it, and a quarantined record keeps the bytes that arrived.
import { describe, expect, it } from 'vitest';
import { readCsv, type CsvEvent } from '../../src/csv/reader.ts';
import type { ColumnConfig } from '../../src/config/schema.ts';

const columns: ColumnConfig[] = [
  { name: 'member_number', source: 'Member_number', type: 'integer', nullable: false },
  { name: 'txn_date', source: 'Date', type: 'date', format: 'YYYY-MM-DD', nullable: false },
  { name: 'item', source: 'itemDescription', type: 'string', nullable: false },
];
const HEADER = 'Member_number,Date,itemDescription';

async function read(
  input: Buffer | string,
  chunkSize = 64 * 1024,
  options: { maxRecordBytes?: number } = {},
): Promise<CsvEvent[]> {
  const bytes = Buffer.from(input);
  const chunks = async function* () {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
  };
  const events: CsvEvent[] = [];
  for await (const e of readCsv(chunks(), columns, { header: true, delimiter: ',', ...options }))
    events.push(e);
  return events;
}

const bad = (events: CsvEvent[]) => events.filter((e) => e.kind === 'bad');
const rows = (events: CsvEvent[]) => events.filter((e) => e.kind === 'row');
const goodLines = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `${from + i},2015-01-01,milk\n`).join('');

describe('a quote left open', () => {
  it('costs only its own line: the 100,000 rows after it are read', async () => {
    const events = await read(`${HEADER}\n1,2015-01-01,"never closed\n${goodLines(100_000)}`);
    expect(rows(events)).toHaveLength(100_000);
    expect(bad(events)).toEqual([
      {
        kind: 'bad',
        line: 2,
        lastLine: 2,
        raw: Buffer.from('1,2015-01-01,"never closed'),
        text: '1,2015-01-01,"never closed',
        reason: expect.stringMatching(/quoted field opened on line 2 .*lines 2\.\.2 .*line 3/),
      },
    ]);
    expect(rows(events)[0]).toMatchObject({ line: 3, values: ['0', '2015-01-01', 'milk'] });
  });

  it('is bounded the same way in small chunks, and at the end of the file', async () => {
    const events = await read(`${HEADER}\n${goodLines(3)}4,2015-01-01,"open\n${goodLines(2, 5)}`, 5);
    expect(rows(events).map((e) => e.line)).toEqual([2, 3, 4, 6, 7]);
    expect(bad(events).map((e) => [e.line, e.kind === 'bad' && e.lastLine])).toEqual([[5, 5]]);
    const last = await read(`${HEADER}\n${goodLines(2)}3,2015-01-01,"open\nrest of it`, 3);
    expect(rows(last)).toHaveLength(2);
    expect(bad(last)).toEqual([
      expect.objectContaining({
        line: 4,
        lastLine: 5,
        raw: Buffer.from('3,2015-01-01,"open\nrest of it'),
        reason: expect.stringMatching(/never closed/),
      }),
    ]);
  });

  it('closed by a stray quote lines later does not swallow the lines between', async () => {
    const file = `${HEADER}\n1,2015-01-01,"open\n${goodLines(50, 2)}60,2015-01-01,"closes"late\n${goodLines(1, 61)}`;
    const events = await read(file);
    expect(rows(events)).toHaveLength(51);
    expect(bad(events).map((e) => e.line)).toEqual([2, 53]);
  });

  it('keeps a quoted field that spans lines legitimately', async () => {
    const events = await read(`${HEADER}\n1,2015-01-01,"two\n2,2015-01-01,x\nlines"\n2,2015-01-02,y\n`);
    expect(events).toEqual([
      { kind: 'row', line: 2, values: ['1', '2015-01-01', 'two\n2,2015-01-01,x\nlines'] },
      { kind: 'row', line: 5, values: ['2', '2015-01-02', 'y'] },
    ]);
  });

  it('is cut at the line-length limit when no later line parses', async () => {
    const junk = Array.from({ length: 50 }, () => 'no,record\n').join('');
    const events = await read(`${HEADER}\n1,2015-01-01,"open\n${junk}${goodLines(2, 100)}`, 64, {
      maxRecordBytes: 200,
    });
    expect(rows(events).map((e) => e.kind === 'row' && e.values[0])).toEqual(['100', '101']);
    const spans = bad(events);
    expect(spans[0]).toMatchObject({ line: 2, reason: expect.stringMatching(/200 bytes/) });
    // Every line is accounted for: quarantined spans and rows cover lines 2..54 without a gap.
    const covered = spans.flatMap((e) =>
      e.kind === 'bad' ? Array.from({ length: e.lastLine - e.line + 1 }, (_, i) => e.line + i) : [],
    );
    expect([...covered, 53, 54].sort((a, b) => a - b)).toEqual(Array.from({ length: 53 }, (_, i) => i + 2));
  });
});

describe('what arrived is kept', () => {
  it('quarantines a NUL byte with its bytes, shown escaped', async () => {
    const line = Buffer.from('1,2015-01-01,mi\0lk');
    const events = await read(
      Buffer.concat([Buffer.from(`${HEADER}\n`), line, Buffer.from('\n2,2015-01-01,ok\n')]),
    );
    expect(bad(events)).toEqual([
      {
        kind: 'bad',
        line: 2,
        lastLine: 2,
        raw: line,
        text: '1,2015-01-01,mi\\x00lk',
        reason: 'contains a NUL character, which SQL text columns cannot hold',
      },
    ]);
    expect(rows(events)).toHaveLength(1);
  });

  it('quarantines invalid UTF-8 with its bytes, not U+FFFD', async () => {
    const line = Buffer.concat([
      Buffer.from('1,2015-01-01,caf'),
      Buffer.from([0xe9, 0xff]),
      Buffer.from('!'),
    ]);
    const events = await read(Buffer.concat([Buffer.from(`${HEADER}\n`), line, Buffer.from('\n')]), 3);
    expect(bad(events)).toEqual([
      {
        kind: 'bad',
        line: 2,
        lastLine: 2,
        raw: line,
        text: '1,2015-01-01,caf\\xe9\\xff!',
        reason: 'invalid UTF-8 at byte 17 of the line',
      },
    ]);
  });

  it('bounds a line that never ends, keeping its first bytes', async () => {
    const long = `1,2015-01-01,${'x'.repeat(5000)}`;
    const events = await read(`${HEADER}\n${long}\n2,2015-01-01,ok\n`, 256, { maxRecordBytes: 1000 });
    expect(rows(events)).toEqual([{ kind: 'row', line: 3, values: ['2', '2015-01-01', 'ok'] }]);
    expect(bad(events)).toEqual([
      expect.objectContaining({
        line: 2,
        raw: Buffer.from(long.slice(0, 1000)),
        reason: 'longer than the line-length limit of 1000 bytes (the first 1000 are kept)',
      }),
    ]);
  });
});

describe('line endings', () => {
  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR only', '\r'],
  ])('splits records on %s', async (_name, eol) => {
    const file = [HEADER, '1,2015-01-01,milk', '2,2015-01-02,"two', 'lines"', '', '3,2015-01-03,tea'].join(
      eol,
    );
    for (const chunk of [1, 2, 64]) {
      const events = await read(file, chunk);
      expect(events).toEqual([
        { kind: 'row', line: 2, values: ['1', '2015-01-01', 'milk'] },
        { kind: 'row', line: 3, values: ['2', '2015-01-02', `two${eol}lines`] },
        { kind: 'blank', line: 5 },
        { kind: 'row', line: 6, values: ['3', '2015-01-03', 'tea'] },
      ]);
    }
  });
});
