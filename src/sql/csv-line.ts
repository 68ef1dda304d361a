/**
 * One row in the CSV form PostgreSQL's COPY (FORMAT csv) reads: every value quoted, so that an empty string
 * stays an empty string, and NULL written as an unquoted empty field.
 */
export function csvLine(values: readonly (string | null)[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i) line += ',';
    if (v !== null && v !== undefined) line += `"${v.includes('"') ? v.replace(/"/g, '""') : v}"`;
  }
  return line + '\n';
}
