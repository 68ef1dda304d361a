// Runs one step's process as the runner does: its own process group (so that a timeout or a cancel stops the
// whole tree: SIGINT, then SIGTERM after 7.5 s, as the runner), both output streams read line by line (the runner
// reads workflow commands on both), and the exit code.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

export interface ProcessOptions {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Stop the process after this long (the step's or the job's remaining time). */
  timeoutMs?: number;
  onLine: (line: string) => void;
}

export interface ProcessOutcome {
  /** The exit code; null when a signal ended it. */
  code: number | null;
  timedOut: boolean;
}

const KILL_GRACE_MS = 7500;

export function runProcess(options: ProcessOptions): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    const child = spawn(options.file, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let timedOut = false;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            signalGroup('SIGINT');
            setTimeout(() => signalGroup('SIGTERM'), KILL_GRACE_MS).unref();
          }, options.timeoutMs);
    const streamsDone = [child.stdout, child.stderr].map(
      (stream) =>
        new Promise<void>((done) => {
          const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
          lines.on('line', options.onLine);
          lines.on('close', done);
        }),
    );
    let settled = false;
    const settle = (code: number | null) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      void Promise.all(streamsDone).then(() => resolve({ code, timedOut }));
    };
    child.on('error', (e) => {
      options.onLine(`##[error]${e.message}`);
      settle(127);
    });
    child.on('close', settle);
  });
}
