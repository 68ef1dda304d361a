// What notebooks would write and read, from their statements, without running anything: a dry run shows it, a run
// records it for the app's lineage, and the Databricks transform uses it to know which tables' versions to read.
// Kept apart from the runner so that code which only plans (the Databricks action) does not bundle DuckDB.
import { readNotebook } from './parser.ts';
import { classifyStatement, referencedTables, tableNameText } from './statements.ts';

/** What a notebook writes and reads, from its statements without running anything. */
export interface PlannedNotebook {
  notebook: string;
  /** Tables it writes. */
  tables: string[];
  /** Two-part names its statements mention that it does not write (tables it reads, and alias.column pairs). */
  mentions: string[];
  /** SQL store tables its extraction views read (their `dbtable` option). */
  extracts: string[];
}

/** The tables each notebook would write and read (a dry run shows it; a run records it for the lineage). */
export async function planTransform(notebooks: string[]): Promise<PlannedNotebook[]> {
  const planned = [];
  for (const file of notebooks) {
    const notebook = await readNotebook(file);
    const tables = new Set<string>();
    const mentioned = new Set<string>();
    const extracts = new Set<string>();
    for (const { tokens } of notebook.cells.flatMap((c) => c.statements)) {
      const s = classifyStatement(tokens);
      if (s.kind === 'create-table' || s.kind === 'insert' || s.kind === 'merge')
        tables.add(tableNameText(s.table));
      if (s.kind === 'extract' && s.options.dbtable) extracts.add(s.options.dbtable);
      for (const name of referencedTables(tokens)) mentioned.add(tableNameText(name));
    }
    const mentions = [...mentioned].filter((t) => !tables.has(t));
    planned.push({ notebook: file, tables: [...tables], mentions, extracts: [...extracts] });
  }
  return planned;
}
