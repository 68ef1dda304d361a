// /api/customers: the customers who bought the most items (/top).
import { Hono } from 'hono';
import { z } from 'zod';
import * as sql from '../sql.ts';
import type { ApiEnv } from './respond.ts';
import { answer, queryParams, wholeParam } from './respond.ts';
import { int, isoDate } from './values.ts';

const customers = new Hono<ApiEnv>();

customers.get('/top', (c) =>
  answer(c, async (data, ctx) => {
    const { limit } = queryParams(c, z.object({ limit: wholeParam(1, 100, 20) }));
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

export default customers;
