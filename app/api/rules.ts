// /api/rules: the association rules, filtered by exact items and by any metric, as a sorted page (/), as every
// rule that passes in CSV (/export.csv), as the points of the confidence/lift scatter (/scatter); the metrics with
// their ranges (/bounds) and the items that appear in rules (/items). The metrics are the rules table's numeric
// columns, whatever they are (rules-sql.ts); filters, sorting and paging run in SQL with bound parameters.
//
//   item=<name> (repeatable)   rules that hold the item as a whole item (not part of a longer name)
//   side=any|antecedent|consequent, match=all|any   where the items must be, and whether all or any of them
//   min<Key>=, max<Key>=        bounds on a metric, e.g. minLift=1.5, maxZhangsMetric=0.9
//   sort=antecedents|consequents|<key>, dir=asc|desc, page=, pageSize=
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { Datasets } from '../data.ts';
import { ReadContext } from '../data.ts';
import * as rulesSql from '../rules-sql.ts';
import type { RuleFilter, RuleOrder, RuleShape } from '../rules-sql.ts';
import { SourceError } from '../source.ts';
import type { SourceRow } from '../source.ts';
import type { Rule } from '../types.ts';
import { csv } from './csv.ts';
import type { ApiEnv } from './respond.ts';
import { BadRequest, answer, queryParams, wholeParam } from './respond.ts';
import { int, num } from './values.ts';

const MAX_ITEMS = 20;
const RULES_TABLE = 'gold.association_rules';

/** The rules table's shape (its metric columns, how it holds the sides), read from its schema. */
export async function rulesShape(data: Datasets, ctx: ReadContext): Promise<RuleShape> {
  const version = (await data.versions())[RULES_TABLE]?.version;
  if (version === undefined) throw new SourceError('not-found', `table ${RULES_TABLE} does not exist`);
  const columns = await data.read(ctx, `columns\u0000${RULES_TABLE}\u0000${version}`, () =>
    data.source.columns(RULES_TABLE, version),
  );
  return rulesSql.ruleShape(columns);
}

const capitalised = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);

function bound(c: Context, name: string): number | undefined {
  const raw = c.req.query(name)?.trim();
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n))
    throw new BadRequest(`query parameter ${name}: expected a number, found ${JSON.stringify(raw)}`);
  return n;
}

function itemParams(c: Context): string[] {
  const items = [...new Set((c.req.queries('item') ?? []).map((i) => i.trim()).filter(Boolean))];
  if (items.length > MAX_ITEMS)
    throw new BadRequest(`query parameter item: at most ${MAX_ITEMS} items, found ${items.length}`);
  const long = items.find((i) => i.length > 200);
  if (long) throw new BadRequest(`query parameter item: at most 200 characters, found ${long.length}`);
  return items;
}

/** The filters of the request: items, where they are, and bounds on any metric. */
export function ruleFilterOf(c: Context, shape: RuleShape): RuleFilter {
  const { side, match } = queryParams(
    c,
    z.object({
      side: z.enum(['any', 'antecedent', 'consequent']).default('any'),
      match: z.enum(['all', 'any']).default('all'),
    }),
  );
  const ranges = shape.metrics
    .map((m) => ({
      column: m.column,
      min: bound(c, `min${capitalised(m.key)}`),
      max: bound(c, `max${capitalised(m.key)}`),
    }))
    .filter((r) => r.min !== undefined || r.max !== undefined);
  return { items: itemParams(c), side, match, ranges };
}

function orderOf(c: Context, shape: RuleShape): RuleOrder {
  const keys = ['antecedents', 'consequents', ...shape.metrics.map((m) => m.key)] as [string, ...string[]];
  const { sort, dir } = queryParams(
    c,
    z.object({ sort: z.enum(keys).default('lift'), dir: z.enum(['asc', 'desc']).default('desc') }),
  );
  const column = shape.metrics.find((m) => m.key === sort)?.column ?? sort;
  return { column, dir };
}

export function ruleOf(shape: RuleShape, row: SourceRow): Rule {
  return {
    antecedents: rulesSql.itemList(row.antecedents),
    consequents: rulesSql.itemList(row.consequents),
    // Conviction is infinite when the confidence is 1; JSON has no Infinity, so it is null.
    metrics: Object.fromEntries(shape.metrics.map((m) => [m.key, num(row[m.column])])),
  };
}

const rules = new Hono<ApiEnv>();

rules.get('/', (c) =>
  answer(c, async (data, ctx) => {
    const shape = await rulesShape(data, ctx);
    const { where, params } = rulesSql.ruleWhere(shape, ruleFilterOf(c, shape));
    const order = orderOf(c, shape);
    const { page, pageSize } = queryParams(
      c,
      z.object({ page: wholeParam(1, 1_000_000, 1), pageSize: wholeParam(1, 500, 25) }),
    );
    const [rows, count] = await Promise.all([
      data.query(ctx, rulesSql.rulesPage(shape, where, order), {
        ...params,
        limit: pageSize,
        offset: (page - 1) * pageSize,
      }),
      data.query(ctx, rulesSql.rulesCount(where), params),
    ]);
    const sort = shape.metrics.find((m) => m.column === order.column)?.key ?? order.column;
    const total = int(count[0]?.rules ?? 0);
    return { total, page, pageSize, sort, dir: order.dir, rows: rows.map((r) => ruleOf(shape, r)) };
  }),
);

/** Every rule that passes the filters, in the order asked, as a CSV file: the table's own column names. */
rules.get('/export.csv', async (c) => {
  const data = c.var.data;
  const ctx = new ReadContext();
  const shape = await rulesShape(data, ctx);
  const { where, params } = rulesSql.ruleWhere(shape, ruleFilterOf(c, shape));
  const rows = await data.query(ctx, rulesSql.rulesAll(shape, where, orderOf(c, shape)), params);
  const columns = ['antecedents', 'consequents', ...shape.metrics.map((m) => m.column)];
  const lines = rows.map((r) =>
    columns.map((column) =>
      column === 'antecedents' || column === 'consequents'
        ? rulesSql.itemList(r[column]).join(', ')
        : r[column],
    ),
  );
  c.header('Content-Type', 'text/csv; charset=utf-8');
  c.header('Content-Disposition', 'attachment; filename="association_rules.csv"');
  return c.body(csv(columns, lines));
});

rules.get('/scatter', (c) =>
  answer(c, async (data, ctx) => {
    const shape = await rulesShape(data, ctx);
    const { where, params } = rulesSql.ruleWhere(shape, ruleFilterOf(c, shape));
    const { limit } = queryParams(c, z.object({ limit: wholeParam(1, 5000, 2000) }));
    const [rows, count] = await Promise.all([
      data.query(ctx, rulesSql.rulesScatter(where), { ...params, limit }),
      data.query(ctx, rulesSql.rulesCount(where), params),
    ]);
    const total = int(count[0]?.rules ?? 0) ?? 0;
    return {
      total,
      truncated: total > rows.length,
      points: rows.map((r) => ({
        antecedents: rulesSql.itemList(r.antecedents),
        consequents: rulesSql.itemList(r.consequents),
        support: num(r.support),
        confidence: num(r.confidence),
        lift: num(r.lift),
      })),
    };
  }),
);

rules.get('/bounds', (c) =>
  answer(c, async (data, ctx) => {
    const shape = await rulesShape(data, ctx);
    const [r] = await data.query(ctx, rulesSql.rulesBounds(shape));
    return {
      rules: int(r?.rules ?? 0),
      metrics: shape.metrics.map((m) => ({
        ...m,
        min: num(r?.[`min__${m.column}`] ?? null),
        max: num(r?.[`max__${m.column}`] ?? null),
      })),
    };
  }),
);

rules.get('/items', (c) =>
  answer(c, async (data, ctx) => {
    const shape = await rulesShape(data, ctx);
    return (await data.query(ctx, rulesSql.ruleItems(shape))).map((r) => ({
      item: String(r.item),
      rules: int(r.rules) ?? 0,
      antecedent: int(r.as_antecedent) ?? 0,
      consequent: int(r.as_consequent) ?? 0,
    }));
  }),
);

export default rules;
