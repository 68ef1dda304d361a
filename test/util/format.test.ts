import { describe, expect, it } from 'vitest';
import { count, formatBytes, formatDuration, formatNumber, someOf } from '../../src/util/format.ts';
import { textTable } from '../../src/util/table.ts';

describe('one number format', () => {
  it('groups thousands the en-US way, integers, big integers and fractions alike', () => {
    expect([0, 7, 1234, 1234567, -9876543, 12345678901234n].map(formatNumber)).toEqual([
      '0',
      '7',
      '1,234',
      '1,234,567',
      '-9,876,543',
      '12,345,678,901,234',
    ]);
    expect([0.001223, 1234.5, -1234.25, 1e-7, NaN].map(formatNumber)).toEqual([
      '0.001223',
      '1,234.5',
      '-1,234.25',
      '1e-7',
      'NaN',
    ]);
  });

  it('makes nouns agree with their count', () => {
    expect([count(0, 'row'), count(1, 'row'), count(2, 'row'), count(1234, 'row')]).toEqual([
      '0 rows',
      '1 row',
      '2 rows',
      '1,234 rows',
    ]);
    expect([count(1, 'entry', 'entries'), count(3, 'entry', 'entries'), count(1n, 'file')]).toEqual([
      '1 entry',
      '3 entries',
      '1 file',
    ]);
  });

  it('writes sizes, durations and the first few of a list', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(5 * 1024 ** 3)]).toEqual([
      '512 B',
      '1.5 KB',
      '5.0 GB',
    ]);
    expect([0.04, 12.34, 125, 3725].map(formatDuration)).toEqual(['0.0 s', '12.3 s', '2:05', '1:02:05']);
    expect(someOf(['a', 'b'])).toBe('a, b');
    expect(someOf(['a', 'b', 'c', 'd', 'e'])).toBe('a, b, c and 2 more');
  });

  it('is the format of the report tables', () => {
    expect(textTable([{ rows: 1234567, share: 0.5 }])).toBe(
      ['     rows  share', '─────────  ─────', '1,234,567    0.5'].join('\n'),
    );
  });
});
