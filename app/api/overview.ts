// /api/overview: the counts, the date range, the last pipeline run and the version of each table.
import { Hono } from 'hono';
import * as sql from '../sql.ts';
import type { ApiEnv } from './respond.ts';
import { answer } from './respond.ts';
import { tableVersions } from './tables.ts';
import { int, isoDate } from './values.ts';

const overview = new Hono<ApiEnv>();

overview.get('/', (c) =>
  answer(c, async (data, ctx) => {
    const [row] = await data.query(ctx, sql.overview);
    const tables = await tableVersions(data);
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
      tables,
    };
  }),
);

export default overview;
