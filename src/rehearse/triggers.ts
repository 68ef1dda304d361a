// Whether a workflow runs for an event, as GitHub decides it: the event must be under `on:`; a push must pass
// the branch filters and the path filters (against the paths the push changed); a dispatch gets its typed inputs
// with their defaults, and unknown, missing or invalid inputs are refused as GitHub's API refuses them.
import picomatch from 'picomatch';
import type { EventsConfig, InputConfig } from '@actions/workflow-parser/model/workflow-template';

export type RehearsedEvent = 'workflow_dispatch' | 'schedule' | 'push';

export const EVENT_ALIASES: Record<string, RehearsedEvent> = {
  dispatch: 'workflow_dispatch',
  workflow_dispatch: 'workflow_dispatch',
  schedule: 'schedule',
  push: 'push',
};

export interface TriggerRequest {
  event: RehearsedEvent;
  branch: string;
  /** Paths the push changed (relative to the repository root). */
  changed: string[];
  /** Dispatch inputs as given on the command line. */
  inputs: Record<string, string>;
}

export interface TriggerDecision {
  runs: boolean;
  /** Why it runs or not, in a sentence. */
  reason: string;
  /** The `inputs` context (dispatch: typed, defaults applied). */
  inputs: Record<string, string | number | boolean>;
  /** The schedule's cron, for github.event.schedule. */
  cron?: string;
}

export class TriggerError extends Error {}

export function decideTrigger(events: EventsConfig, request: TriggerRequest): TriggerDecision {
  const { event } = request;
  if (!(event in events))
    return {
      runs: false,
      reason: `the workflow has no \`on: ${event}\` (it runs on ${Object.keys(events).join(', ')})`,
      inputs: {},
    };
  if (event === 'workflow_dispatch') {
    const inputs = dispatchInputs(events.workflow_dispatch?.inputs ?? {}, request.inputs);
    return { runs: true, reason: 'workflow_dispatch (the Run workflow button)', inputs };
  }
  if (Object.keys(request.inputs).length)
    throw new TriggerError(`--input: only a workflow_dispatch event takes inputs, this is ${event}`);
  if (event === 'schedule') {
    const cron = events.schedule?.[0]?.cron;
    return { runs: true, reason: `schedule (cron '${cron}')`, inputs: {}, cron };
  }
  return pushDecision(events.push ?? {}, request);
}

function pushDecision(filters: NonNullable<EventsConfig['push']>, request: TriggerRequest): TriggerDecision {
  const refused = (reason: string): TriggerDecision => ({ runs: false, reason, inputs: {} });
  if (filters.branches && !matchesFilter(filters.branches, request.branch))
    return refused(`branch ${request.branch} is not in push.branches [${filters.branches.join(', ')}]`);
  if (filters['branches-ignore'] && matchesFilter(filters['branches-ignore'], request.branch))
    return refused(`branch ${request.branch} is in push.branches-ignore`);
  if (filters.paths && !request.changed.some((p) => matchesFilter(filters.paths!, p)))
    return refused(
      `no changed path matches push.paths [${filters.paths.join(', ')}] (changed: ${request.changed.join(', ') || 'nothing'})`,
    );
  const ignored = filters['paths-ignore'];
  if (ignored && request.changed.length && request.changed.every((p) => matchesFilter(ignored, p)))
    return refused(`every changed path matches push.paths-ignore [${ignored.join(', ')}]`);
  const matched = filters.paths ? request.changed.filter((p) => matchesFilter(filters.paths!, p)) : [];
  return {
    runs: true,
    reason: `push to ${request.branch}${matched.length ? ` changing ${matched.join(', ')}` : ''}`,
    inputs: {},
  };
}

/**
 * GitHub's filter patterns: `*` stops at `/`, `**` crosses it, and a pattern starting with `!` excludes what the
 * patterns before it included; the last pattern that matches decides.
 */
export function matchesFilter(patterns: readonly string[], value: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (picomatch(negated ? pattern.slice(1) : pattern, { dot: true })(value)) matched = !negated;
  }
  return matched;
}

function dispatchInputs(
  declared: Record<string, InputConfig>,
  given: Record<string, string>,
): Record<string, string | number | boolean> {
  const unexpected = Object.keys(given).filter((k) => !(k in declared));
  if (unexpected.length)
    throw new TriggerError(
      `Unexpected inputs provided: [${unexpected.map((k) => `"${k}"`).join(', ')}] (the workflow declares ${Object.keys(declared).join(', ') || 'none'})`,
    );
  const inputs: Record<string, string | number | boolean> = {};
  for (const [name, config] of Object.entries(declared)) {
    const value = given[name] ?? (config.default === undefined ? undefined : String(config.default));
    if (value === undefined) {
      if (config.required) throw new TriggerError(`Required input '${name}' not provided`);
      inputs[name] = config.type === 'boolean' ? false : '';
      continue;
    }
    inputs[name] = typedInput(name, config, value);
  }
  return inputs;
}

function typedInput(name: string, config: InputConfig, value: string): string | number | boolean {
  const type = config.type as string;
  if (type === 'boolean') {
    if (value !== 'true' && value !== 'false')
      throw new TriggerError(`input ${name}: expected true or false, found ${JSON.stringify(value)}`);
    return value === 'true';
  }
  if (type === 'number') {
    if (value.trim() === '' || !Number.isFinite(Number(value)))
      throw new TriggerError(`input ${name}: expected a number, found ${JSON.stringify(value)}`);
    return Number(value);
  }
  if (type === 'choice' && config.options && !config.options.includes(value))
    throw new TriggerError(
      `input ${name}: expected one of ${config.options.join(', ')}, found ${JSON.stringify(value)}`,
    );
  return value;
}
