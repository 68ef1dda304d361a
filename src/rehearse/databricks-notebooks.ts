// The Databricks stand-in's compute: each notebook task it is sent runs for real on the local engine (the DuckDB
// runner of src/stages/transform.ts), reading the SQL store the load filled (the rehearsal's PostgreSQL schema)
// and writing Delta tables into the rehearsal run's folder. Widget values arrive as strings, as Databricks sends
// base_parameters; one that reads as a number is given as a number, as Spark SQL casts a widget compared with one.
import fs from 'node:fs';
import path from 'node:path';
import { createStoreSource } from '../notebooks/sql-source.ts';
import type { SqlSession } from '../sql/types.ts';
import { writeManifest } from '../stages/manifest.ts';
import { transform } from '../stages/transform.ts';
import type { Logger } from '../util/log.ts';

export interface NotebookCompute {
  /** Opens the SQL store the load filled (a session per task, closed when the task ends). */
  openStore: () => Promise<SqlSession>;
  deltaRoot: string;
  manifestsDir: string;
  /** Where the notebooks sent are kept, one file per task. */
  notebooksDir: string;
  runId: string;
  logFile: string;
}

export function notebookRunner(compute: NotebookCompute) {
  return async (task: {
    taskKey: string;
    path: string;
    source: string;
    parameters: Record<string, string>;
  }): Promise<string | undefined> => {
    fs.mkdirSync(compute.notebooksDir, { recursive: true });
    const file = path.join(compute.notebooksDir, `${task.taskKey}.sql`);
    fs.writeFileSync(file, task.source);
    const log = fileLogger(compute.logFile, task.path);
    const session = await compute.openStore();
    try {
      const manifest = await transform({
        notebooks: [file],
        deltaRoot: compute.deltaRoot,
        source: createStoreSource(session),
        params: widgetValues(task.parameters),
        run: {
          id: compute.runId,
          sha: '',
          date: new Date().toISOString().slice(0, 10),
          startedAt: new Date().toISOString(),
        },
        log,
      });
      await writeManifest(compute.manifestsDir, { ...manifest, runId: `${compute.runId}-${task.taskKey}` });
      return undefined;
    } catch (e) {
      log.error(e instanceof Error ? e.message : String(e));
      throw e;
    } finally {
      await session.close();
    }
  };
}

function widgetValues(parameters: Record<string, string>): Record<string, string | number> {
  return Object.fromEntries(
    Object.entries(parameters).map(([k, v]) => [k, /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v) ? Number(v) : v]),
  );
}

function fileLogger(file: string, notebook: string): Logger {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const write = (level: string) => (message: string) =>
    fs.appendFileSync(file, `${new Date().toISOString()} ${level} ${notebook}: ${message}\n`);
  return { info: write('info'), warn: write('warn'), error: write('error') };
}
