// The CSV the bulk paths read: which values go unquoted, and that NULL, empty and awkward text stay apart.
import { describe, expect, it } from 'vitest';
import { appendPlainValues, csvLine, isPlainText } from '../../src/sql/csv-line.ts';
import type { ColumnConfig } from '../../src/config/schema.ts';

const columns: ColumnConfig[] = [
  { name: 'n', type: 'integer', nullable: true },
  { name: 'd', type: 'date', nullable: false },
  { name: 's', type: 'string', nullable: true },
];

describe('csvLine', () => {
  it('quotes every value unless told otherwise, and writes NULL unquoted', () => {
    expect(csvLine(['1', '', null, 'a"b'])).toBe('"1","",,"a""b"\n');
    expect(csvLine(['1', null], { nullText: 'NULL' })).toBe('"1",NULL\n');
  });

  it('writes typed values, a plain object name and the line number unquoted; text stays quoted', () => {
    const plain = appendPlainValues(columns, 'transactions/a.csv');
    expect(plain).toEqual([true, true, false, true, true]);
    expect(csvLine(['42', '2015-01-01', '', 'transactions/a.csv', '7'], { plain })).toBe(
      '42,2015-01-01,"",transactions/a.csv,7\n',
    );
    expect(csvLine([null, '2015-01-01', null, 'x', '8'], { plain })).toBe(',2015-01-01,,x,8\n');
    expect(appendPlainValues(columns, 'odd,name.csv')).toEqual([true, true, false, false, true]);
    expect(appendPlainValues(columns)).toEqual([true, true, false, true]);
  });

  it('takes as plain only text that reads back the same unquoted', () => {
    for (const text of ['', 'NULL', 'a,b', 'a"b', 'a\nb', 'a\rb', '\\.'])
      expect(isPlainText(text)).toBe(false);
    for (const text of ['a', 'null', 'transactions/2015-01.csv', 'a b']) expect(isPlainText(text)).toBe(true);
  });
});
