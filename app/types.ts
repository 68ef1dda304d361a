// The shapes of the API's `data`, shared by the server (api/) and the front end (web/).
import type { HistoryEntry } from './source.ts';

export type { HistoryEntry };

export interface Meta {
  source: string;
  /** When the oldest result in this answer was read from the source (ISO-8601). */
  asOf: string | null;
  /** True when the source is out of reach and this is the last good data. */
  stale: boolean;
  ageSeconds: number | null;
}

export interface Envelope<T> {
  data: T;
  meta: Meta;
}

export interface TableInfo {
  name: string;
  /** The version served (the last successful run's), null when the source lacks the table. */
  version: number | null;
  /** The newest version, later than `version` when a later run failed or is running. */
  latestVersion: number | null;
  committedAt: string | null;
  description: string | null;
}

export type RunStatus = 'succeeded' | 'failed';

/** Where and why a run stopped. */
export interface RunFailure {
  message: string;
  notebook: string | null;
  cell: number | null;
  title: string | null;
  line: number | null;
}

/** One stage of a pipeline run, from its manifest: `counts` are the stage's own (files, rows, tables …). */
export interface StageRun {
  stage: 'ingest' | 'load' | 'transform';
  status: RunStatus;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  counts: Record<string, number>;
  failure: RunFailure | null;
}

/** The stages that ran under one run id (`lakehouse run` runs them all under one). */
export interface PipelineRun {
  runId: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  stages: StageRun[];
}

export interface Freshness {
  /** fresh, warn (older than warnAfter), error (older than errorAfter), unknown (no time to go by). */
  status: 'fresh' | 'warn' | 'error' | 'unknown';
  /** When the data served was written: the served run's end, else the newest served table version. */
  since: string | null;
  ageSeconds: number | null;
  warnAfterSeconds: number;
  errorAfterSeconds: number;
}

/** Which run the app serves, and a later run that failed. */
export interface Snapshot {
  /** The last successful transform run, whose table versions are served (null without run manifests). */
  run: { runId: string; finishedAt: string } | null;
  /** The last transform run after it that failed: where, why, and the versions it wrote (not served). */
  failedAfter: {
    runId: string;
    finishedAt: string;
    failure: RunFailure;
    tablesWritten: { table: string; version: number | null }[];
  } | null;
  freshness: Freshness;
}

export interface Totals {
  transactions: number | null;
  baskets: number | null;
  items: number | null;
  customers: number | null;
  rules: number | null;
  firstDate: string | null;
  lastDate: string | null;
}

/** Sales in the last `days` days of the data against the `days` before. */
export interface Trend {
  days: number;
  current: { from: string | null; to: string | null; itemsSold: number | null; baskets: number | null };
  previous: { from: string | null; to: string | null; itemsSold: number | null; baskets: number | null };
}

export interface Overview extends Totals {
  trend: Trend;
  topItems: TopItem[];
  strongestRules: Rule[];
  snapshot: Snapshot;
  tables: TableInfo[];
}

/** A rule: its two sides as lists of items, and every metric column of the rules table (camelCase keys). */
export interface Rule {
  antecedents: string[];
  consequents: string[];
  /** Metric values; null when missing or not finite (conviction is infinite when the confidence is 1). */
  metrics: Record<string, number | null>;
}

export interface RulesPage {
  total: number | null;
  page: number;
  pageSize: number;
  sort: string;
  dir: 'asc' | 'desc';
  rows: Rule[];
}

export interface RulePoint {
  antecedents: string[];
  consequents: string[];
  support: number | null;
  confidence: number | null;
  lift: number | null;
}

export interface RulesScatter {
  total: number;
  truncated: boolean;
  points: RulePoint[];
}

/** A metric column of the rules table, with its range over every rule. */
export interface RuleMetric {
  /** The API's name: the column in camelCase (`zhangsMetric`); filters are `min<Key>` and `max<Key>`. */
  key: string;
  column: string;
  label: string;
  description: string | null;
  min: number | null;
  max: number | null;
}

export interface RulesBounds {
  rules: number | null;
  metrics: RuleMetric[];
}

/** An item that appears in rules, and in how many on each side. */
export interface RuleItem {
  item: string;
  rules: number;
  antecedent: number;
  consequent: number;
}

export interface DailySales {
  date: string | null;
  itemsSold: number | null;
  baskets: number | null;
}

export interface MonthlySales {
  year: number | null;
  month: number | null;
  itemsSold: number | null;
  baskets: number | null;
  customers: number | null;
}

export interface YearlySales {
  year: number | null;
  itemsSold: number | null;
  baskets: number | null;
  customers: number | null;
  distinctItems: number | null;
}

export interface YearCorrelation {
  year: number | null;
  nextYear: number | null;
  months: number | null;
  correlation: number | null;
}

export interface TopItem {
  rank: number | null;
  item: string | null;
  itemsSold: number | null;
  baskets: number | null;
  customers: number | null;
  basketShare: number | null;
}

export interface HistogramBin {
  from: number | null;
  to: number | null;
  items: number | null;
}

export interface TopCustomer {
  rank: number | null;
  member: number | null;
  itemsSold: number | null;
  baskets: number | null;
  distinctItems: number | null;
  firstPurchase: string | null;
  lastPurchase: string | null;
}

export interface BasketSize {
  size: number | null;
  baskets: number | null;
  share: number | null;
}

export type CellValue = string | number | boolean | null | CellValue[] | { [key: string]: CellValue };

export interface TableColumn {
  name: string;
  /** Spark SQL's type name (bigint, double, date, array<string> …). */
  type: string;
  /** The column comment, else the app's own description (app/columns.ts). */
  description: string | null;
}

export interface TableRows {
  name: string;
  version: number;
  servedVersion: number;
  latestVersion: number;
  rowCount: number | null;
  offset: number;
  limit: number;
  columns: TableColumn[];
  rows: CellValue[][];
}

/** A commit of a table, with the pipeline run that wrote it when a manifest says so. */
export interface TableCommit extends HistoryEntry {
  run: { runId: string; status: RunStatus } | null;
}

/** The lineage: source files → SQL store tables (load) → notebooks → Delta tables, from the run manifests. */
export interface LineageNode {
  id: string;
  kind: 'source' | 'sql' | 'notebook' | 'table';
  label: string;
  detail: string;
}

export interface Lineage {
  nodes: LineageNode[];
  links: { source: string; target: string; label: string }[];
}
