// /api/items: the most sold items (/top) and how many items sold how much (/distribution).
import { Hono } from 'hono';
import { z } from 'zod';
import * as sql from '../sql.ts';
import type { ApiEnv } from './respond.ts';
import { answer, queryParams, wholeParam } from './respond.ts';
import type { SourceRow } from '../source.ts';
import type { TopItem } from '../types.ts';
import { int, num, text } from './values.ts';

export function topItem(r: SourceRow): TopItem {
  return {
    rank: int(r.popularity_rank),
    item: text(r.item),
    itemsSold: int(r.items_sold),
    baskets: int(r.baskets),
    customers: int(r.customers),
    basketShare: num(r.basket_share),
  };
}

const items = new Hono<ApiEnv>();

items.get('/top', (c) =>
  answer(c, async (data, ctx) => {
    const { limit } = queryParams(c, z.object({ limit: wholeParam(1, 1000, 20) }));
    return (await data.query(ctx, sql.topItems, { limit })).map(topItem);
  }),
);

items.get('/distribution', (c) =>
  answer(c, async (data, ctx) => {
    const { bins } = queryParams(c, z.object({ bins: wholeParam(1, 200, 20) }));
    return (await data.query(ctx, sql.itemSalesHistogram, { bins })).map((r) => ({
      from: int(r.bin_start),
      to: int(r.bin_end),
      items: int(r.items),
    }));
  }),
);

export default items;
