// Writing into an existing table's schema: query columns match table columns by name (case-insensitive),
// narrower types widen silently, and with `addColumns` new columns are added as nullable. A type change, a
// dropped or renamed column, or a non-nullable addition is an error naming the column.
import type { StructField, StructType } from '../schema.ts';
import { canWiden, sameType, schemaString, typeName } from '../schema.ts';
import type { Snapshot } from '../snapshot.ts';
import type { SchemaPlan } from './create-table.ts';

export type SchemaEvolution = 'addColumns' | 'none';

/** The schema after writing `incoming` into `table`, or a clear error naming the incompatible column. */
export function evolveSchema(
  table: StructType,
  incoming: StructField[],
  evolution: SchemaEvolution,
  where: string,
): { schema: StructType; added: string[] } {
  const fields = [...table.fields];
  const added: string[] = [];
  for (const column of incoming) {
    const existing = fields.find((f) => f.name.toLowerCase() === column.name.toLowerCase());
    if (existing) {
      if (!canWiden(column.type, existing.type)) {
        throw new Error(
          `${where}: column "${existing.name}" has type ${typeName(existing.type)} in the table, but the query gives ` +
            `${typeName(column.type)}; changing a column's type is not supported (cast it in the query, or replace the table)`,
        );
      }
    } else if (evolution === 'addColumns') {
      fields.push({ ...column, nullable: true });
      added.push(column.name);
    } else {
      throw new Error(
        `${where}: column "${column.name}" is not in the table (columns: ${table.fields.map((f) => f.name).join(', ')}); ` +
          `pass schemaEvolution: 'addColumns' to add it, or replace the table`,
      );
    }
  }
  for (const f of table.fields) {
    if (!f.nullable && !incoming.some((c) => c.name.toLowerCase() === f.name.toLowerCase())) {
      throw new Error(`${where}: column "${f.name}" is NOT NULL in the table but the query does not give it`);
    }
  }
  return { schema: { type: 'struct', fields }, added };
}

/**
 * Checks that `next` only adds nullable columns to `previous` (the schema evolution Delta readers of older
 * files support), naming the first column that breaks it.
 */
export function checkCompatible(previous: StructType, next: StructType, where: string): void {
  for (const f of previous.fields) {
    const n = next.fields.find((x) => x.name === f.name);
    if (!n)
      throw new Error(
        `${where}: column "${f.name}" would be dropped or renamed; only adding columns is supported`,
      );
    if (!sameType(f.type, n.type)) {
      throw new Error(
        `${where}: column "${f.name}" would change type from ${typeName(f.type)} to ${typeName(n.type)}`,
      );
    }
  }
  for (const n of next.fields) {
    if (!previous.fields.some((f) => f.name === n.name) && !n.nullable) {
      throw new Error(`${where}: added column "${n.name}" must be nullable`);
    }
  }
}

/**
 * The plan of a write into the existing table: its partitioning (a different one asked for is an error) and
 * its schema, evolved when `addColumns` added columns (then a metaData action records the new schema).
 */
export function evolvedTablePlan(
  existing: Snapshot,
  incoming: StructField[],
  options: { partitionBy?: string[]; schemaEvolution?: SchemaEvolution },
  where: string,
): SchemaPlan {
  const partitionColumns = existing.partitionColumns;
  if (options.partitionBy && options.partitionBy.join(',') !== partitionColumns.join(',')) {
    throw new Error(
      `${where} is partitioned by [${partitionColumns.join(', ')}], but the write asks for [${options.partitionBy.join(', ')}]; ` +
        "use mode 'create' to replace the table with a new partitioning",
    );
  }
  const { schema, added } = evolveSchema(existing.schema, incoming, options.schemaEvolution ?? 'none', where);
  if (added.length === 0) return { schema, partitionColumns, metadata: undefined };
  checkCompatible(existing.schema, schema, where);
  return { schema, partitionColumns, metadata: { ...existing.metadata, schemaString: schemaString(schema) } };
}

/** True when files written for `plan` fit `table` exactly: same columns, types and partitioning. */
export function fitsTable(table: Snapshot, plan: SchemaPlan): boolean {
  return (
    table.partitionColumns.join(',') === plan.partitionColumns.join(',') &&
    table.schema.fields.length === plan.schema.fields.length &&
    table.schema.fields.every(
      (f, i) => f.name === plan.schema.fields[i]!.name && sameType(f.type, plan.schema.fields[i]!.type),
    )
  );
}
