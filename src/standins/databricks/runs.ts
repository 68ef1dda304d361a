// One-time job runs on the Databricks REST stand-in (Jobs API 2.2 runs/submit): the submitted tasks checked as
// Databricks checks them, and the state machine that moves them along on each runs/get (see server.ts).
import { ApiError } from './api.ts';
import type { ServerRun, ServerState, ServerTask } from './state.ts';

export function submit(state: ServerState, body: Record<string, unknown>): { run_id: number } {
  const idempotency = body.idempotency_token;
  if (idempotency !== undefined) {
    if (typeof idempotency !== 'string' || idempotency.length > 64)
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        'idempotency_token must be a string of at most 64 characters.',
      );
    const seen = state.tokens.get(idempotency);
    if (seen !== undefined) return { run_id: seen };
  }
  if (
    body.timeout_seconds !== undefined &&
    !(Number.isInteger(body.timeout_seconds) && (body.timeout_seconds as number) >= 0)
  )
    throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'timeout_seconds must be a non-negative integer.');
  const tasks = body.tasks;
  if (!Array.isArray(tasks) || tasks.length === 0)
    throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'A run must have at least one task.');
  const keys = new Set<string>();
  const parsed: ServerTask[] = tasks.map((raw: Record<string, unknown>, i) => {
    const key = raw?.task_key;
    if (typeof key !== 'string' || !/^[\w-]{1,100}$/.test(key))
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `Task ${i}: task_key is required (1 to 100 letters, digits, - or _).`,
      );
    if (keys.has(key))
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Task key ${key} is used more than once.`);
    keys.add(key);
    return parseTask(state, raw, key);
  });
  for (const task of parsed)
    for (const dep of task.depends_on)
      if (!keys.has(dep.task_key))
        throw new ApiError(
          400,
          'INVALID_PARAMETER_VALUE',
          `Task ${task.task_key} depends on ${dep.task_key}, which is not a task of this run.`,
        );
  rejectCycles(parsed);
  const run: ServerRun = {
    run_id: state.nextId(),
    run_name: typeof body.run_name === 'string' ? body.run_name : 'Untitled',
    spec: body,
    tasks: parsed,
    cancelled: false,
    start_time: Date.now(),
  };
  state.runs.set(run.run_id, run);
  if (typeof idempotency === 'string') state.tokens.set(idempotency, run.run_id);
  return { run_id: run.run_id };
}

export function parseTask(state: ServerState, raw: Record<string, unknown>, key: string): ServerTask {
  const dependsOn = raw.depends_on ?? [];
  if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d?.task_key !== 'string'))
    throw new ApiError(
      400,
      'INVALID_PARAMETER_VALUE',
      `Task ${key}: depends_on must be a list of {task_key}.`,
    );
  const notebook = raw.notebook_task as Record<string, unknown> | undefined;
  if (!notebook || typeof notebook.notebook_path !== 'string')
    throw new ApiError(
      400,
      'INVALID_PARAMETER_VALUE',
      `Task ${key}: this server runs notebook tasks only (notebook_task.notebook_path is required).`,
    );
  const path = notebook.notebook_path;
  if (
    (notebook.source ?? 'WORKSPACE') === 'WORKSPACE' &&
    state.workspace.get(path)?.object_type !== 'NOTEBOOK'
  )
    throw new ApiError(
      400,
      'RESOURCE_DOES_NOT_EXIST',
      `Task ${key}: the notebook ${path} does not exist in the workspace.`,
    );
  const params = notebook.base_parameters ?? {};
  if (typeof params !== 'object' || Object.values(params).some((v) => typeof v !== 'string'))
    throw new ApiError(
      400,
      'INVALID_PARAMETER_VALUE',
      `Task ${key}: base_parameters must map names to strings.`,
    );
  const warehouse = notebook.warehouse_id;
  if (warehouse !== undefined && !state.warehouses.has(String(warehouse)))
    throw new ApiError(
      400,
      'INVALID_PARAMETER_VALUE',
      `Task ${key}: SQL warehouse ${String(warehouse)} does not exist.`,
    );
  const cluster = raw.existing_cluster_id;
  if (cluster !== undefined && !state.clusters.has(String(cluster)))
    throw new ApiError(
      400,
      'INVALID_PARAMETER_VALUE',
      `Task ${key}: cluster ${String(cluster)} does not exist.`,
    );
  if (warehouse !== undefined && cluster !== undefined)
    throw new ApiError(
      400,
      'INVALID_PARAMETER_VALUE',
      `Task ${key}: give warehouse_id or existing_cluster_id, not both.`,
    );
  return {
    run_id: state.nextId(),
    task_key: key,
    depends_on: dependsOn as { task_key: string }[],
    notebook_task: notebook as ServerTask['notebook_task'],
    ...(cluster !== undefined ? { existing_cluster_id: String(cluster) } : {}),
    life_cycle_state: 'PENDING',
    state_message: 'Waiting for cluster',
  };
}

/** One step of the state machine (see the top of this file). */
export function advance(state: ServerState, run: ServerRun): void {
  if (run.cancelled) return;
  const byKey = new Map(run.tasks.map((t) => [t.task_key, t]));
  const before = new Map(run.tasks.map((t) => [t.task_key, t.life_cycle_state]));
  for (const task of run.tasks) {
    if (isFinal(task) || before.get(task.task_key) !== task.life_cycle_state) continue;
    const upstream = task.depends_on.map((d) => byKey.get(d.task_key)!);
    if (upstream.some((u) => isFinal(u) && u.result_state !== 'SUCCESS')) {
      finish(task, 'SKIPPED', 'UPSTREAM_FAILED', 'Upstream task(s) failed.');
      continue;
    }
    if (!upstream.every((u) => u.result_state === 'SUCCESS')) continue;
    const behaviour = state.notebooks.get(task.notebook_task.notebook_path) ?? {};
    if (task.life_cycle_state === 'PENDING') {
      task.life_cycle_state = 'RUNNING';
      task.state_message = 'In run';
      task.start_time = Date.now();
      if (state.runNotebook) execute(state, task, state.runNotebook);
    } else if (task.execution) {
      const { settled, error } = task.execution;
      if (settled && error !== undefined) {
        task.error = error;
        finish(task, 'TERMINATED', 'FAILED', 'Workload failed, see run output for details');
      } else if (settled) finish(task, 'TERMINATED', 'SUCCESS', '');
    } else if (task.life_cycle_state === 'RUNNING' && !behaviour.hang) {
      if (behaviour.fail) {
        task.error = behaviour.fail;
        finish(task, 'TERMINATED', 'FAILED', 'Workload failed, see run output for details');
      } else finish(task, 'TERMINATED', 'SUCCESS', '');
    }
  }
  if (run.tasks.every(isFinal)) run.end_time ??= Date.now();
}

export function execute(
  state: ServerState,
  task: ServerTask,
  runNotebook: NonNullable<ServerState['runNotebook']>,
): void {
  const execution: NonNullable<ServerTask['execution']> = { settled: false };
  task.execution = execution;
  const path = task.notebook_task.notebook_path;
  const parameters = (task.notebook_task.base_parameters ?? {}) as Record<string, string>;
  void runNotebook({
    taskKey: task.task_key,
    path,
    source: state.workspace.get(path)?.content ?? '',
    parameters,
  }).then(
    (result) => Object.assign(execution, { settled: true, result }),
    (e: unknown) =>
      Object.assign(execution, { settled: true, error: e instanceof Error ? e.message : String(e) }),
  );
}

export function findTask(
  state: ServerState,
  runId: number,
): { run: ServerRun; task: ServerTask } | undefined {
  for (const run of state.runs.values()) {
    const task = run.tasks.find((t) => t.run_id === runId);
    if (task) return { run, task };
  }
  return undefined;
}

export function finish(task: ServerTask, life: string, result: string, message: string): void {
  task.life_cycle_state = life;
  task.result_state = result;
  task.state_message = message;
  task.start_time ??= Date.now();
  task.end_time = Date.now();
}

export function isFinal(task: ServerTask): boolean {
  return task.result_state !== undefined;
}

export function rejectCycles(tasks: ServerTask[]): void {
  const byKey = new Map(tasks.map((t) => [t.task_key, t]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (key: string): void => {
    if (done.has(key)) return;
    if (visiting.has(key))
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `The tasks' depends_on form a cycle through ${key}.`,
      );
    visiting.add(key);
    for (const dep of byKey.get(key)!.depends_on) visit(dep.task_key);
    visiting.delete(key);
    done.add(key);
  };
  for (const t of tasks) visit(t.task_key);
}
