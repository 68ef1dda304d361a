// The JSON API, laid out as Hono's "larger application" guide does: one sub-app per resource in its own file,
// mounted here under its path; each file reads as the API of one thing. What the routes share (the
// `{ data, meta }` answer, query-parameter checks, errors) is in respond.ts, value conversions in values.ts.
//
//   /api/overview    overview.ts     totals and their trend, top items, strongest rules, the run served, versions
//   /api/rules       rules.ts        /, /export.csv, /scatter, /bounds, /items: the rules, filtered in SQL
//   /api/sales       sales.ts        /daily, /monthly, /yearly, /correlation
//   /api/items       items.ts        /top, /distribution
//   /api/customers   customers.ts    /top
//   /api/baskets     baskets.ts      /sizes
//   /api/tables      tables.ts       /, /:name/history, /:name/rows (time travel, paged, typed columns)
//   /api/runs        runs.ts         /, /snapshot, /lineage: the run manifests
import { Hono } from 'hono';
import type { Datasets } from '../data.ts';
import baskets from './baskets.ts';
import customers from './customers.ts';
import items from './items.ts';
import overview from './overview.ts';
import type { ApiEnv } from './respond.ts';
import { noSuchRoute, onApiError } from './respond.ts';
import rules from './rules.ts';
import runs from './runs.ts';
import sales from './sales.ts';
import tables from './tables.ts';

/** The API over `data`, to mount under /api. */
export function apiRoutes(data: Datasets): Hono<ApiEnv> {
  const api = new Hono<ApiEnv>();
  api.use(async (c, next) => {
    c.set('data', data);
    await next();
  });
  api.route('/overview', overview);
  api.route('/rules', rules);
  api.route('/sales', sales);
  api.route('/items', items);
  api.route('/customers', customers);
  api.route('/baskets', baskets);
  api.route('/tables', tables);
  api.route('/runs', runs);
  api.all('*', noSuchRoute);
  api.onError(onApiError);
  return api;
}
