// The rehearsal as text: what ran and on what, the job and step tree with states and durations, each step's
// summary, the artifacts, the Delta tables the Databricks stand-in wrote, and the first failure.
import fs from 'node:fs';
import path from 'node:path';
import type { Rehearsal } from './rehearse.ts';
import type { JobReport, State, StepReport } from './types.ts';

const MARK: Record<State, string> = { success: '✓', failure: '✗', skipped: '-', cancelled: '⊘' };

export function formatRehearsal(r: Rehearsal): string {
  const lines = [`lakehouse rehearse ${r.workflow} (${r.event} on ${r.branch})`];
  if (r.commit)
    lines.push(
      `commit ${r.commit.sha.slice(0, 12)}: ${r.commit.source === 'HEAD' ? 'HEAD' : 'a temporary commit of the working tree (HEAD plus its changes)'}; each job clones it into a fresh workspace`,
    );
  if (r.trigger) lines.push(`trigger: ${r.trigger}`);
  if (r.concurrency)
    lines.push(
      `concurrency: ${r.concurrency} (one rehearsal runs at a time; jobs run one after another in needs order)`,
    );
  if (r.notes.length) lines.push('stand-ins:', ...r.notes.map((n) => `  ${n}`));
  if (r.jobs.length) lines.push('', 'jobs:');
  for (const job of r.jobs) lines.push(...formatJob(job));
  if (r.artifacts.length) {
    lines.push('', 'artifacts:');
    for (const a of r.artifacts)
      lines.push(`  ${a.name} (from ${a.job}, ${a.bytes} bytes): ${a.files.join(', ')}`);
  }
  const tables = deltaTables(r.deltaRoot);
  if (tables.length) lines.push('', `Delta tables in ${r.deltaRoot}:`, `  ${tables.join(', ')}`);
  lines.push('', `result: ${r.state}${r.firstFailure ? ` — ${describeFailure(r.firstFailure)}` : ''}`);
  if (r.runDir) lines.push(`run folder (logs, artifacts, Delta tables): ${r.runDir}`);
  return lines.join('\n');
}

export function describeFailure(f: { job?: string; step?: string; reason: string }): string {
  const where = [f.job && `job ${f.job}`, f.step && `step "${f.step}"`].filter(Boolean).join(', ');
  return `${where ? `${where}: ` : ''}${f.reason}`;
}

function formatJob(job: JobReport): string[] {
  const head = `${MARK[job.state]} ${job.id}${job.name !== job.id ? ` (${job.name})` : ''}  ${job.state}  ${seconds(job.ms)}`;
  const lines = [head + (job.runsOn ? `  runs-on ${job.runsOn}` : '')];
  if (job.reason) lines.push(`    ${job.reason}`);
  if (job.concurrency) lines.push(`    concurrency: ${job.concurrency}`);
  for (const note of job.notes) lines.push(`    ${note}`);
  for (const [name, value] of Object.entries(job.outputs))
    lines.push(`    output ${name} = ${oneLine(value)}`);
  for (const step of job.steps) lines.push(...formatStep(step));
  return lines;
}

function formatStep(step: StepReport): string[] {
  const lines = [
    `    ${MARK[step.state]} ${step.label}  ${step.state}${step.outcome !== step.state ? ` (outcome ${step.outcome}, continue-on-error)` : ''}  ${seconds(step.ms)}`,
  ];
  if (step.reason && step.state !== 'success') lines.push(...indent(step.reason, 8));
  else if (step.reason && step.outcome === 'failure') lines.push(...indent(step.reason, 8));
  for (const a of step.annotations.filter((a) => a.level === 'warning'))
    lines.push(...indent(`warning: ${a.message}`, 8));
  if (step.state === 'failure' && step.logFile) {
    lines.push(`        log (last lines of ${step.logFile}):`);
    lines.push(...tail(step.logFile, 12).map((l) => `          ${l}`));
  }
  if (step.summary.trim()) lines.push('        summary:', ...indent(step.summary.trim(), 10));
  return lines;
}

function tail(file: string, count: number): string[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count);
}

function deltaTables(root: string | undefined): string[] {
  if (!root || !fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .flatMap((schema) =>
      fs.statSync(path.join(root, schema)).isDirectory()
        ? fs.readdirSync(path.join(root, schema)).map((table) => `${schema}.${table}`)
        : [],
    )
    .sort();
}

function indent(text: string, spaces: number): string[] {
  return text.split('\n').map((l) => `${' '.repeat(spaces)}${l}`);
}

function oneLine(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}…` : text.replace(/\n/g, '\\n');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
