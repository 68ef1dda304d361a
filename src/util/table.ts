// Plain-text and Markdown tables for the CLI's summaries and the actions' job summaries; numbers as format.ts writes
// them.
import { formatNumber } from './format.ts';

export { formatBytes } from './format.ts';
export type Row = Record<string, string | number | bigint | boolean | null | undefined>;

export function textTable(rows: Row[], columns: string[] = Object.keys(rows[0] ?? {})): string {
  const cells = rows.map((r) => columns.map((c) => show(r[c])));
  const numeric = columns.map((_, i) => cells.every((row) => row[i] === '' || /^-?[\d,.]+%?$/.test(row[i]!)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export function markdownTable(rows: Row[], columns: string[] = Object.keys(rows[0] ?? {})): string {
  const escape = (v: string) => v.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `| ${columns.map(escape).join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${columns.map((c) => escape(show(r[c]))).join(' | ')} |`),
  ].join('\n');
}

function show(v: Row[string]): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'bigint') return formatNumber(v);
  return String(v);
}
