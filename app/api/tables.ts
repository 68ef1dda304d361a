// /api/tables: the Delta tables the app reads with their latest versions (/), a table's commits
// (/:name/history), and its rows at any version, which is time travel (/:name/rows?version=&limit=).
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { Datasets } from '../data.ts';
import { SourceError } from '../source.ts';
import * as sql from '../sql.ts';
import { TABLES, isTableName } from '../sql.ts';
import type { TableInfo } from '../types.ts';
import type { ApiEnv } from './respond.ts';
import { BadRequest, answer, queryParams, wholeParam } from './respond.ts';
import { cell, int } from './values.ts';

/** Every table the app reads, with its latest version (null when the source does not have it). */
export async function tableVersions(data: Datasets): Promise<TableInfo[]> {
  const versions = await data.versions();
  return TABLES.map((name) => ({
    name,
    version: versions[name]?.version ?? null,
    committedAt: versions[name]?.committedAt ?? null,
  }));
}

function tableParam(c: Context): sql.TableName {
  const name = c.req.param('name') ?? '';
  if (!isTableName(name))
    throw new BadRequest(`unknown table ${JSON.stringify(name)}; expected one of ${TABLES.join(', ')}`);
  return name;
}

const tables = new Hono<ApiEnv>();

tables.get('/', (c) => answer(c, (data) => tableVersions(data)));

tables.get('/:name/history', (c) =>
  answer(c, async (data, ctx) => {
    const name = tableParam(c);
    return data.read(ctx, `history\u0000${name}`, () => data.source.history(name));
  }),
);

tables.get('/:name/rows', (c) =>
  answer(c, async (data, ctx) => {
    const name = tableParam(c);
    const latest = (await data.versions())[name]?.version;
    if (latest === undefined) throw new SourceError('not-found', `table ${name} does not exist`);
    const q = queryParams(
      c,
      z.object({ version: wholeParam(0, latest, latest), limit: wholeParam(1, 500, 50) }),
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

export default tables;
