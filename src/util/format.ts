// One way to write numbers for people, in every log line, report and summary: en-US grouping (1,234,567), nouns
// that agree with their count ("1 row", "2 rows"), sizes and durations.

/** 1234567 → "1,234,567"; a fraction keeps its digits as JavaScript prints them (0.001223), grouped before the point. */
export function formatNumber(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toLocaleString('en-US');
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const text = String(value);
  if (!/^-?\d+\.\d+$/.test(text)) return text; // NaN, Infinity, 1e-7
  const [whole, fraction] = text.replace('-', '').split('.');
  return `${value < 0 ? '-' : ''}${BigInt(whole!).toLocaleString('en-US')}.${fraction}`;
}

/** "1 row", "2 rows", "1,234 rows"; `plural` for nouns that do not just take an s ("1 entry", "2 entries"). */
export function count(n: number | bigint, singular: string, plural = `${singular}s`): string {
  return `${formatNumber(n)} ${n === 1 || n === 1n ? singular : plural}`;
}

/** The first few of a list and how many more: "a.csv, b.csv, c.csv and 21 more". */
export function someOf(names: readonly string[], shown = 3): string {
  const head = names.slice(0, shown).join(', ');
  return names.length > shown ? `${head} and ${formatNumber(names.length - shown)} more` : head;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? formatNumber(value) : value.toFixed(1)} ${units[unit]}`;
}

/** A duration: "0.4 s", "12.3 s" under a minute, then "2:05" and "1:02:05" (what a clock shows). */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
