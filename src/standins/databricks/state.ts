// What the Databricks REST stand-in holds: the workspace's objects, the runs and their tasks, how each notebook
// behaves, and the ids it hands out; workspace.ts and runs.ts act on it.

export interface NotebookBehaviour {
  /** The task fails with this error (what get-output's `error` says). */
  fail?: string;
  /** The task never leaves RUNNING (until the run is cancelled). */
  hang?: boolean;
  /** What get-output's notebook_output.result says. */
  result?: string;
}

export interface WorkspaceObject {
  object_type: 'DIRECTORY' | 'NOTEBOOK';
  path: string;
  object_id: number;
  language?: string;
  /** A notebook's source, decoded. */
  content?: string;
}

export interface ServerTask {
  run_id: number;
  task_key: string;
  depends_on: { task_key: string }[];
  notebook_task: Record<string, unknown> & { notebook_path: string };
  existing_cluster_id?: string;
  life_cycle_state: string;
  result_state?: string;
  state_message: string;
  start_time?: number;
  end_time?: number;
  error?: string;
  /** A notebook run for real (see `runNotebook`): settled or not, and how. */
  execution?: { settled: boolean; result?: string; error?: string };
}

export interface ServerRun {
  run_id: number;
  run_name: string;
  spec: Record<string, unknown>;
  tasks: ServerTask[];
  cancelled: boolean;
  start_time: number;
  end_time?: number;
}

export interface NotebookTask {
  taskKey: string;
  path: string;
  source: string;
  parameters: Record<string, string>;
}

export interface ServerState {
  workspace: Map<string, WorkspaceObject>;
  runs: Map<number, ServerRun>;
  notebooks: Map<string, NotebookBehaviour>;
  /** Run ids by idempotency token. */
  tokens: Map<string, number>;
  cancels: number[];
  warehouses: Set<string>;
  clusters: Set<string>;
  /** See DatabricksServerOptions.runNotebook. */
  runNotebook?: (task: NotebookTask) => Promise<string | undefined>;
  /** The next object or run id. */
  nextId(): number;
  /** A run's page in the workspace UI. */
  runUrl(runId: number): string;
}
