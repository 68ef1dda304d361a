// How an action shows a stage's outcome (src/pipeline/report.ts): the report as the job summary, and a failed
// verdict, or any error, as the step's one error: "<action> failed: <message>". Everything shown is redacted.
import * as core from '@actions/core';
import type { Cell, ReportBlock, ReportTable, StageOutcome, Verdict } from '../pipeline/report.ts';
import { formatNumber } from '../util/format.ts';
import { errorMessage } from '../util/log.ts';
import { redact, registerSecret } from '../util/secrets.ts';
import { markdownTable } from '../util/table.ts';

const masked = new Set<string>();

/** Masks a secret in the runner's log (once), and registers it so that summaries, errors and manifests redact it. */
export function maskSecret(value: string | undefined): void {
  if (!value || masked.has(value)) return;
  masked.add(value);
  core.setSecret(value);
  registerSecret(value);
}

/** Runs an action's body: a failed verdict or an error fails the step with one message. */
export async function runAction(name: string, body: () => Promise<Verdict>): Promise<void> {
  try {
    const verdict = await body();
    if (!verdict.ok) core.setFailed(`${name} failed: ${verdict.message}`);
  } catch (e) {
    core.setFailed(`${name} failed: ${errorMessage(e)}`);
  }
}

export interface SummaryOptions {
  /** Markdown tables instead of HTML ones (compact for a long listing of objects). */
  markdown?: boolean;
}

export async function writeJobSummary(
  outcome: StageOutcome<unknown>,
  options: SummaryOptions = {},
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return; // not on a runner
  const { report, verdict } = outcome;
  core.summary.addHeading(redact(report.title), 2);
  for (const block of report.blocks) addBlock(block, options);
  if (!verdict.ok) core.summary.addRaw(sentence(`failed: ${verdict.message}`), true);
  await core.summary.write();
}

function addBlock(block: ReportBlock, options: SummaryOptions): void {
  switch (block.kind) {
    case 'note':
      core.summary.addRaw(sentence(block.text), true);
      break;
    case 'link':
      core.summary.addLink(redact(block.text), redact(block.url));
      break;
    case 'table':
      addTable(block, options);
  }
  // A blank line ends the block: text right after a Markdown table would be read as one of its rows.
  core.summary.addEOL();
}

function addTable(block: ReportTable, options: SummaryOptions): void {
  if (block.caption) core.summary.addRaw(redact(block.caption), true).addEOL();
  if (block.rows.length === 0) {
    if (block.empty) core.summary.addRaw(redact(block.empty), true);
    return;
  }
  if (options.markdown) {
    const rows = block.rows.map((row) => Object.fromEntries(block.columns.map((c, i) => [c, row[i]])));
    core.summary.addRaw(redact(markdownTable(rows, block.columns)), true);
  } else {
    const header = block.columns.map((data) => ({ data: htmlCell(data), header: true }));
    core.summary.addTable([header, ...block.rows.map((row) => row.map(htmlCell))]);
  }
  if (block.omitted)
    core.summary.addRaw(`\n…and ${formatNumber(block.omitted)} more; see the manifest.`, true);
}

/** Redacted, HTML-escaped (messages may hold < and &), never empty (an empty cell breaks the table). */
function htmlCell(value: Cell): string {
  const text = typeof value === 'number' ? formatNumber(value) : value;
  const escaped = redact(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return escaped || '–';
}

/** A report line as a sentence: capitalised, with a full stop. */
function sentence(text: string): string {
  const shown = redact(text);
  const capitalised = shown.charAt(0).toUpperCase() + shown.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}
