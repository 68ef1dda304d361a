// Datasets the tests load: the groceries one as the project's lakehouse.yml describes it, and one with every
// column type the load stage writes.
import fs from 'node:fs';
import path from 'node:path';
import { findDataset, parseConfig } from '../../src/config/load.ts';
import type { ColumnConfig, DatasetConfig } from '../../src/config/schema.ts';
import { repoRoot } from './services.ts';

/** lakehouse.yml's `transactions` (Member_number,Date,itemDescription → member_number, txn_date, item; append). */
export function groceriesDataset(): DatasetConfig {
  const file = path.join(repoRoot, 'lakehouse.yml');
  return findDataset(parseConfig(fs.readFileSync(file, 'utf8'), file, 'local').config, 'transactions');
}

/** Every column type the load stage writes, all nullable. */
export const ALL_TYPE_COLUMNS: ColumnConfig[] = [
  { name: 'sku', type: 'string', nullable: true },
  { name: 'day', type: 'date', format: 'YYYY-MM-DD', nullable: true },
  { name: 'price', type: 'decimal(10,2)', nullable: true },
  { name: 'units', type: 'integer', nullable: true },
  { name: 'ratio', type: 'double', nullable: true },
  { name: 'active', type: 'boolean', nullable: true },
  { name: 'seen_at', type: 'timestamp', nullable: true },
  { name: 'note', type: 'string', nullable: true },
];

/** A CSV dataset of ALL_TYPE_COLUMNS. */
export function allTypesDataset(
  name: string,
  keys: string[],
  load: DatasetConfig['load'],
  columns: ColumnConfig[] = ALL_TYPE_COLUMNS,
): DatasetConfig {
  return {
    name,
    source: { path: 'unused', glob: '*.csv' },
    format: 'csv',
    csv: { header: true, delimiter: ',' },
    columns,
    keys,
    load,
  };
}
