// What every action's entry shares: reading typed inputs with errors that name the input, finding lakehouse.yml,
// and a logger that writes to the runner's log with secrets redacted.
import fs from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import type { Logger } from '../util/log.ts';
import { redact } from '../util/secrets.ts';

/** An input as the runner gives it, trimmed; undefined when empty (the runner gives "" for an unset input). */
export type InputReader = (name: string) => string | undefined;

export const inputReader =
  (input: (name: string) => string = core.getInput): InputReader =>
  (name) =>
    input(name).trim() || undefined;

/** true or false; the fallback when unset (undefined without one: lakehouse.yml then decides). */
export function booleanInput(text: InputReader, name: string, fallback: boolean): boolean;
export function booleanInput(text: InputReader, name: string): boolean | undefined;
export function booleanInput(text: InputReader, name: string, fallback?: boolean): boolean | undefined {
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

/** A whole number from min to max; the fallback when unset (undefined: lakehouse.yml then decides). */
export function wholeNumberInput(
  text: InputReader,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number;
export function wholeNumberInput(
  text: InputReader,
  name: string,
  fallback: undefined,
  min: number,
  max: number,
): number | undefined;
export function wholeNumberInput(
  text: InputReader,
  name: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number | undefined {
  const value = text(name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new Error(
      `input ${name}: expected a whole number from ${min} to ${max}, found ${JSON.stringify(value)}`,
    );
  return n;
}

/** The file the config input names; default lakehouse.yml, which may be absent (the inputs then say everything). */
export const DEFAULT_CONFIG = 'lakehouse.yml';

/**
 * The config input's file, if the action is to read it: a file the input names must exist (loading it says so),
 * while an absent default lakehouse.yml means the action is described by its inputs alone.
 */
export function configFile(input: string): string | undefined {
  const file = input.trim() || DEFAULT_CONFIG;
  return file !== DEFAULT_CONFIG || fs.existsSync(path.resolve(file)) ? file : undefined;
}

/** A list input's values, separated by commas or newlines; undefined when there are none. */
export function listOf(value: string | undefined): string[] | undefined {
  const values = value
    ?.split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
  return values?.length ? values : undefined;
}

/** The runner's log, with every registered secret redacted. */
export const actionLogger: Logger = {
  info: (m) => core.info(redact(m)),
  warn: (m) => core.warning(redact(m)),
  error: (m) => core.error(redact(m)),
};
