// The columns a write produces: the query's columns as DuckDB describes them, mapped onto the table's schema
// (cast to the Delta type, missing ones as NULL), split into data and partition columns.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DataColumn } from '../files.ts';
import type { StructType } from '../schema.ts';
import { duckdbType, writeExpression } from '../schema.ts';
import type { Snapshot } from '../snapshot.ts';

export interface QueryColumn {
  /** The table column it fills. */
  name: string;
  duckType: string;
  /** Its name in the query (differs from `name` when matched by position). */
  sourceName: string;
}

export function trimQuery(query: string): string {
  return query.trim().replace(/;\s*$/, '');
}

export async function describeQuery(conn: DuckDBConnection, query: string): Promise<QueryColumn[]> {
  const reader = await conn.runAndReadAll(`DESCRIBE SELECT * FROM (${query}) AS __delta_source`);
  return reader
    .getRows()
    .map(([name, type]) => ({ name: String(name), duckType: String(type), sourceName: String(name) }));
}

/** The data and partition columns to write, reading `sourceColumns` of the query (missing ones as NULL). */
export function dataColumns(
  schema: StructType,
  partitionColumns: string[],
  sourceColumns: QueryColumn[],
): { data: DataColumn[]; partitions: DataColumn[] } {
  const data: DataColumn[] = [];
  const partitions: DataColumn[] = [];
  for (const field of schema.fields) {
    const source = sourceColumns.find((c) => c.name.toLowerCase() === field.name.toLowerCase());
    const expr = source
      ? writeExpression(source.sourceName, source.duckType, field.type)
      : `CAST(NULL AS ${duckdbType(field.type)})`;
    (partitionColumns.includes(field.name) ? partitions : data).push({ field, expr });
  }
  // Folders nest in the order of metaData.partitionColumns, as Spark lays them out.
  partitions.sort((a, b) => partitionColumns.indexOf(a.field.name) - partitionColumns.indexOf(b.field.name));
  return { data, partitions };
}

/** The columns to write rows that already have the table's own columns (rows read back from the table). */
export function tableColumns(snapshot: Snapshot): { data: DataColumn[]; partitions: DataColumn[] } {
  return dataColumns(
    snapshot.schema,
    snapshot.partitionColumns,
    snapshot.schema.fields.map((f) => ({ name: f.name, duckType: duckdbType(f.type), sourceName: f.name })),
  );
}
