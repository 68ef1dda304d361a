// /api/tables: the Delta tables the app reads with the version served and the latest (/), a table's commits with
// the run that wrote each (/:name/history), and a page of its rows at any version with the columns' types and
// descriptions, which is time travel (/:name/rows?version=&offset=&limit=).
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import { columnDescription, tableDescription } from '../columns.ts';
import type { Datasets, ReadContext } from '../data.ts';
import { writersOf } from '../runs.ts';
import { SourceError } from '../source.ts';
import * as sql from '../sql.ts';
import { TABLES, isTableName } from '../sql.ts';
import type { TableColumn, TableCommit, TableInfo } from '../types.ts';
import type { ApiEnv } from './respond.ts';
import { BadRequest, answer, queryParams, wholeParam } from './respond.ts';
import { cell, int } from './values.ts';

/** Every table the app reads, with the version served and the latest (null when the source lacks it). */
export async function tableVersions(data: Datasets): Promise<TableInfo[]> {
  const versions = await data.versions();
  return TABLES.map((name) => ({
    name,
    version: versions[name]?.version ?? null,
    latestVersion: versions[name]?.latestVersion ?? null,
    committedAt: versions[name]?.committedAt ?? null,
    description: tableDescription(name),
  }));
}

function tableParam(c: Context): sql.TableName {
  const name = c.req.param('name') ?? '';
  if (!isTableName(name))
    throw new BadRequest(`unknown table ${JSON.stringify(name)}; expected one of ${TABLES.join(', ')}`);
  return name;
}

async function tableColumns(
  data: Datasets,
  ctx: ReadContext,
  name: sql.TableName,
  version: number,
): Promise<TableColumn[]> {
  const columns = await data.read(ctx, `columns\u0000${name}\u0000${version}`, () =>
    data.source.columns(name, version),
  );
  return columns.map((c) => ({
    name: c.name,
    type: c.type,
    description: columnDescription(c.name, c.comment),
  }));
}

const tables = new Hono<ApiEnv>();

tables.get('/', (c) => answer(c, (data) => tableVersions(data)));

tables.get('/:name/history', (c) =>
  answer(c, async (data, ctx): Promise<TableCommit[]> => {
    const name = tableParam(c);
    const history = await data.read(ctx, `history\u0000${name}`, () => data.source.history(name));
    const writers = writersOf(await data.source.manifests(), name);
    return history.map((e) => ({ ...e, run: writers.get(e.version) ?? null }));
  }),
);

tables.get('/:name/rows', (c) =>
  answer(c, async (data, ctx) => {
    const name = tableParam(c);
    const current = (await data.versions())[name];
    if (current === undefined) throw new SourceError('not-found', `table ${name} does not exist`);
    const q = queryParams(
      c,
      z.object({
        version: wholeParam(0, current.latestVersion, current.version),
        offset: wholeParam(0, 1e12, 0),
        limit: wholeParam(1, 500, 50),
      }),
    );
    const columns = await tableColumns(data, ctx, name, q.version);
    const key = `rows\u0000${name}\u0000${q.version}\u0000${q.offset}\u0000${q.limit}`;
    const page = await data.read(ctx, key, async () => {
      const [rows, count] = await Promise.all([
        data.source.queryAt(name, q.version, sql.tableRows, { limit: q.limit, offset: q.offset }),
        data.source.queryAt(name, q.version, sql.tableCount),
      ]);
      // In the schema's order (a partition column may come last from the files).
      const cells = rows.map((r) => columns.map((col) => cell(r[col.name] ?? null)));
      return { rowCount: int(count[0]?.row_count ?? 0), rows: cells };
    });
    return {
      name,
      version: q.version,
      servedVersion: current.version,
      latestVersion: current.latestVersion,
      offset: q.offset,
      limit: q.limit,
      columns,
      ...page,
    };
  }),
);

export default tables;
