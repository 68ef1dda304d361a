// The shapes of the API's `data`, shared by the server (api/) and the front end (web/).
import type { HistoryEntry, RunSummary } from './source.ts';

export type { HistoryEntry, RunSummary };

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
  version: number | null;
  committedAt: string | null;
}

export interface Overview {
  transactions: number | null;
  baskets: number | null;
  items: number | null;
  customers: number | null;
  rules: number | null;
  firstDate: string | null;
  lastDate: string | null;
  lastRun: RunSummary | null;
  tables: TableInfo[];
}

export interface Rule {
  antecedents: string | null;
  consequents: string | null;
  antecedentSupport: number | null;
  consequentSupport: number | null;
  support: number | null;
  confidence: number | null;
  lift: number | null;
  leverage: number | null;
  /** null when infinite (confidence 1). */
  conviction: number | null;
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
  antecedents: string | null;
  consequents: string | null;
  support: number | null;
  confidence: number | null;
  lift: number | null;
}

export interface RulesScatter {
  total: number;
  truncated: boolean;
  points: RulePoint[];
}

export interface Range {
  min: number | null;
  max: number | null;
}

export interface RulesBounds {
  rules: number | null;
  support: Range;
  confidence: Range;
  lift: Range;
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

export interface TableRows {
  name: string;
  version: number;
  latestVersion: number;
  rowCount: number | null;
  columns: string[];
  rows: CellValue[][];
}
