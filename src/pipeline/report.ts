// What a stage's run hands back to whoever started it: the stage's own result, a neutral report (a title, notes,
// tables) and a verdict. The CLI prints the report as text, an action writes it as a job summary; neither decides
// what the report says or whether the stage failed.
import { redact } from '../util/secrets.ts';

export type StageName = 'ingest' | 'load' | 'transform' | 'deploy' | 'status';

/** A table cell: numbers are formatted by whoever renders them. */
export type Cell = string | number;

export interface ReportTable {
  kind: 'table';
  /** A line above the table, e.g. "Top rules by lift". */
  caption?: string;
  columns: string[];
  rows: Cell[][];
  /** Rows left out of a long listing (the manifest has them all). */
  omitted?: number;
  /** Shown instead of an empty table. */
  empty?: string;
  /**
   * One row per object or task, which the log already listed while the stage ran: a terminal leaves the table
   * out, a job summary (read afterwards, without the log) shows it.
   */
  itemized?: boolean;
}

/**
 * A line of the report, written as the log writes (`rows in = rows loaded + …`); a job summary shows it as a
 * sentence (capitalised, with a full stop).
 */
export interface ReportNote {
  kind: 'note';
  text: string;
}

export interface ReportLink {
  kind: 'link';
  text: string;
  url: string;
}

export type ReportBlock = ReportTable | ReportNote | ReportLink;

export interface StageReport {
  stage: StageName;
  dryRun: boolean;
  /** The heading of a job summary, e.g. "Ingest → gs://bucket/raw". */
  title: string;
  blocks: ReportBlock[];
}

export type Verdict = { ok: true } | { ok: false; message: string };

export interface StageOutcome<R> {
  /** What the stage function returned (its manifest or result); unset when a dry run had nothing to run. */
  result?: R;
  report: StageReport;
  verdict: Verdict;
  /** The run manifest this run wrote. */
  manifestPath?: string;
}

export const ok: Verdict = { ok: true };

/** A failed verdict; its message is redacted, since both the CLI and an action print it. */
export function failure(message: string): Verdict {
  return { ok: false, message: redact(message) };
}

export function note(text: string): ReportNote {
  return { kind: 'note', text };
}

export function table(columns: string[], rows: Cell[][], extra: Partial<ReportTable> = {}): ReportTable {
  return { kind: 'table', columns, rows, ...extra };
}

/** The first `limit` rows of a listing, and how many were left out. */
export function listing(
  columns: string[],
  rows: Cell[][],
  limit: number,
  extra: Partial<ReportTable> = {},
): ReportTable {
  return table(columns, rows.slice(0, limit), {
    ...extra,
    itemized: true,
    ...(rows.length > limit ? { omitted: rows.length - limit } : {}),
  });
}

/** Rows of a listing in a job summary before it only counts the rest. */
export const LISTING_ROWS = 50;
