// The JSON API. Every answer is `{ data, meta }`: `data` is built from the rows with explicit conversions
// (numbers, ISO dates), so that both sources give identical `data`; `meta` says where and when it came from.
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { Datasets } from './data.ts';
import { ReadContext } from './data.ts';
import type { SourceRow, SourceValue } from './source.ts';
import { SourceError, isOutage } from './source.ts';
import * as sql from './sql.ts';
import { TABLES, isTableName } from './sql.ts';
import type { Meta } from './types.ts';

export class BadRequest extends Error {
  override name = 'BadRequest';
}

// ---- value conversions: the same JSON whatever the source ----

export function num(value: SourceValue | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

export function int(value: SourceValue | undefined): number | null {
  const n = num(value);
  return n === null ? null : Math.trunc(n);
}

export function text(value: SourceValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : String(value);
}

export function isoDate(value: SourceValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value).slice(0, 10);
}

/** A table cell of any type: Dates at midnight UTC as dates, other Dates as ISO instants. */
export function cell(value: SourceValue): SourceValue {
  if (value instanceof Date) {
    return value.getTime() % 86_400_000 === 0 ? value.toISOString().slice(0, 10) : value.toISOString();
  }
  if (typeof value === 'number' && !Number.isFinite(value))
    return Number.isNaN(value) ? 'NaN' : String(value);
  if (Array.isArray(value)) return value.map(cell);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cell(v)]));
  }
  return value;
}

// ---- query parameters ----

const number = (min: number, max: number, fallback: number) =>
  z.coerce.number().min(min).max(max).default(fallback);

const ruleFilterSchema = z.object({
  minSupport: number(0, 1, 0),
  minConfidence: number(0, 1, 0),
  minLift: number(0, 1e9, 0),
  q: z.string().max(200).default(''),
  side: z.enum(['any', 'antecedent', 'consequent']).default('any'),
});

const rulesPageSchema = ruleFilterSchema.extend({
  sort: z.enum(Object.keys(sql.RULE_SORTS) as [sql.RuleSort, ...sql.RuleSort[]]).default('lift'),
  dir: z.enum(['asc', 'desc']).default('desc'),
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(500).default(25),
});

function parse<T extends z.ZodType>(schema: T, c: Context): z.infer<T> {
  const result = schema.safeParse(c.req.query());
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join('.') || 'query';
    throw new BadRequest(`query parameter ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

function ruleParams(f: z.infer<typeof ruleFilterSchema>) {
  return {
    min_support: f.minSupport,
    min_confidence: f.minConfidence,
    min_lift: f.minLift,
    q: f.q.trim(),
    side: f.side,
  };
}

// ---- answers ----

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

export function apiRoutes(data: Datasets): Hono {
  const api = new Hono();

  async function answer<T>(c: Context, build: (ctx: ReadContext) => Promise<T>) {
    const ctx = new ReadContext();
    const result = await build(ctx);
    const meta: Meta = {
      source: data.source.kind,
      asOf: ctx.oldest === undefined ? null : new Date(ctx.oldest).toISOString(),
      // Fresh cached answers are stale too once the source stops answering: they may be out of date.
      stale: ctx.stale || !data.health().reachable,
      ageSeconds: ctx.oldest === undefined ? null : Math.max(0, Math.round((Date.now() - ctx.oldest) / 1000)),
    };
    return c.json({ data: result, meta });
  }

  api.get('/overview', (c) =>
    answer(c, async (ctx) => {
      const [row] = await data.query(ctx, sql.overview);
      const versions = await data.versions();
      const run = await data.read(ctx, 'lastRun', () => data.source.lastRun());
      return {
        transactions: int(row?.transactions ?? null),
        baskets: int(row?.baskets ?? null),
        items: int(row?.items ?? null),
        customers: int(row?.customers ?? null),
        rules: int(row?.rules ?? null),
        firstDate: isoDate(row?.first_date ?? null),
        lastDate: isoDate(row?.last_date ?? null),
        lastRun: run,
        tables: TABLES.map((name) => ({
          name,
          version: versions[name]?.version ?? null,
          committedAt: versions[name]?.committedAt ?? null,
        })),
      };
    }),
  );

  api.get('/rules', (c) =>
    answer(c, async (ctx) => {
      const f = parse(rulesPageSchema, c);
      const params = ruleParams(f);
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

  api.get('/rules/scatter', (c) =>
    answer(c, async (ctx) => {
      const f = parse(
        ruleFilterSchema.extend({ limit: z.coerce.number().int().min(1).max(5000).default(2000) }),
        c,
      );
      const params = ruleParams(f);
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

  api.get('/rules/bounds', (c) =>
    answer(c, async (ctx) => {
      const [r] = await data.query(ctx, sql.rulesBounds);
      const range = (lo: SourceValue | undefined, hi: SourceValue | undefined) => ({
        min: num(lo ?? null),
        max: num(hi ?? null),
      });
      return {
        rules: int(r?.rules ?? 0),
        support: range(r?.min_support, r?.max_support),
        confidence: range(r?.min_confidence, r?.max_confidence),
        lift: range(r?.min_lift, r?.max_lift),
      };
    }),
  );

  api.get('/sales/daily', (c) =>
    answer(c, async (ctx) =>
      (await data.query(ctx, sql.salesDaily)).map((r) => ({
        date: isoDate(r.txn_date),
        itemsSold: int(r.items_sold),
        baskets: int(r.baskets),
      })),
    ),
  );

  api.get('/sales/monthly', (c) =>
    answer(c, async (ctx) =>
      (await data.query(ctx, sql.salesMonthly)).map((r) => ({
        year: int(r.year),
        month: int(r.month),
        itemsSold: int(r.items_sold),
        baskets: int(r.baskets),
        customers: int(r.customers),
      })),
    ),
  );

  api.get('/sales/yearly', (c) =>
    answer(c, async (ctx) =>
      (await data.query(ctx, sql.salesYearly)).map((r) => ({
        year: int(r.year),
        itemsSold: int(r.items_sold),
        baskets: int(r.baskets),
        customers: int(r.customers),
        distinctItems: int(r.distinct_items),
      })),
    ),
  );

  api.get('/sales/correlation', (c) =>
    answer(c, async (ctx) =>
      (await data.query(ctx, sql.salesYearCorrelation)).map((r) => ({
        year: int(r.year),
        nextYear: int(r.next_year),
        months: int(r.months),
        correlation: num(r.correlation),
      })),
    ),
  );

  api.get('/items/top', (c) =>
    answer(c, async (ctx) => {
      const { limit } = parse(z.object({ limit: z.coerce.number().int().min(1).max(1000).default(20) }), c);
      return (await data.query(ctx, sql.topItems, { limit })).map((r) => ({
        rank: int(r.popularity_rank),
        item: text(r.item),
        itemsSold: int(r.items_sold),
        baskets: int(r.baskets),
        customers: int(r.customers),
        basketShare: num(r.basket_share),
      }));
    }),
  );

  api.get('/items/distribution', (c) =>
    answer(c, async (ctx) => {
      const { bins } = parse(z.object({ bins: z.coerce.number().int().min(1).max(200).default(20) }), c);
      return (await data.query(ctx, sql.itemSalesHistogram, { bins })).map((r) => ({
        from: int(r.bin_start),
        to: int(r.bin_end),
        items: int(r.items),
      }));
    }),
  );

  api.get('/customers/top', (c) =>
    answer(c, async (ctx) => {
      const { limit } = parse(z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }), c);
      return (await data.query(ctx, sql.topCustomers, { limit })).map((r) => ({
        rank: int(r.customer_rank),
        member: int(r.member_number),
        itemsSold: int(r.items_sold),
        baskets: int(r.baskets),
        distinctItems: int(r.distinct_items),
        firstPurchase: isoDate(r.first_purchase),
        lastPurchase: isoDate(r.last_purchase),
      }));
    }),
  );

  api.get('/baskets/sizes', (c) =>
    answer(c, async (ctx) =>
      (await data.query(ctx, sql.basketSizes)).map((r) => ({
        size: int(r.basket_size),
        baskets: int(r.baskets),
        share: num(r.share),
      })),
    ),
  );

  api.get('/tables', (c) =>
    answer(c, async () => {
      const versions = await data.versions();
      return TABLES.map((name) => ({
        name,
        version: versions[name]?.version ?? null,
        committedAt: versions[name]?.committedAt ?? null,
      }));
    }),
  );

  api.get('/tables/:name/history', (c) =>
    answer(c, async (ctx) => {
      const name = tableParam(c);
      return data.read(ctx, `history\u0000${name}`, () => data.source.history(name));
    }),
  );

  api.get('/tables/:name/rows', (c) =>
    answer(c, async (ctx) => {
      const name = tableParam(c);
      const versions = await data.versions();
      const latest = versions[name]?.version;
      if (latest === undefined) throw new SourceError('not-found', `table ${name} does not exist`);
      const q = parse(
        z.object({
          version: z.coerce.number().int().min(0).max(latest).default(latest),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
        c,
      );
      const key = `rows\u0000${name}\u0000${q.version}\u0000${q.limit}`;
      return data.read(ctx, key, async () => {
        const [rows, count] = await Promise.all([
          data.source.queryAt(name, q.version, sql.tableRows, { limit: q.limit }),
          data.source.queryAt(name, q.version, sql.tableCount),
        ]);
        return {
          name,
          version: q.version,
          latestVersion: latest,
          rowCount: int(count[0]?.row_count ?? 0),
          columns: rows[0] ? Object.keys(rows[0]) : [],
          rows: rows.map((r) => Object.values(r).map(cell)),
        };
      });
    }),
  );

  api.onError((error, c) => {
    if (error instanceof BadRequest) return c.json({ error: error.message }, 400);
    if (error instanceof SourceError && error.reason === 'not-found')
      return c.json({ error: error.message }, 404);
    if (isOutage(error)) {
      return c.json(
        { error: `the data source is out of reach and nothing is cached yet: ${error.message}` },
        503,
      );
    }
    console.error(
      `app: ${c.req.method} ${c.req.path}: ${error instanceof Error ? error.stack : String(error)}`,
    );
    return c.json({ error: error instanceof Error ? error.message : String(error) }, 500);
  });
  api.notFound((c) => c.json({ error: `no API route ${c.req.method} ${c.req.path}` }, 404));
  return api;
}

function tableParam(c: Context): sql.TableName {
  const name = c.req.param('name') ?? '';
  if (!isTableName(name))
    throw new BadRequest(`unknown table ${JSON.stringify(name)}; expected one of ${TABLES.join(', ')}`);
  return name;
}
