// Identifies a pipeline run: on GitHub from the workflow's variables (its run id and attempt, unique per attempt),
// locally from the clock to the millisecond plus a random suffix, so that two runs started in the same second, or
// the same millisecond, never share an id, nor a manifest file (named by the id).
import crypto from 'node:crypto';

export interface RunInfo {
  id: string;
  /** The commit the run belongs to, when known. */
  sha: string;
  /** The run's date (UTC, YYYY-MM-DD), used in object names. */
  date: string;
  startedAt: string;
}

export function currentRun(env: NodeJS.ProcessEnv = process.env, now = new Date()): RunInfo {
  return {
    id: env.GITHUB_RUN_ID ? `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}` : localRunId(now),
    sha: env.GITHUB_SHA ?? 'local',
    date: now.toISOString().slice(0, 10),
    startedAt: now.toISOString(),
  };
}

/** `local-20260304T050607.123Z-3f9a1c`: sorts by time, and 24 random bits apart within a millisecond. */
function localRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '');
  return `local-${stamp}-${crypto.randomBytes(3).toString('hex')}`;
}
