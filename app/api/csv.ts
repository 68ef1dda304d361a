// CSV as RFC 4180 writes it: a header, CRLF line ends, fields quoted when they hold a comma, a quote or a line
// break. Numbers keep every digit JSON would give them; infinities are `inf` and `-inf`, as pandas writes them.
import type { SourceValue } from '../source.ts';

function field(value: SourceValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  const text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csv(columns: string[], rows: (SourceValue | undefined)[][]): string {
  return [columns, ...rows].map((row) => row.map(field).join(',') + '\r\n').join('');
}
