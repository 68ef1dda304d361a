// The one logger every stage writes through: it redacts secrets, and the actions swap in @actions/core.
import { redact } from './secrets.ts';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLogger: Logger = {
  info: (m) => console.log(redact(m)),
  warn: (m) => console.warn(redact(m)),
  error: (m) => console.error(redact(m)),
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
