// Progress lines as a terminal shows them (and as a CI log keeps them), driven through a fake stream and clock.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { aroundStatusLine, progress, type StatusStream } from '../../src/util/progress.ts';
import { screen } from './terminal.ts';

/** A terminal's stdout and stderr, written to one screen in order. */
function terminal(isTTY: boolean) {
  let written = '';
  const stream: StatusStream = { isTTY, write: (t: string) => void (written += t) };
  const log = (line: string) => aroundStatusLine(() => stream.write(`${line}\n`));
  return { stream, log, written: () => written };
}

afterEach(() => vi.useRealTimers());

describe('progress on a terminal', () => {
  it('never writes over a log line: the status line is cleared first and drawn again below it', () => {
    let now = 0;
    const tty = terminal(true);
    const p = progress('load', tty.stream, () => now);
    for (let i = 1; i <= 4; i++) {
      now += 1000;
      p.update(`${i}/4 objects`, { done: i, total: 4, count: i * 5000, unit: 'rows' });
      tty.log(`  loaded  object-${i}.csv: 5,000 rows`);
    }
    p.done('4/4 objects');
    expect(screen(tty.written())).toEqual([
      '  loaded  object-1.csv: 5,000 rows',
      '  loaded  object-2.csv: 5,000 rows',
      '  loaded  object-3.csv: 5,000 rows',
      '  loaded  object-4.csv: 5,000 rows',
      'load: 4/4 objects',
      '',
    ]);
  });

  it('shows the overall percentage, the rate and the time left', () => {
    let now = 0;
    const tty = terminal(true);
    const p = progress('load', tty.stream, () => now);
    now = 4000;
    p.update('2/8 objects', { done: 25, total: 100, count: 12_345_678, unit: 'rows' });
    expect(screen(tty.written())).toEqual(['load: 2/8 objects · 25% · 3,086,420 rows/s · ETA 12.0 s']);
    now = 8000;
    p.update('3/8 objects', { done: 1_000, total: 100_000, count: 2_000_000, unit: 'B' });
    expect(screen(tty.written())).toEqual(['load: 3/8 objects · 1% · 244.1 KB/s · ETA 13:12']);
    p.done('');
    expect(screen(tty.written())).toEqual(['']);
  });

  it('runs a timer for the step under way, also while nothing else happens', () => {
    vi.useFakeTimers();
    let now = 0;
    const tty = terminal(true);
    const p = progress('transform', tty.stream, () => now);
    p.update('04_basket_rules.sql cell 3 "Frequent itemsets" (14/22)', {
      done: 13,
      total: 22,
      stepStartedAt: 0,
    });
    expect(screen(tty.written()).at(-1)).toBe(
      'transform: 04_basket_rules.sql cell 3 "Frequent itemsets" (14/22) 0.0 s · 59%',
    );
    now = 12_300;
    vi.advanceTimersByTime(12_000);
    expect(screen(tty.written()).at(-1)).toBe(
      'transform: 04_basket_rules.sql cell 3 "Frequent itemsets" (14/22) 12.3 s · 59% · ETA 8.5 s',
    );
    // The next cell shows at once, however soon it comes.
    now = 12_310;
    p.update('04_basket_rules.sql cell 4 (15/22)', { done: 14, total: 22, stepStartedAt: 12_310 });
    expect(screen(tty.written()).at(-1)).toMatch(
      /^transform: 04_basket_rules.sql cell 4 \(15\/22\) 0.0 s · 63%/,
    );
    p.done('');
    expect(screen(tty.written())).toEqual(['']);
  });
});

describe('progress in a CI log (no terminal)', () => {
  it('writes plain lines, at most one every 5 seconds, and never a carriage return or escape', () => {
    let now = 10_000;
    const log = terminal(false);
    const p = progress('ingest', log.stream, () => now);
    p.update('1/3 files', { done: 1, total: 3 });
    now += 1000;
    p.update('2/3 files', { done: 2, total: 3 });
    log.log('  uploaded a.csv: new object');
    now += 5000;
    p.update('3/3 files', { done: 3, total: 3 });
    p.done();
    for (const control of ['\r', '\x1b']) expect(log.written()).not.toContain(control);
    expect(log.written().split('\n')).toEqual([
      'ingest: 1/3 files · 33%',
      '  uploaded a.csv: new object',
      'ingest: 3/3 files · 100%',
      'ingest: 3/3 files',
      '',
    ]);
  });
});
