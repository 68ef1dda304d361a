// Typing CSV fields per the config. Values are normalised to the text form every SQL engine casts without
// ambiguity (integers without "+", dates as YYYY-MM-DD, timestamps as ISO 8601), or rejected with a reason.
import type { ColumnConfig } from '../config/schema.ts';

export type Parsed = string | null | { error: string };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function parseValue(field: string, column: ColumnConfig): Parsed {
  // Strings keep every character (a trailing space or \r is for the notebooks to clean); other types tolerate
  // surrounding spaces.
  const text = column.type === 'string' ? field : field.trim();
  if (text === '') return column.nullable ? null : { error: 'empty, but the column is not nullable' };
  switch (column.type) {
    case 'string':
      return text;
    case 'integer':
      return parseInteger(text);
    case 'double':
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) && Number.isFinite(Number(text))
        ? String(Number(text))
        : { error: `expected a number, found ${quote(text)}` };
    case 'boolean':
      return parseBoolean(text);
    case 'date':
      return parseDate(text, column.format ?? 'YYYY-MM-DD');
    case 'timestamp':
      return parseTimestamp(text);
    default:
      return parseDecimal(text, column.type);
  }
}

function parseInteger(text: string): Parsed {
  if (isPlainInteger(text)) return text;
  if (!/^[+-]?\d+$/.test(text)) return { error: `expected a whole number, found ${quote(text)}` };
  // Up to 15 digits fit a double exactly; only longer numbers need BigInt's range check.
  if (text.length <= 15) return String(Number(text));
  const value = BigInt(text);
  if (value < INT64_MIN || value > INT64_MAX) return { error: `${text} does not fit in a 64-bit integer` };
  return value.toString();
}

function parseBoolean(text: string): Parsed {
  const lower = text.toLowerCase();
  if (['true', 't', 'yes', 'y', '1'].includes(lower)) return 'true';
  if (['false', 'f', 'no', 'n', '0'].includes(lower)) return 'false';
  return { error: `expected true/false, found ${quote(text)}` };
}

function parseDecimal(text: string, type: string): Parsed {
  const [, precision, scale] = /decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)/.exec(type)!.map(Number) as [
    number,
    number,
    number,
  ];
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[2] === '' && !match[3]))
    return { error: `expected a decimal number, found ${quote(text)}` };
  const whole = match[2]!.replace(/^0+(?=\d)/, '');
  const fraction = match[3] ?? '';
  if (fraction.length > scale) return { error: `${text} has more than ${scale} decimal places` };
  if (whole.replace(/^0$/, '').length > precision - scale)
    return { error: `${text} has more than ${precision - scale} digits before the decimal point` };
  return `${match[1] === '-' ? '-' : ''}${whole || '0'}${fraction ? `.${fraction}` : ''}`;
}

const DATE_PATTERNS: Record<string, RegExp> = {
  'YYYY-MM-DD': /^(?<y>\d{4})-(?<m>\d{1,2})-(?<d>\d{1,2})$/,
  'DD-MM-YYYY': /^(?<d>\d{1,2})-(?<m>\d{1,2})-(?<y>\d{4})$/,
  'MM/DD/YYYY': /^(?<m>\d{1,2})\/(?<d>\d{1,2})\/(?<y>\d{4})$/,
  'DD/MM/YYYY': /^(?<d>\d{1,2})\/(?<m>\d{1,2})\/(?<y>\d{4})$/,
  YYYYMMDD: /^(?<y>\d{4})(?<m>\d{2})(?<d>\d{2})$/,
};

export function parseDate(text: string, format: string): Parsed {
  if (format === 'YYYY-MM-DD' && isoDay(text)) return text;
  const groups = DATE_PATTERNS[format]!.exec(text)?.groups;
  if (!groups) return { error: `expected a date as ${format}, found ${quote(text)}` };
  const [y, m, d] = [Number(groups.y), Number(groups.m), Number(groups.d)];
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m))
    return { error: `${quote(text)} is not a calendar date (${format})` };
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function parseTimestamp(text: string): Parsed {
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    text,
  );
  if (!match) return { error: `expected an ISO 8601 timestamp, found ${quote(text)}` };
  const date = parseDate(match[1]!, 'YYYY-MM-DD');
  if (typeof date !== 'string') return { error: `${quote(text)} is not a calendar date` };
  const [h, mi, s] = [Number(match[2]), Number(match[3]), Number(match[4] ?? 0)];
  if (h > 23 || mi > 59 || s > 59) return { error: `${quote(text)} is not a valid time of day` };
  const local = `${date}T${match[2]}:${match[3]}:${(match[4] ?? '00').padStart(2, '0')}${match[5] ?? ''}`;
  if (!match[6]) return local;
  // With an offset, store the instant in UTC so every engine agrees. The offset is whole minutes, so the
  // fraction of a second (up to microseconds, which a JavaScript Date would cut to milliseconds) stays as written.
  const offset = match[6] === 'Z' ? 0 : offsetMinutes(match[6]);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const utc = new Date(0);
  utc.setUTCFullYear(y, m - 1, d);
  utc.setUTCHours(h, mi - offset, s, 0);
  return `${utc.toISOString().slice(0, 19)}${match[5] ?? ''}Z`;
}

function offsetMinutes(offset: string): number {
  const digits = offset.replace(':', '');
  const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
  return digits[0] === '-' ? -minutes : minutes;
}

const DIGIT_0 = 48;

/** The common case without a regular expression or a new string: 1 to 15 digits, no sign, no leading zero. */
function isPlainInteger(text: string): boolean {
  if (text.length > 15 || (text.charCodeAt(0) === DIGIT_0 && text.length > 1)) return false;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return false;
  }
  return true;
}

/** The common case without a regular expression: exactly YYYY-MM-DD, and a calendar date. */
function isoDay(text: string): boolean {
  if (text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return false;
  let y = 0;
  for (let i = 0; i < 4; i++) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return false;
    y = y * 10 + d;
  }
  const m = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  return y >= 1 && m >= 1 && m <= 12 && day >= 1 && day <= daysInMonth(y, m);
}

/** The number written by the two digits at `at`, or -1. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - DIGIT_0;
  const ones = text.charCodeAt(at + 1) - DIGIT_0;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(y: number, m: number): number {
  if (m !== 2) return MONTH_DAYS[m - 1]!;
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}
