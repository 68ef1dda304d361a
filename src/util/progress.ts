// Progress on long work. On a terminal: one status line, rewritten in place, with the overall percentage, the rate
// and the time left, and a running timer for the step under way; a log line printed meanwhile first clears it and
// then draws it again below, so no log line is ever written over. Elsewhere (CI logs): a plain line every few
// seconds, never a carriage return.
import { formatBytes, formatDuration, formatNumber } from './format.ts';

export interface Measure {
  /** Work done and in all, in any unit (files, bytes, cells): the percentage and the time left. */
  done?: number;
  total?: number;
  /** A count whose rate is shown: `count: 12345, unit: 'rows'` → "4,115 rows/s"; unit "B" is shown as bytes. */
  count?: number;
  unit?: string;
  /** When the step under way began (ms, as Date.now()): its timer runs on the status line. */
  stepStartedAt?: number;
}

export interface Progress {
  update(status: string, measure?: Measure): void;
  /** Ends it, leaving `status` as its last line (default: the latest status; '' leaves none). */
  done(status?: string): void;
}

export const noProgress: Progress = { update: () => {}, done: () => {} };

/** What a status line needs of a stream; process.stderr is one. */
export interface StatusStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** The status line on the terminal now, if any: a log line is written around it, and it is drawn again as it is
 * now (its latest status, which may be newer than what was drawn). */
let shown: { stream: StatusStream; render: () => string } | undefined;

/** Runs `write` (which prints a whole line) with the status line cleared first and drawn again after. */
export function aroundStatusLine(write: () => void): void {
  const line = shown;
  if (!line) return write();
  line.stream.write('\r\x1b[K');
  write();
  line.stream.write(line.render());
}

/** Takes the status line off the terminal for good (before the last words of a failed command). */
export function clearStatusLine(): void {
  shown?.stream.write('\r\x1b[K');
  shown = undefined;
}

export function progress(label: string, stream: StatusStream = process.stderr, clock = Date.now): Progress {
  const interactive = stream.isTTY === true;
  const every = interactive ? 100 : 5000;
  const started = clock();
  let last = 0;
  let latest: { status: string; measure?: Measure } | undefined;
  let ticker: ReturnType<typeof setInterval> | undefined;
  let step: string | undefined;
  const text = () =>
    latest ? `${label}: ${describe(latest.status, latest.measure, clock() - started, clock)}` : '';
  const draw = () => {
    last = clock();
    if (!interactive) return void stream.write(`${text()}\n`);
    shown = { stream, render: () => `\r\x1b[K${text()}` };
    stream.write(shown.render());
  };
  return {
    update(status, measure) {
      latest = { status, measure };
      // A step's timer goes on between updates: a long notebook cell is not silent.
      if (measure?.stepStartedAt !== undefined && !ticker) {
        ticker = setInterval(() => clock() - last >= (interactive ? 1000 : 10_000) && draw(), 1000);
        ticker.unref();
      }
      // On a terminal a new step (a status with a timer, unlike the one before) is shown at once; other updates,
      // and every line of a log, at most every `every` ms.
      const newStep = interactive && measure?.stepStartedAt !== undefined && status !== step;
      step = measure?.stepStartedAt === undefined ? undefined : status;
      if (newStep || clock() - last >= every) draw();
    },
    done(status) {
      if (ticker) clearInterval(ticker);
      ticker = undefined;
      if (interactive && shown?.stream === stream) clearStatusLine();
      if (status !== undefined) latest = { status };
      if (latest?.status) stream.write(`${label}: ${latest.status}\n`);
    },
  };
}

/** "3/24 files · 45% · 1.2 MB/s · ETA 0:12", or "cell 5/12 4.1 s · 40% · ETA 0:06" (the parts that are known). */
function describe(
  status: string,
  measure: Measure | undefined,
  elapsedMs: number,
  clock: () => number,
): string {
  if (!measure) return status;
  const { done, total, count, unit, stepStartedAt } = measure;
  const seconds = elapsedMs / 1000;
  const parts = [
    stepStartedAt === undefined ? status : `${status} ${formatDuration((clock() - stepStartedAt) / 1000)}`,
  ];
  if (done !== undefined && total) parts.push(`${Math.min(100, Math.floor((done / total) * 100))}%`);
  if (count !== undefined && unit && seconds >= 1) {
    const rate = count / seconds;
    parts.push(
      unit === 'B' ? `${formatBytes(Math.round(rate))}/s` : `${formatNumber(Math.round(rate))} ${unit}/s`,
    );
  }
  if (done && total && done < total && seconds >= 1)
    parts.push(`ETA ${formatDuration((seconds * (total - done)) / done)}`);
  return parts.join(' · ');
}
