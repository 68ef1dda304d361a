// Reads a workflow file with GitHub's own parser (@actions/workflow-parser): parseWorkflow validates it against
// GitHub's schema (every expression included), convertWorkflowTemplate gives the jobs, needs, steps and their
// `if` conditions with the implicit success() already added. The converted model leaves out what the service
// hands to the runner untouched (a step's `with`, `timeout-minutes`, `working-directory`, `shell`; a job's
// `timeout-minutes`, `continue-on-error`, `permissions`, `defaults`), so those are read from the same validated
// token tree. A job that calls a reusable workflow (`uses: ./.github/workflows/x.yml`, or
// `<owner>/<repo>/.github/workflows/x.yml@ref`) is given to the converter's own loading of referenced workflows
// (a FileProvider, fetch depth 1): it reads the called file's `on.workflow_call` inputs, secrets and outputs and
// checks the caller's `with:` and `secrets:` against them; the called file is then read as a workflow of its own.
// A local reference is the caller's file; a remote one is this repository's file at that path (the rehearsal has
// no other repository), which the rehearsal says.
import fs from 'node:fs';
import path from 'node:path';
import {
  convertWorkflowTemplate,
  isBasicExpression,
  isMapping,
  isSequence,
  NoOperationTraceWriter,
  parseWorkflow,
  type WorkflowTemplate,
} from '@actions/workflow-parser';
import { ErrorPolicy } from '@actions/workflow-parser/model/convert';
import { isJob } from '@actions/workflow-parser/model/type-guards';
import type { Job, ReusableWorkflowJob, Step } from '@actions/workflow-parser/model/workflow-template';
import { fileIdentifier, type FileReference } from '@actions/workflow-parser/workflows/file-reference';
import type { MappingToken, TemplateToken } from '@actions/workflow-parser/templates/tokens/index';

/** A mistake in the workflow file, placed in the job and step it belongs to. */
export class WorkflowError extends Error {
  readonly job?: string;
  readonly step?: string;
  constructor(message: string, job?: string, step?: string) {
    super(message);
    this.job = job;
    this.step = step;
  }
}

export interface WorkflowStep {
  /** The step as the converter gives it: id (given or generated), name, if, env, uses or run. */
  model: Step;
  /** The step's mapping in the validated token tree (with, timeout-minutes, shell, working-directory). */
  raw: MappingToken;
  /** How the report names it: its name, else `uses`, else `run`'s first line. */
  label: string;
}

export interface WorkflowJob {
  id: string;
  model: Job;
  raw: MappingToken;
  steps: WorkflowStep[];
}

/** A job that calls a reusable workflow: the converter's model of the call, and the called workflow. */
export interface CallerJob {
  id: string;
  model: ReusableWorkflowJob;
  raw: MappingToken;
  called: Workflow;
  source: CalledSource;
}

/** Where a called workflow's file is read from. */
export interface CalledSource {
  /** The job's `uses:`. */
  ref: string;
  file: string;
  /** The repository folder the file is in. */
  root: string;
  /** owner/name of a remote reference, which the rehearsal maps onto `root`. */
  repository?: string;
}

export type AnyJob = WorkflowJob | CallerJob;

export const isCallerJob = (job: AnyJob): job is CallerJob => 'called' in job;

export interface Workflow {
  file: string;
  name: string;
  template: WorkflowTemplate;
  root: MappingToken;
  jobs: AnyJob[];
}

export interface ReadOptions {
  /** The repository a remote `<owner>/<repo>/.github/workflows/x.yml@ref` is read from (this one). */
  calledRoot: string;
}

export async function readWorkflow(
  file: string,
  root: string,
  options: ReadOptions = { calledRoot: root },
): Promise<Workflow> {
  const name = path.relative(root, file);
  const content = fs.readFileSync(file, 'utf8');
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors();
  if (!parsed.value) throw new WorkflowError(errors[0]?.message ?? `${name}: not a workflow`);
  const tree = parsed.value as MappingToken;
  const sources = new Map<string, CalledSource>();
  const fileProvider = {
    getFileContent: (ref: FileReference) => {
      const source = calledSource(ref, root, options);
      sources.set(source.ref, source);
      return Promise.resolve({
        name: path.relative(source.root, source.file),
        content: fs.readFileSync(source.file, 'utf8'),
      });
    },
  };
  const template = await convertWorkflowTemplate(parsed.context, tree, fileProvider, {
    errorPolicy: ErrorPolicy.TryConversion,
    fetchReusableWorkflowDepth: 1,
  });
  // The converter adds its own errors (a call's inputs and secrets against the called workflow's) to the context.
  const converted = parsed.context.errors.getErrors();
  const first = converted[0] ?? template.errors?.[0];
  if (first) {
    const line = converted[0]?.range?.start.line;
    const where = line === undefined ? {} : locate(template, line);
    throw new WorkflowError('Message' in first ? first.Message : first.message, where.job, where.step);
  }
  const jobsToken = child(tree, 'jobs');
  const jobs: AnyJob[] = [];
  for (const job of template.jobs) {
    const raw = child(jobsToken, job.id.value);
    if (isJob(job)) {
      jobs.push(describeJob(job, raw));
      continue;
    }
    const source = sources.get(job.ref.value);
    if (!source) throw new WorkflowError(`Unable to find reusable workflow ${job.ref.value}`, job.id.value);
    let called: Workflow;
    try {
      called = await readWorkflow(source.file, source.root, options);
    } catch (e) {
      if (!(e instanceof WorkflowError)) throw e;
      throw new WorkflowError(`${job.ref.value}: ${e.message}`, job.id.value, e.step);
    }
    jobs.push({ id: job.id.value, model: job, raw, called, source });
  }
  const workflowName = child(tree, 'name');
  return {
    file: name,
    name: workflowName ? String(workflowName) : name,
    template,
    root: tree,
    jobs,
  };
}

/** A local reference is the caller's own file; a remote one is this repository's file at that path. */
function calledSource(ref: FileReference, root: string, options: ReadOptions): CalledSource {
  const id = fileIdentifier(ref);
  if (!('repository' in ref)) return { ref: id, file: path.join(root, ref.path), root };
  return {
    ref: id,
    file: path.join(options.calledRoot, ref.path),
    root: options.calledRoot,
    repository: `${ref.owner}/${ref.repository}`,
  };
}

function describeJob(model: Job, raw: MappingToken): WorkflowJob {
  const stepsToken = raw.find('steps');
  const rawSteps = stepsToken && isSequence(stepsToken) ? [...stepsToken] : [];
  const steps = model.steps.map((step, i) => {
    const stepToken = rawSteps[i];
    if (!stepToken || !isMapping(stepToken))
      throw new WorkflowError(`step ${i + 1}: expected a mapping`, model.id.value);
    return { model: step, raw: stepToken, label: stepLabel(step) };
  });
  return { id: model.id.value, model, raw, steps };
}

function stepLabel(step: Step): string {
  if (step.name) return String(step.name);
  if ('uses' in step) return step.uses.value;
  if ('run' in step) {
    const run = isBasicExpression(step.run) ? (step.run.source ?? step.run.expression) : String(step.run);
    return `Run ${run.trim().split('\n')[0]}`;
  }
  return step.id;
}

/** A key of a mapping token, or undefined. */
export function child(token: MappingToken, key: string): MappingToken;
export function child(token: MappingToken | undefined, key: string): TemplateToken | undefined;
export function child(token: MappingToken | undefined, key: string): TemplateToken | undefined {
  return token?.find(key);
}

/** The job and step that hold a line of the file: the last job (and step of it) that starts at or before it. */
function locate(template: WorkflowTemplate, line: number): { job?: string; step?: string } {
  const starts = (t: { range?: { start: { line: number } } } | undefined) => t?.range?.start.line ?? Infinity;
  const job = template.jobs.filter((j) => starts(j.id) <= line).at(-1);
  if (!job || !isJob(job)) return { job: job?.id.value };
  const step = job.steps
    .filter((s) => {
      const token = 'uses' in s ? s.uses : 'run' in s ? s.run : s.name;
      return Math.min(starts(s.name), starts(token as TemplateToken | undefined)) <= line;
    })
    .at(-1);
  return { job: job.id.value, step: step ? stepLabel(step) : undefined };
}
