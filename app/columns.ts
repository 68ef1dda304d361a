// What the Data section and the rules explorer say about columns: Spark SQL's name for a Delta type, and a
// description for every column the notebooks write. A column comment in the Delta schema (COMMENT in the
// notebook's SQL, `metadata.comment` in the log) takes precedence over this map.
import type { DeltaType } from '../src/delta/index.ts';
import type { TableName } from './sql.ts';

const PRIMITIVE_NAMES: Record<string, string> = {
  long: 'bigint',
  integer: 'int',
  short: 'smallint',
  byte: 'tinyint',
};

/** The type as Spark SQL names it (DESCRIBE TABLE's data_type): bigint, double, array<string> … */
export function sqlTypeName(type: DeltaType): string {
  if (typeof type === 'string') return PRIMITIVE_NAMES[type] ?? type;
  if (type.type === 'array') return `array<${sqlTypeName(type.elementType)}>`;
  if (type.type === 'map') return `map<${sqlTypeName(type.keyType)},${sqlTypeName(type.valueType)}>`;
  return `struct<${type.fields.map((f) => `${f.name}:${sqlTypeName(f.type)}`).join(',')}>`;
}

/** Columns by name, the same in every table that has them. */
const COLUMNS: Record<string, string> = {
  basket_id: 'A basket: one member on one day',
  member_number: 'The customer (loyalty card number)',
  txn_date: 'The day of the purchase',
  item: 'The item bought',
  quantity: 'Identical lines of this item in the basket',
  basket_size: 'Distinct items in the basket',
  year: 'Calendar year',
  month: 'Month of the year (1–12)',
  day: 'Day of the month',
  week_of_year: 'ISO week of the year',
  day_of_week: 'Day of the week (1 = Sunday … 7 = Saturday, as Spark numbers them)',
  items_sold: 'Units sold',
  baskets: 'Number of baskets',
  customers: 'Number of distinct customers',
  distinct_items: 'Number of distinct items',
  next_year: 'The year compared with',
  months: 'Months present in both years',
  correlation: 'Pearson correlation of the monthly units sold in the two years',
  popularity_rank: 'Rank by units sold (1 = most sold)',
  basket_share: 'Share of all baskets that hold the item',
  customer_rank: 'Rank by units bought (1 = the most)',
  first_purchase: 'The customer’s first purchase',
  last_purchase: 'The customer’s last purchase',
  share: 'Share of all baskets',
  length: 'Number of items in the itemset',
  basket_count: 'Baskets that hold every item of the itemset',
  support: 'Share of baskets that hold every item of the rule (or itemset)',
  antecedents: 'The items a basket has (the “if” side)',
  consequents: 'The items it then also has (the “then” side)',
  antecedent_support: 'Share of baskets that hold the antecedents',
  consequent_support: 'Share of baskets that hold the consequents',
  confidence: 'Of the baskets with the antecedents, the share that also hold the consequents',
  lift: 'Confidence divided by the consequents’ support: above 1, buying one makes the other more likely',
  representativity: 'Share of baskets without missing values the rule was computed on (1 here)',
  leverage: 'Support minus what it would be if the two sides were independent',
  conviction:
    'How much more often the rule would be wrong if the sides were independent (∞ when confidence is 1)',
  zhangs_metric: 'Association from −1 (never together) to 1 (always together), 0 when independent',
  jaccard: 'Support over the share of baskets holding either side',
  certainty: 'How much the antecedents raise the consequents’ probability, from −1 to 1',
  kulczynski: 'Mean of the confidences in both directions',
};

/** Numbered columns (item_1, antecedent_2 …) read as their stem. */
const NUMBERED: Record<string, string> = {
  item: 'Item {n} of the itemset (in name order)',
  antecedent: 'Antecedent item {n} (in name order)',
  consequent: 'Consequent item {n} (in name order)',
};

const TABLES: Record<TableName, string> = {
  'silver.transactions': 'One row per basket and item, cleaned and deduplicated',
  'silver.baskets': 'One row per basket',
  'silver.transactions_enriched': 'The transactions with calendar fields, partitioned by year',
  'gold.sales_daily': 'Units sold and baskets per day',
  'gold.sales_monthly': 'Units sold, baskets and customers per month',
  'gold.sales_yearly': 'Units sold, baskets and customers per year',
  'gold.sales_year_correlation': 'Each year’s monthly sales against the next year’s',
  'gold.item_popularity': 'Every item by units sold',
  'gold.top_customers': 'The 100 customers who bought the most',
  'gold.basket_size_distribution': 'Baskets by the number of distinct items in them',
  'gold.frequent_itemsets': 'Itemsets whose support is at least min_support',
  'gold.association_rules': 'Association rules with mlxtend’s metrics',
};

export function tableDescription(table: TableName): string {
  return TABLES[table];
}

export function columnDescription(column: string, comment: string | null = null): string | null {
  if (comment) return comment;
  if (COLUMNS[column]) return COLUMNS[column];
  const numbered = /^([a-z]+)_(\d+)$/.exec(column);
  const template = numbered ? NUMBERED[numbered[1]!] : undefined;
  return template ? template.replace('{n}', numbered![2]!) : null;
}

const LABELS: Record<string, string> = {
  antecedent_support: 'Antecedent support',
  consequent_support: 'Consequent support',
  zhangs_metric: 'Zhang’s metric',
  kulczynski: 'Kulczynski',
};

/** A column's name as a heading: `zhangs_metric` → "Zhang’s metric", `lift` → "Lift". */
export function columnLabel(column: string): string {
  const words = column.replaceAll('_', ' ');
  return LABELS[column] ?? words.charAt(0).toUpperCase() + words.slice(1);
}

/** A column's name in the API: `antecedent_support` → `antecedentSupport`. */
export function camelCase(column: string): string {
  return column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
