// What every action's entry shares: reading typed inputs with errors that name the input, and a logger that writes
// to the runner's log with secrets redacted.
import * as core from '@actions/core';
import type { Logger } from '../util/log.ts';
import { redact } from '../util/secrets.ts';

/** An input as the runner gives it, trimmed; undefined when empty (the runner gives "" for an unset input). */
export type InputReader = (name: string) => string | undefined;

export const inputReader =
  (input: (name: string) => string = core.getInput): InputReader =>
  (name) =>
    input(name).trim() || undefined;

export function booleanInput(text: InputReader, name: string, fallback: boolean): boolean {
  const value = text(name);
  if (value === undefined) return fallback;
  // As the runner's own getBooleanInput: true, True, TRUE and the same for false.
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new Error(`input ${name}: expected true or false, found ${JSON.stringify(value)}`);
}

/** A positive number (`unit` names what it counts, for the message); undefined when unset and no fallback. */
export function positiveInput(text: InputReader, name: string, unit?: string): number | undefined {
  const value = text(name);
  if (value === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0)
    throw new Error(
      `input ${name}: expected a positive number${unit ? ` of ${unit}` : ''}, found ${JSON.stringify(value)}`,
    );
  return Number(value);
}

export function wholeNumberInput(
  text: InputReader,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = text(name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new Error(
      `input ${name}: expected a whole number from ${min} to ${max}, found ${JSON.stringify(value)}`,
    );
  return n;
}

/** The runner's log, with every registered secret redacted. */
export const actionLogger: Logger = {
  info: (m) => core.info(redact(m)),
  warn: (m) => core.warning(redact(m)),
  error: (m) => core.error(redact(m)),
};
