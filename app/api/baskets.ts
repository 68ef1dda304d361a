// /api/baskets: how many baskets hold how many distinct items (/sizes).
import { Hono } from 'hono';
import * as sql from '../sql.ts';
import type { ApiEnv } from './respond.ts';
import { answer } from './respond.ts';
import { int, num } from './values.ts';

const baskets = new Hono<ApiEnv>();

baskets.get('/sizes', (c) =>
  answer(c, async (data, ctx) =>
    (await data.query(ctx, sql.basketSizes)).map((r) => ({
      size: int(r.basket_size),
      baskets: int(r.baskets),
      share: num(r.share),
    })),
  ),
);

export default baskets;
