// What every route of the API shares: the `{ data, meta }` answer, query parameters checked against a schema
// (a bad one is a 400 that names it), and one mapping from errors to status codes.
import type { Context, ErrorHandler } from 'hono';
import { z } from 'zod';
import type { Datasets } from '../data.ts';
import { ReadContext } from '../data.ts';
import { SourceError, isOutage } from '../source.ts';
import type { Meta } from '../types.ts';

/** The API's Hono environment: every route reads through the app's Datasets, set once by the API (index.ts). */
export interface ApiEnv {
  Variables: { data: Datasets };
}

export class BadRequest extends Error {
  override name = 'BadRequest';
}

/** Answers `{ data, meta }`: `build` reads through `data`, and `ctx` records how old and how stale that was. */
export async function answer<T>(
  c: Context<ApiEnv>,
  build: (data: Datasets, ctx: ReadContext) => Promise<T>,
): Promise<Response> {
  const data = c.var.data;
  const ctx = new ReadContext();
  const result = await build(data, ctx);
  return c.json({ data: result, meta: meta(data, ctx) });
}

function meta(data: Datasets, ctx: ReadContext): Meta {
  return {
    source: data.source.kind,
    asOf: ctx.oldest === undefined ? null : new Date(ctx.oldest).toISOString(),
    // Fresh cached answers are stale too once the source stops answering: they may be out of date.
    stale: ctx.stale || !data.health().reachable,
    ageSeconds: ctx.oldest === undefined ? null : Math.max(0, Math.round((Date.now() - ctx.oldest) / 1000)),
  };
}

/** The request's query parameters as `schema` reads them, or a BadRequest naming the first one that is wrong. */
export function queryParams<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  const result = schema.safeParse(c.req.query());
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join('.') || 'query';
    throw new BadRequest(`query parameter ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/** A number parameter from `min` to `max`, `fallback` when absent. */
export const numberParam = (min: number, max: number, fallback: number) =>
  z.coerce.number().min(min).max(max).default(fallback);

/** A whole-number parameter from `min` to `max`, `fallback` when absent. */
export const wholeParam = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const onApiError: ErrorHandler = (error, c) => {
  if (error instanceof BadRequest) return c.json({ error: error.message }, 400);
  if (error instanceof SourceError && error.reason === 'not-found')
    return c.json({ error: error.message }, 404);
  if (isOutage(error)) {
    return c.json(
      { error: `the data source is out of reach and nothing is cached yet: ${error.message}` },
      503,
    );
  }
  console.error(`app: ${c.req.method} ${c.req.path}: ${error.stack ?? String(error)}`);
  return c.json({ error: error.message }, 500);
};

export function noSuchRoute(c: Context): Response {
  return c.json({ error: `no API route ${c.req.method} ${c.req.path}` }, 404);
}
