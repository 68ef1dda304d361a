// /api/rules: the association rules, filtered by thresholds and an item, as a sorted page (/), as the points of
// the confidence/lift scatter (/scatter), and the ranges the filters can take (/bounds). Filters, sorting and
// paging run in SQL with bound parameters; the sort column comes from sql.RULE_SORTS.
import { Hono } from 'hono';
import { z } from 'zod';
import type { SourceRow } from '../source.ts';
import * as sql from '../sql.ts';
import type { ApiEnv } from './respond.ts';
import { answer, numberParam, queryParams, wholeParam } from './respond.ts';
import { int, num, text } from './values.ts';

/** The filters every view of the rules takes. */
const ruleFilters = z.object({
  minSupport: numberParam(0, 1, 0),
  minConfidence: numberParam(0, 1, 0),
  minLift: numberParam(0, 1e9, 0),
  q: z.string().max(200).default(''),
  side: z.enum(['any', 'antecedent', 'consequent']).default('any'),
});

const pageOfRules = ruleFilters.extend({
  sort: z.enum(Object.keys(sql.RULE_SORTS) as [sql.RuleSort, ...sql.RuleSort[]]).default('lift'),
  dir: z.enum(['asc', 'desc']).default('desc'),
  page: wholeParam(1, 1_000_000, 1),
  pageSize: wholeParam(1, 500, 25),
});

const scatterOfRules = ruleFilters.extend({ limit: wholeParam(1, 5000, 2000) });

/** The filters as the `:name` parameters of sql.ts. */
function filterParams(f: z.infer<typeof ruleFilters>) {
  return {
    min_support: f.minSupport,
    min_confidence: f.minConfidence,
    min_lift: f.minLift,
    q: f.q.trim(),
    side: f.side,
  };
}

function rule(row: SourceRow) {
  return {
    antecedents: text(row.antecedents),
    consequents: text(row.consequents),
    antecedentSupport: num(row.antecedent_support),
    consequentSupport: num(row.consequent_support),
    support: num(row.support),
    confidence: num(row.confidence),
    lift: num(row.lift),
    leverage: num(row.leverage),
    // Infinite when the confidence is 1; JSON has no Infinity.
    conviction: num(row.conviction),
  };
}

const rules = new Hono<ApiEnv>();

rules.get('/', (c) =>
  answer(c, async (data, ctx) => {
    const f = queryParams(c, pageOfRules);
    const params = filterParams(f);
    const [rows, count] = await Promise.all([
      data.query(ctx, sql.rulesPage(f.sort, f.dir), {
        ...params,
        limit: f.pageSize,
        offset: (f.page - 1) * f.pageSize,
      }),
      data.query(ctx, sql.rulesCount, params),
    ]);
    return {
      total: int(count[0]?.rules ?? 0),
      page: f.page,
      pageSize: f.pageSize,
      sort: f.sort,
      dir: f.dir,
      rows: rows.map(rule),
    };
  }),
);

rules.get('/scatter', (c) =>
  answer(c, async (data, ctx) => {
    const f = queryParams(c, scatterOfRules);
    const params = filterParams(f);
    const [rows, count] = await Promise.all([
      data.query(ctx, sql.rulesScatter, { ...params, limit: f.limit }),
      data.query(ctx, sql.rulesCount, params),
    ]);
    const total = int(count[0]?.rules ?? 0) ?? 0;
    return {
      total,
      truncated: total > rows.length,
      points: rows.map((r) => ({
        antecedents: text(r.antecedents),
        consequents: text(r.consequents),
        support: num(r.support),
        confidence: num(r.confidence),
        lift: num(r.lift),
      })),
    };
  }),
);

rules.get('/bounds', (c) =>
  answer(c, async (data, ctx) => {
    const [r] = await data.query(ctx, sql.rulesBounds);
    const range = (low: keyof SourceRow, high: keyof SourceRow) => ({
      min: num(r?.[low] ?? null),
      max: num(r?.[high] ?? null),
    });
    return {
      rules: int(r?.rules ?? 0),
      support: range('min_support', 'max_support'),
      confidence: range('min_confidence', 'max_confidence'),
      lift: range('min_lift', 'max_lift'),
    };
  }),
);

export default rules;
