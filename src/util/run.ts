// Identifies a pipeline run: on GitHub from the workflow's variables, locally from the clock.
export interface RunInfo {
  id: string;
  /** The commit the run belongs to, when known. */
  sha: string;
  /** The run's date (UTC, YYYY-MM-DD), used in object names. */
  date: string;
  startedAt: string;
}

export function currentRun(env: NodeJS.ProcessEnv = process.env, now = new Date()): RunInfo {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return {
    id: env.GITHUB_RUN_ID ? `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}` : `local-${stamp}`,
    sha: env.GITHUB_SHA ?? 'local',
    date: now.toISOString().slice(0, 10),
    startedAt: now.toISOString(),
  };
}
