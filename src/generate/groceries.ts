// src/generate/ holds the synthetic grocery data: this generator and its item catalogue (items.ts).
//
// Synthetic grocery transactions in the format of the dataset the system was built for
// (`Member_number,Date,itemDescription`), deterministic for a seed, streamed to one CSV per month so that
// millions of rows need no more memory than one day of baskets.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { HABITS, ITEMS } from './items.ts';
import { mulberry32 } from '../util/random.ts';

export const DIRTY_KINDS = ['trailing_cr', 'blank_line', 'bad_date', 'field_count', 'duplicate'] as const;
export type DirtyKind = (typeof DIRTY_KINDS)[number];

export interface GenerateOptions {
  /** Lines written after the headers, dirty ones included. */
  rows: number;
  seed: number;
  outDir: string;
  /** Share of lines that are dirty, 0–1. */
  dirtyShare?: number;
  /** First day (ISO); the data covers `days` days from it. */
  start?: string;
  days?: number;
  split?: 'month' | 'single';
}

export interface GenerateResult {
  files: string[];
  lines: number;
  cleanRows: number;
  baskets: number;
  dirty: Record<DirtyKind, number>;
}

export const HEADER = 'Member_number,Date,itemDescription';

export async function generateGroceries(options: GenerateOptions): Promise<GenerateResult> {
  const {
    rows,
    seed,
    outDir,
    dirtyShare = 0.01,
    start = '2014-01-01',
    days = 729,
    split = 'month',
  } = options;
  if (!Number.isInteger(rows) || rows < 1)
    throw new Error(`--rows: expected a positive whole number, found ${rows}`);
  if (!(dirtyShare >= 0 && dirtyShare <= 1))
    throw new Error(`dirty share: expected 0 to 1, found ${dirtyShare}`);
  const random = mulberry32(seed);
  const pickItem = weightedPicker(
    ITEMS.map((_, rank) => 1 / (rank + 4) ** 1.05),
    random,
  );
  const memberCount = Math.max(20, Math.round(rows / 10));
  const pickMember = weightedPicker(
    Array.from({ length: memberCount }, () => Math.exp(random() * 2.5)),
    random,
  );
  const startDay = Date.parse(`${start}T00:00:00Z`);
  if (Number.isNaN(startDay)) throw new Error(`start: expected a date like 2014-01-01, found ${start}`);
  const dates = Array.from({ length: days }, (_, d) => new Date(startDay + d * 86_400_000));
  const budgets = apportion(rows, dates.map(dayWeight));

  await fsp.mkdir(outDir, { recursive: true });
  const writer = new CsvFiles(outDir, split);
  const result: GenerateResult = {
    files: [],
    lines: 0,
    cleanRows: 0,
    baskets: 0,
    dirty: Object.fromEntries(DIRTY_KINDS.map((k) => [k, 0])) as Record<DirtyKind, number>,
  };
  let previous = '';
  for (const [d, date] of dates.entries()) {
    const iso = date.toISOString().slice(0, 10);
    let budget = budgets[d]!;
    while (budget > 0) {
      const member = 1000 + pickMember();
      const basket = makeBasket(random, pickItem).slice(0, budget);
      result.baskets++;
      for (const item of basket) {
        const clean = `${member},${iso},${csvField(item)}`;
        const kind =
          random() < dirtyShare ? DIRTY_KINDS[Math.floor(random() * DIRTY_KINDS.length)]! : undefined;
        const line = kind ? dirtyLine(kind, clean, previous || clean, member, date, item, random) : clean;
        await writer.write(date, line);
        if (kind) result.dirty[kind]++;
        // A trailing \r and a duplicate still carry a real row; the others replace it.
        if (!kind || kind === 'trailing_cr' || kind === 'duplicate') result.cleanRows++;
        previous = clean;
        budget--;
        result.lines++;
      }
    }
  }
  result.files = await writer.close();
  return result;
}

function makeBasket(random: () => number, pickItem: () => number): string[] {
  // Basket sizes fall off geometrically from one item, capped at a dozen (mean about 2.5).
  let size = 1;
  while (size < 12 && random() < 0.6) size++;
  const basket = new Set<string>();
  while (basket.size < size) basket.add(ITEMS[pickItem()]!);
  for (const habit of HABITS)
    if (habit.when.every((i) => basket.has(i)) && random() < habit.probability) basket.add(habit.add);
  return [...basket];
}

function dirtyLine(
  kind: DirtyKind,
  clean: string,
  previous: string,
  member: number,
  date: Date,
  item: string,
  random: () => number,
): string {
  switch (kind) {
    case 'trailing_cr':
      return `${clean}\r`;
    case 'blank_line':
      return '';
    case 'bad_date': {
      const y = date.getUTCFullYear();
      const bad = [`${y}-02-30`, `${y}-13-01`, 'n/a', `${date.getUTCDate()}.${date.getUTCMonth() + 1}.${y}`];
      return `${member},${bad[Math.floor(random() * bad.length)]},${csvField(item)}`;
    }
    case 'field_count':
      return random() < 0.5 ? `${member},${csvField(item)}` : `${clean},${member}`;
    case 'duplicate':
      return previous;
  }
}

/** Weekends, December and the second year sell more: the sales plots have shape. */
function dayWeight(date: Date): number {
  const weekday = [0.75, 0.9, 0.95, 1, 1.05, 1.25, 1.3][date.getUTCDay()]!;
  const month = 1 + 0.12 * Math.cos(((date.getUTCMonth() - 7) / 12) * 2 * Math.PI);
  const year = date.getUTCFullYear() % 2 === 1 ? 1.1 : 1;
  return weekday * month * year;
}

/** Splits `total` into whole parts proportional to `weights` (largest remainder), so the sum is exact. */
export function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (w / sum) * total);
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((a, b) => a + b, 0);
  const order = exact
    .map((e, i) => [e - Math.floor(e), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    parts[i]!++;
  }
  return parts;
}

function weightedPicker(weights: number[], random: () => number): () => number {
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) cumulative.push((sum += w));
  return () => {
    const target = random() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV file per month (or a single file), opened as the days reach it and written with back-pressure. */
class CsvFiles {
  private current: { key: string; stream: fs.WriteStream } | undefined;
  private readonly files: string[] = [];
  private readonly outDir: string;
  private readonly split: 'month' | 'single';

  constructor(outDir: string, split: 'month' | 'single') {
    this.outDir = outDir;
    this.split = split;
  }

  async write(date: Date, line: string): Promise<void> {
    const key = this.split === 'month' ? date.toISOString().slice(0, 7) : 'all';
    if (this.current?.key !== key) {
      await this.closeCurrent();
      const file = path.join(this.outDir, key === 'all' ? 'transactions.csv' : `transactions-${key}.csv`);
      this.current = { key, stream: fs.createWriteStream(file) };
      this.files.push(file);
      this.current.stream.write(`${HEADER}\n`);
    }
    if (!this.current.stream.write(`${line}\n`)) await once(this.current.stream, 'drain');
  }

  async close(): Promise<string[]> {
    await this.closeCurrent();
    return this.files;
  }

  private async closeCurrent(): Promise<void> {
    if (!this.current) return;
    const { stream } = this.current;
    this.current = undefined;
    await new Promise<void>((resolve, reject) =>
      stream.end((e?: Error | null) => (e ? reject(e) : resolve())),
    );
  }
}
