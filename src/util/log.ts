// src/util/ holds what every part shares: the logger and secret redaction (log.ts, secrets.ts), progress lines,
// run ids, the retry policy (backoff.ts), number formats, text tables, a bounded map, a seedable random source and
// cancellation on SIGTERM/SIGINT (signals.ts).
//
// The one logger every stage writes through: it redacts secrets, and the actions swap in @actions/core. On a
// terminal it writes around the progress line (./progress.ts), so that neither overwrites the other.
import { inspect } from 'node:util';
import { aroundStatusLine } from './progress.ts';
import { redact } from './secrets.ts';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLogger: Logger = {
  info: (m) => aroundStatusLine(() => console.log(redact(m))),
  warn: (m) => aroundStatusLine(() => console.warn(redact(m))),
  error: (m) => aroundStatusLine(() => console.error(redact(m))),
};

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** Collects messages, for tests and for summaries. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(redact(m)),
    warn: (m) => lines.push(`warning: ${redact(m)}`),
    error: (m) => lines.push(`error: ${redact(m)}`),
  };
}

export function errorMessage(e: unknown): string {
  return redact(e instanceof Error ? e.message : String(e));
}

/**
 * Everything known about an error, for LAKEHOUSE_DEBUG: its stack, then the stack of each `cause` in turn, all of it
 * redacted (a stack repeats the message, and a library's error may quote a request with its credentials).
 */
export function errorDetails(e: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let current = e; current !== undefined && current !== null && !seen.has(current);) {
    seen.add(current);
    const text =
      current instanceof Error
        ? (current.stack ?? `${current.name}: ${current.message}`)
        : inspect(current, { depth: 3 });
    parts.push(parts.length ? `caused by: ${text}` : text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return redact(parts.join('\n'));
}
