// Runs and tasks as the Jobs API 2.2 shows them: state and status, durations, the run page.
import { isFinal } from './runs.ts';
import type { ServerRun, ServerState, ServerTask } from './state.ts';

export const JOB_ID = 0; // One-time runs belong to no job.

export function taskJson(state: ServerState, task: ServerTask) {
  return {
    run_id: task.run_id,
    task_key: task.task_key,
    ...(task.depends_on.length ? { depends_on: task.depends_on } : {}),
    notebook_task: task.notebook_task,
    ...(task.existing_cluster_id ? { existing_cluster_id: task.existing_cluster_id } : {}),
    state: stateJson(task.life_cycle_state, task.result_state, task.state_message),
    status: statusJson(task.life_cycle_state, task.result_state, task.state_message),
    start_time: task.start_time ?? 0,
    ...(task.end_time ? { end_time: task.end_time } : {}),
    setup_duration: 0,
    execution_duration: task.end_time && task.start_time ? task.end_time - task.start_time : 0,
    cleanup_duration: 0,
    run_page_url: state.runUrl(task.run_id),
  };
}

export function runJson(state: ServerState, run: ServerRun) {
  const life = run.tasks.every(isFinal)
    ? 'TERMINATED'
    : run.tasks.some((t) => t.life_cycle_state !== 'PENDING')
      ? 'RUNNING'
      : 'PENDING';
  const result =
    life !== 'TERMINATED'
      ? undefined
      : run.cancelled
        ? 'CANCELED'
        : run.tasks.every((t) => t.result_state === 'SUCCESS')
          ? 'SUCCESS'
          : 'FAILED';
  return {
    job_id: JOB_ID,
    run_id: run.run_id,
    run_name: run.run_name,
    run_type: 'SUBMIT_RUN',
    state: stateJson(life, result, result === 'FAILED' ? 'One or more tasks failed.' : ''),
    status: statusJson(life, result, ''),
    tasks: run.tasks.map((task) => taskJson(state, task)),
    start_time: run.start_time,
    ...(run.end_time ? { end_time: run.end_time } : {}),
    run_page_url: state.runUrl(run.run_id),
  };
}

export function stateJson(life: string, result: string | undefined, message: string) {
  return {
    life_cycle_state: life,
    ...(result ? { result_state: result } : {}),
    state_message: message,
    user_cancelled_or_timedout: result === 'CANCELED',
  };
}

/** Jobs 2.2's `status`: SKIPPED and INTERNAL_ERROR runs are TERMINATED with termination details. */
export function statusJson(life: string, result: string | undefined, message: string) {
  if (!result) return { state: life === 'PENDING' ? 'PENDING' : 'RUNNING' };
  const code =
    result === 'CANCELED'
      ? 'CANCELED'
      : result === 'SUCCESS'
        ? 'SUCCESS'
        : result === 'UPSTREAM_FAILED'
          ? 'UPSTREAM_FAILED'
          : 'RUN_EXECUTION_ERROR';
  return {
    state: 'TERMINATED',
    termination_details: { code, type: code === 'SUCCESS' ? 'SUCCESS' : 'CLIENT_ERROR', message },
  };
}
