// Creating a table, or replacing one (CREATE OR REPLACE TABLE): the protocol and metaData actions of the new
// definition, with its partition columns checked against the query's columns.
import { randomUUID } from 'node:crypto';
import type { Metadata, Protocol } from '../actions.ts';
import type { StructField, StructType } from '../schema.ts';
import { schemaString, typeName } from '../schema.ts';

/** What a new table is given besides its columns. */
export interface TableDefinition {
  partitionBy?: string[];
  /** For a new table: metaData name, description and configuration (table properties). */
  name?: string;
  description?: string;
  configuration?: Record<string, string>;
}

/** The table's schema and partitioning after a write. */
export interface SchemaPlan {
  schema: StructType;
  partitionColumns: string[];
  /** The metaData action to commit, when the write creates, replaces or evolves the table. */
  metadata: Metadata | undefined;
}

/** Version 0 of every table this module creates: the features of reader 1 / writer 2 and no more. */
export const NEW_TABLE_PROTOCOL: Protocol = { minReaderVersion: 1, minWriterVersion: 2 };

/**
 * The plan of a new table with the query's columns. Replacing a table keeps its id (`replacedId`), so that
 * readers and the history see the same table.
 */
export function newTablePlan(
  incoming: StructField[],
  definition: TableDefinition,
  where: string,
  replacedId?: string,
): SchemaPlan {
  const schema: StructType = { type: 'struct', fields: incoming };
  const partitionColumns = resolvePartitionColumns(definition.partitionBy ?? [], schema, where);
  const metadata: Metadata = {
    id: replacedId ?? randomUUID(),
    ...(definition.name !== undefined ? { name: definition.name } : {}),
    ...(definition.description !== undefined ? { description: definition.description } : {}),
    format: { provider: 'parquet', options: {} },
    schemaString: schemaString(schema),
    partitionColumns,
    configuration: definition.configuration ?? {},
    createdTime: Date.now(),
  };
  return { schema, partitionColumns, metadata };
}

/** The partition columns as the schema spells them: primitive, listed once, leaving a data column. */
function resolvePartitionColumns(partitionBy: string[], schema: StructType, where: string): string[] {
  const resolved = partitionBy.map((name) => {
    const field = schema.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (!field) {
      throw new Error(
        `${where}: partition column "${name}" is not in the query's columns (${schema.fields.map((f) => f.name).join(', ')})`,
      );
    }
    if (typeof field.type !== 'string')
      throw new Error(
        `${where}: partition column "${name}" must have a primitive type, found ${typeName(field.type)}`,
      );
    return field.name;
  });
  if (new Set(resolved).size !== resolved.length)
    throw new Error(`${where}: a partition column is listed twice`);
  if (resolved.length > 0 && resolved.length >= schema.fields.length) {
    throw new Error(`${where}: every column is a partition column; at least one data column is needed`);
  }
  return resolved;
}
