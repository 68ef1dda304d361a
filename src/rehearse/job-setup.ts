// What the runner sets up before a job's first step: a fresh workspace and temporary folder (nothing of another
// job's), the event file, the job token's permissions, the job's env, runs-on, concurrency, timeout-minutes and
// its service containers. No Docker runs here: a PostgreSQL or MariaDB/MySQL service container is the machine's
// own server on the same port; any other image fails the job's set-up, naming it.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isMapping, isString } from '@actions/workflow-parser';
import type { MappingToken, TemplateToken } from '@actions/workflow-parser/templates/tokens/index';
import type { JobPlace } from './contexts.ts';
import { evaluateMapping, evaluateToken, type Json, type Scope } from './expressions.ts';
import type { RunContext } from './types.ts';
import { child, type WorkflowJob } from './workflow.ts';

export function jobPlace(run: RunContext, job: WorkflowJob): JobPlace {
  const base = path.join(run.runDir, 'jobs', job.id);
  fs.rmSync(base, { recursive: true, force: true });
  const repo = run.repository.split('/')[1] ?? 'repo';
  const place = {
    jobId: job.id,
    workspace: path.join(base, 'work', repo, repo),
    temp: path.join(base, 'temp'),
    toolCache: path.join(base, 'tool-cache'),
    eventPath: path.join(base, 'temp', '_github_workflow', 'event.json'),
    token: '',
  };
  for (const dir of [place.workspace, place.temp, place.toolCache, path.dirname(place.eventPath)])
    fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(place.eventPath, JSON.stringify(run.eventPayload, null, 2));
  return place;
}

const SCOPES = [
  'actions',
  'attestations',
  'checks',
  'contents',
  'deployments',
  'discussions',
  'id-token',
  'issues',
  'models',
  'packages',
  'pages',
  'pull-requests',
  'security-events',
  'statuses',
];

/** The job token's permissions: the job's, else the workflow's, else GitHub's restricted default. */
export function jobPermissions(run: RunContext, job: { raw: MappingToken }): Record<string, string> {
  const token = child(job.raw, 'permissions') ?? child(run.workflow.root, 'permissions');
  if (!token) return { contents: 'read', packages: 'read', metadata: 'read' };
  if (isString(token)) {
    const level = token.value === 'write-all' ? 'write' : token.value === 'read-all' ? 'read' : 'none';
    return Object.fromEntries(SCOPES.map((s) => [s, s === 'id-token' && level === 'read' ? 'none' : level]));
  }
  const given: Record<string, string> = {};
  if (isMapping(token)) for (const { key, value } of token) given[String(key)] = String(value);
  return { metadata: 'read', ...given };
}

/** The workflow's env, then the job's over it (each may use the contexts GitHub allows there). */
export function jobEnvironment(run: RunContext, job: WorkflowJob, scope: Scope): Record<string, string> {
  const workflowEnv = evaluateMapping(run.workflow.template.env, scope, 'env');
  const jobScope = { ...scope, contexts: { ...scope.contexts, env: workflowEnv } };
  return { ...workflowEnv, ...evaluateMapping(job.model.env, jobScope, `jobs.${job.id}.env`) };
}

export function jobTimeoutMinutes(job: WorkflowJob, scope: Scope): number {
  const token = child(job.raw, 'timeout-minutes');
  if (!token) return 360;
  const minutes = Number(evaluateToken(token, scope));
  if (!Number.isFinite(minutes) || minutes <= 0)
    throw new Error(`jobs.${job.id}.timeout-minutes: expected a positive number of minutes`);
  return minutes;
}

export function jobContinueOnError(job: WorkflowJob, scope: Scope): boolean {
  const token = child(job.raw, 'continue-on-error');
  return token ? evaluateToken(token, scope) === true : false;
}

/** runs-on as a label list, for the report (every job runs on this machine). */
export function runsOn(job: WorkflowJob, scope: Scope): string {
  const token = job.model['runs-on'];
  if (!token) return '';
  const value = evaluateToken(token, scope);
  return Array.isArray(value)
    ? value.join(', ')
    : typeof value === 'object' && value
      ? JSON.stringify(value)
      : String(value);
}

/** concurrency (the workflow's and the job's), read and reported: one rehearsal runs at a time anyway. */
export function concurrencyText(token: TemplateToken | undefined, scope: Scope): string | undefined {
  if (!token) return undefined;
  const value = evaluateToken(token, scope);
  if (typeof value === 'string') return `group ${value}`;
  if (value && typeof value === 'object' && !Array.isArray(value))
    return `group ${String(value.group)}${value['cancel-in-progress'] === true ? ', cancel-in-progress' : ''}`;
  return String(value);
}

const LOCAL_SERVICES: { image: RegExp; port: number; what: string }[] = [
  { image: /^postgres(:|$)/, port: 5432, what: 'the local PostgreSQL' },
  { image: /^(mariadb|mysql)(:|$)/, port: 3306, what: 'the local MariaDB' },
];

/** job.services: each service container mapped to the machine's own server, or an error naming the image. */
export async function jobServices(
  job: WorkflowJob,
  scope: Scope,
  notes: string[],
): Promise<Record<string, Json>> {
  const token = job.model.services;
  if (!token) return {};
  const services = evaluateToken(token, scope) as Record<string, { image?: string; ports?: Json[] }>;
  const result: Record<string, Json> = {};
  for (const [name, service] of Object.entries(services)) {
    const image = String(service.image ?? '');
    const local = LOCAL_SERVICES.find((s) => s.image.test(image));
    if (!local)
      throw new Error(
        `Initialize containers: service ${name} (image ${image}) has no stand-in: no Docker runs here, only PostgreSQL (5432) and MariaDB (3306) stand in for service containers`,
      );
    const ports = (service.ports ?? []).map(String);
    if (ports.some((p) => p.split(':')[0] !== String(local.port)))
      throw new Error(
        `service ${name}: ports ${ports.join(', ')}: ${local.what} listens on ${local.port} only`,
      );
    if (!(await reachable(local.port)))
      throw new Error(`service ${name} (image ${image}): nothing listens on 127.0.0.1:${local.port}`);
    notes.push(`service ${name} (${image}) is ${local.what} on 127.0.0.1:${local.port}`);
    result[name] = {
      id: `standin-${name}`,
      network: 'host',
      ports: { [String(local.port)]: String(local.port) },
    };
  }
  return result;
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
