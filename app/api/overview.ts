// /api/overview: the story at a glance. Totals, sales in the last 30 days against the 30 before, the most sold
// items, the strongest rules, which run is served and how fresh it is, and the version of each table.
import { Hono } from 'hono';
import type { Datasets, ReadContext } from '../data.ts';
import * as rulesSql from '../rules-sql.ts';
import type { SourceRow } from '../source.ts';
import * as sql from '../sql.ts';
import type { Overview, Rule, Trend } from '../types.ts';
import { topItem } from './items.ts';
import type { ApiEnv } from './respond.ts';
import { answer } from './respond.ts';
import { ruleOf, rulesShape } from './rules.ts';
import { currentSnapshot } from './runs.ts';
import { tableVersions } from './tables.ts';
import { int, isoDate } from './values.ts';

const TREND_DAYS = 30;
const SHOWN = 5;

function trendOf(rows: SourceRow[]): Trend {
  const period = (name: string) => {
    const r = rows.find((row) => row.period === name);
    return {
      from: isoDate(r?.first_date ?? null),
      to: isoDate(r?.last_date ?? null),
      itemsSold: int(r?.items_sold ?? null),
      baskets: int(r?.baskets ?? null),
    };
  };
  return { days: TREND_DAYS, current: period('current'), previous: period('previous') };
}

async function strongestRules(data: Datasets, ctx: ReadContext): Promise<Rule[]> {
  const shape = await rulesShape(data, ctx);
  const { where } = rulesSql.ruleWhere(shape, rulesSql.noFilter);
  const order = {
    column: shape.metrics.some((m) => m.column === 'lift') ? 'lift' : 'antecedents',
    dir: 'desc' as const,
  };
  const rows = await data.query(ctx, rulesSql.rulesPage(shape, where, order), { limit: SHOWN, offset: 0 });
  return rows.map((r) => ruleOf(shape, r));
}

const overview = new Hono<ApiEnv>();

overview.get('/', (c) =>
  answer(c, async (data, ctx): Promise<Overview> => {
    const [[row], trend, items, rules, snapshot, tables] = await Promise.all([
      data.query(ctx, sql.overview),
      data.query(ctx, sql.salesTrend, { days: TREND_DAYS }),
      data.query(ctx, sql.topItems, { limit: SHOWN }),
      strongestRules(data, ctx),
      currentSnapshot(data),
      tableVersions(data),
    ]);
    return {
      transactions: int(row?.transactions ?? null),
      baskets: int(row?.baskets ?? null),
      items: int(row?.items ?? null),
      customers: int(row?.customers ?? null),
      rules: int(row?.rules ?? null),
      firstDate: isoDate(row?.first_date ?? null),
      lastDate: isoDate(row?.last_date ?? null),
      trend: trendOf(trend),
      topItems: items.map(topItem),
      strongestRules: rules,
      snapshot,
      tables,
    };
  }),
);

export default overview;
