// The options every `lakehouse` command shares, and the parsers of option values. The global options are given to
// the root and to each sub-command, so that they work before or after the sub-command's name and show in its help
// (the root parses positionally: `table show --version 3` keeps its own --version).
import { Command, Option } from 'commander';
import { ConfigError } from '../config/load.ts';

export interface GlobalOptions {
  config: string;
  profile?: string;
  dryRun: boolean;
  dataset: string[];
}

export type GlobalOption = keyof GlobalOptions;
export const ALL_GLOBAL_OPTIONS: GlobalOption[] = ['config', 'profile', 'dryRun', 'dataset'];

const definitions: Record<GlobalOption, () => Option> = {
  config: () => new Option('-c, --config <file>', 'the config file').default('lakehouse.yml'),
  profile: () =>
    new Option(
      '-p, --profile <name>',
      'the profile in the config (default: its defaultProfile, or $LAKEHOUSE_PROFILE)',
    ),
  dryRun: () => new Option('-n, --dry-run', 'print the plan and change nothing').default(false),
  dataset: () =>
    new Option('-d, --dataset <name>', 'only this dataset (repeatable)')
      .argParser((v: string, previous: string[] = []) => [...previous, v])
      .default([]),
};

export function addGlobalOptions(command: Command, which: GlobalOption[] = ALL_GLOBAL_OPTIONS): Command {
  for (const key of which) command.addOption(definitions[key]());
  return command;
}

/**
 * The global options as given: for each, the value set nearest the sub-command (before or after its name), else
 * the default; --dataset gathers every one given.
 */
export function globalOptions(command: Command): GlobalOptions {
  const chain: Command[] = [];
  for (let c: Command | null = command; c; c = c.parent) chain.push(c);
  const given = (key: GlobalOption) => chain.find((c) => c.getOptionValueSource(key) === 'cli');
  const value = <K extends GlobalOption>(key: K, fallback: GlobalOptions[K]): GlobalOptions[K] =>
    ((given(key) ?? chain.find((c) => c.opts()[key] !== undefined))?.opts()[key] as GlobalOptions[K]) ??
    fallback;
  return {
    config: value('config', 'lakehouse.yml'),
    profile: value('profile', undefined),
    dryRun: value('dryRun', false),
    dataset: chain.flatMap((c) => (c.opts().dataset as string[] | undefined) ?? []),
  };
}

export function keyValue(v: string, previous: Record<string, string> = {}): Record<string, string> {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(v);
  if (!match) throw new ConfigError(`--param: expected name=value, found ${JSON.stringify(v)}`);
  return { ...previous, [match[1]!]: match[2]! };
}

/** A numeric option parser that names the option and what it expects. */
function numberOption(name: string, expected: string, valid: (n: number) => boolean) {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !valid(n))
      throw new ConfigError(`${name}: expected ${expected}, found ${JSON.stringify(v)}`);
    return n;
  };
}

export function positiveNumber(name: string) {
  return numberOption(name, 'a positive number', (n) => Number.isFinite(n) && n > 0);
}
export function positiveInt(name: string) {
  return numberOption(name, 'a positive whole number', (n) => Number.isInteger(n) && n > 0);
}
export function port(v: string) {
  return numberOption(
    '--port',
    'a port number from 0 to 65535',
    (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
  )(v);
}
export function integer(name: string) {
  return numberOption(name, 'a whole number', Number.isInteger);
}
export function share(name: string) {
  return numberOption(name, 'a number from 0 to 1', (n) => n >= 0 && n <= 1);
}
