// /api/sales: items sold per day, month and year, and each year's monthly sales against the next year's.
import { Hono } from 'hono';
import * as sql from '../sql.ts';
import type { ApiEnv } from './respond.ts';
import { answer } from './respond.ts';
import { int, isoDate, num } from './values.ts';

const sales = new Hono<ApiEnv>();

sales.get('/daily', (c) =>
  answer(c, async (data, ctx) =>
    (await data.query(ctx, sql.salesDaily)).map((r) => ({
      date: isoDate(r.txn_date),
      itemsSold: int(r.items_sold),
      baskets: int(r.baskets),
    })),
  ),
);

sales.get('/monthly', (c) =>
  answer(c, async (data, ctx) =>
    (await data.query(ctx, sql.salesMonthly)).map((r) => ({
      year: int(r.year),
      month: int(r.month),
      itemsSold: int(r.items_sold),
      baskets: int(r.baskets),
      customers: int(r.customers),
    })),
  ),
);

sales.get('/yearly', (c) =>
  answer(c, async (data, ctx) =>
    (await data.query(ctx, sql.salesYearly)).map((r) => ({
      year: int(r.year),
      itemsSold: int(r.items_sold),
      baskets: int(r.baskets),
      customers: int(r.customers),
      distinctItems: int(r.distinct_items),
    })),
  ),
);

sales.get('/correlation', (c) =>
  answer(c, async (data, ctx) =>
    (await data.query(ctx, sql.salesYearCorrelation)).map((r) => ({
      year: int(r.year),
      nextYear: int(r.next_year),
      months: int(r.months),
      correlation: num(r.correlation),
    })),
  ),
);

export default sales;
