// Plain-text and Markdown tables for the CLI's summaries and the actions' job summaries.
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
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : String(v);
  if (typeof v === 'bigint') return v.toLocaleString('en-US');
  return String(v);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
