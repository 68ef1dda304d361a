// How the `lakehouse` command shows a stage's outcome: its report as text under "<stage> summary", and a failed
// verdict as the command's error. Listings the log already showed line by line (itemized tables) are left out.
import type { ReportBlock, StageOutcome, StageReport } from '../pipeline/report.ts';
import type { Logger } from '../util/log.ts';
import { formatNumber } from '../util/format.ts';
import { textTable } from '../util/table.ts';

export class StageFailedError extends Error {
  override name = 'StageFailedError';
}

/** Prints the report; a failed verdict ends the command (exit 1) with its message. */
export function finish<R>(outcome: StageOutcome<R>, log: Logger): R | undefined {
  const text = reportText(outcome.report);
  if (text) log.info(text);
  if (!outcome.verdict.ok) throw new StageFailedError(outcome.verdict.message);
  return outcome.result;
}

export function reportText(report: StageReport): string | undefined {
  const blocks = report.blocks.filter((b) => !(b.kind === 'table' && b.itemized));
  if (blocks.length === 0) return undefined;
  const heading = `\n${report.stage} summary${report.dryRun ? ' (dry run: nothing written)' : ''}`;
  return [heading, ...blocks.map(blockText)].join('\n');
}

function blockText(block: ReportBlock): string {
  switch (block.kind) {
    case 'note':
      return block.text;
    case 'link':
      return `${block.text}: ${block.url}`;
    case 'table': {
      const caption = block.caption ? `\n${block.caption}\n` : '';
      if (block.rows.length === 0) return `${caption}${block.empty ?? ''}`;
      const rows = block.rows.map((row) => Object.fromEntries(block.columns.map((c, i) => [c, row[i]])));
      const more = block.omitted ? `\n… and ${formatNumber(block.omitted)} more` : '';
      return `${caption}${textTable(rows, block.columns)}${more}`;
    }
  }
}
