// The SQL of the rules explorer, made from the rules table's own columns: its metrics are every numeric column
// (whatever gold.association_rules has), and its two sides are lists of items, held either as arrays or as text
// with the items joined by ', '. An item matches only a whole item of a side, never part of one ("ham" is not
// in "hamburger meat").
//
// Like sql.ts, the texts run on DuckDB and on a Databricks SQL warehouse. Values are bound `:name` markers; the
// only names spliced in are columns read from the table's schema, and only plain lower-case ones.
import { camelCase, columnDescription, columnLabel } from './columns.ts';
import type { ColumnInfo, SourceParam } from './source.ts';
import { SourceError } from './source.ts';

const NUMERIC_TYPE = /^(double|float|bigint|int|smallint|tinyint|decimal\(\d+,\s*\d+\))$/;
const PLAIN_NAME = /^[a-z_][a-z0-9_]*$/;
/** Its metrics lead the columns in this order; any other numeric column follows. */
const FIRST = ['support', 'confidence', 'lift', 'leverage', 'conviction'];

export interface MetricColumn {
  key: string;
  column: string;
  label: string;
  description: string | null;
}

export interface RuleShape {
  /** How the sides are held: arrays of items, or text with the items joined by ', '. */
  lists: 'array' | 'text';
  metrics: MetricColumn[];
}

export function ruleShape(columns: ColumnInfo[]): RuleShape {
  const side = (name: string) => columns.find((c) => c.name === name);
  const antecedents = side('antecedents');
  if (!antecedents || !side('consequents'))
    throw new SourceError(
      'query',
      `gold.association_rules: expected columns antecedents and consequents, found ${columns.map((c) => c.name).join(', ')}`,
    );
  const rank = (column: string) => (FIRST.includes(column) ? FIRST.indexOf(column) : FIRST.length);
  const metrics = columns
    .filter((c) => NUMERIC_TYPE.test(c.type) && PLAIN_NAME.test(c.name))
    .sort((a, b) => rank(a.name) - rank(b.name))
    .map((c) => ({
      key: camelCase(c.name),
      column: c.name,
      label: columnLabel(c.name),
      description: columnDescription(c.name, c.comment),
    }));
  return { lists: antecedents.type.startsWith('array') ? 'array' : 'text', metrics };
}

export type Side = 'any' | 'antecedent' | 'consequent';

export interface RuleFilter {
  /** Exact items; `match` says whether a rule needs all of them or any, `side` where they must be. */
  items: string[];
  side: Side;
  match: 'all' | 'any';
  /** Bounds on metrics (columns of the shape). */
  ranges: { column: string; min?: number; max?: number }[];
}

export const noFilter: RuleFilter = { items: [], side: 'any', match: 'all', ranges: [] };

/** `list` (a side of a rule) holds the item `item` (both SQL expressions) as a whole item. */
function holds(shape: RuleShape, list: string, item: string): string {
  return shape.lists === 'array'
    ? `array_contains(${list}, ${item})`
    : `instr(concat(', ', ${list}, ', '), concat(', ', ${item}, ', ')) > 0`;
}

function itemCondition(shape: RuleShape, side: Side, marker: string): string {
  const inAntecedents = holds(shape, 'antecedents', marker);
  const inConsequents = holds(shape, 'consequents', marker);
  if (side === 'antecedent') return inAntecedents;
  if (side === 'consequent') return inConsequents;
  return `(${inAntecedents} OR ${inConsequents})`;
}

function metricColumn(shape: RuleShape, column: string): string {
  if (!shape.metrics.some((m) => m.column === column))
    throw new Error(`${column} is not a metric column of the rules table`);
  return column;
}

/** The WHERE clause of `filter`, with its parameters. */
export function ruleWhere(
  shape: RuleShape,
  filter: RuleFilter,
): { where: string; params: Record<string, SourceParam> } {
  const conditions: string[] = [];
  const params: Record<string, SourceParam> = {};
  for (const r of filter.ranges) {
    const column = metricColumn(shape, r.column);
    if (r.min !== undefined) {
      conditions.push(`${column} >= CAST(:min_${column} AS DOUBLE)`);
      params[`min_${column}`] = r.min;
    }
    if (r.max !== undefined) {
      conditions.push(`${column} <= CAST(:max_${column} AS DOUBLE)`);
      params[`max_${column}`] = r.max;
    }
  }
  const items = filter.items.map((item, i) => {
    params[`item_${i}`] = item;
    return itemCondition(shape, filter.side, `:item_${i}`);
  });
  if (items.length) conditions.push(`(${items.join(filter.match === 'all' ? ' AND ' : ' OR ')})`);
  return { where: `WHERE ${conditions.length ? conditions.join('\n  AND ') : 'TRUE'}`, params };
}

export interface RuleOrder {
  /** antecedents, consequents or a metric column. */
  column: string;
  dir: 'asc' | 'desc';
}

function orderBy(shape: RuleShape, order: RuleOrder): string {
  const column =
    order.column === 'antecedents' || order.column === 'consequents'
      ? order.column
      : metricColumn(shape, order.column);
  // Both engines put nulls last only when told: Spark puts them first in ascending order. A side sorts as its
  // type does: text by its characters, an array item by item.
  return `ORDER BY ${column} ${order.dir === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, antecedents, consequents`;
}

function selectRules(shape: RuleShape, where: string): string {
  const columns = ['antecedents', 'consequents', ...shape.metrics.map((m) => m.column)];
  return `SELECT ${columns.join(', ')}\nFROM gold.association_rules\n${where}`;
}

/** One page of the rules that pass (:limit rules from :offset). */
export function rulesPage(shape: RuleShape, where: string, order: RuleOrder): string {
  return `${selectRules(shape, where)}\n${orderBy(shape, order)}\nLIMIT :limit OFFSET :offset`;
}

/** Every rule that passes, in order (the CSV export). */
export function rulesAll(shape: RuleShape, where: string, order: RuleOrder): string {
  return `${selectRules(shape, where)}\n${orderBy(shape, order)}`;
}

export function rulesCount(where: string): string {
  return `SELECT CAST(count(*) AS BIGINT) AS rules\nFROM gold.association_rules\n${where}`;
}

/** The points of the confidence/lift scatter: the strongest rules by lift when there are more than :limit. */
export function rulesScatter(where: string): string {
  return `SELECT antecedents, consequents, support, confidence, lift
FROM gold.association_rules
${where}
ORDER BY lift DESC, antecedents, consequents
LIMIT :limit`;
}

/** The number of rules, and each metric's lowest and highest value (as min__<column>, max__<column>). */
export function rulesBounds(shape: RuleShape): string {
  const ranges = shape.metrics.map(
    (m) => `min(${m.column}) AS min__${m.column}, max(${m.column}) AS max__${m.column}`,
  );
  return `SELECT CAST(count(*) AS BIGINT) AS rules${ranges.map((r) => `,\n  ${r}`).join('')}\nFROM gold.association_rules`;
}

/** Every item in some rule, with the number of rules it is in on each side; the most frequent first. */
export function ruleItems(shape: RuleShape): string {
  const inAntecedents = holds(shape, 'r.antecedents', 'i.item');
  const inConsequents = holds(shape, 'r.consequents', 'i.item');
  return `
SELECT i.item,
  CAST(count(*) AS BIGINT) AS rules,
  CAST(sum(CASE WHEN ${inAntecedents} THEN 1 ELSE 0 END) AS BIGINT) AS as_antecedent,
  CAST(sum(CASE WHEN ${inConsequents} THEN 1 ELSE 0 END) AS BIGINT) AS as_consequent
FROM gold.item_popularity i
JOIN gold.association_rules r ON ${inAntecedents} OR ${inConsequents}
GROUP BY i.item
ORDER BY rules DESC, i.item`;
}

/** A side of a rule as a list of items, however the table holds it. */
export function itemList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (value === null || value === undefined || value === '') return [];
  return String(value).split(', ');
}
