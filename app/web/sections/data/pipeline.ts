// The pipeline as the run manifests describe it: the lineage from source objects through the load and the
// notebooks to the Delta tables (a Sankey diagram, and the same as text), and every run with its status,
// duration and counts.
import type { Lineage, PipelineRun, StageRun } from '../../../types.ts';
import { chart } from '../../charts.ts';
import { failedWhere, get } from '../../client.ts';
import { card, clear, escapeHtml, fmtInt, fmtTime, h, loading, table } from '../../dom.ts';

const KIND_COLOURS = { source: '#0ea5e9', sql: '#f59e0b', notebook: '#8b5cf6', table: '#10b981' };

function describe(lineage: Lineage): string {
  const count = (kind: string) => lineage.nodes.filter((n) => n.kind === kind).length;
  return (
    `Lineage diagram: ${count('source')} source object groups loaded into ${count('sql')} SQL store tables, ` +
    `read by ${count('notebook')} notebooks that write ${count('table')} Delta tables. The same links are listed as text below it.`
  );
}

function drawLineage(el: HTMLElement, lineage: Lineage): void {
  const byId = new Map(lineage.nodes.map((n) => [n.id, n]));
  chart(
    el,
    {
      tooltip: {
        trigger: 'item',
        formatter: (p: {
          dataType: string;
          data: { name?: string; source?: string; target?: string; label?: string };
        }) => {
          if (p.dataType === 'edge')
            return `${escapeHtml(byId.get(p.data.source ?? '')?.label)} → ${escapeHtml(byId.get(p.data.target ?? '')?.label)}: ${escapeHtml(p.data.label)}`;
          const node = byId.get(p.data.name ?? '');
          return node ? `<b>${escapeHtml(node.label)}</b><br/>${escapeHtml(node.detail)}` : '';
        },
      },
      series: [
        {
          type: 'sankey',
          left: 8,
          right: 190,
          top: 8,
          bottom: 8,
          nodeAlign: 'justify',
          nodeGap: 14,
          nodeWidth: 12,
          emphasis: { focus: 'adjacency' },
          lineStyle: { color: 'gradient', opacity: 0.35 },
          // Labels sit over the links: a light background keeps them readable.
          label: {
            formatter: (p: { name: string }) => byId.get(p.name)?.label ?? p.name,
            fontSize: 11,
            backgroundColor: 'rgba(255, 255, 255, 0.9)',
            padding: [2, 4],
            borderRadius: 3,
          },
          data: lineage.nodes.map((n) => ({ name: n.id, itemStyle: { color: KIND_COLOURS[n.kind] } })),
          links: lineage.links.map((l) => ({ ...l, value: 1 })),
        },
      ],
    },
    describe(lineage),
  );
}

function lineageText(lineage: Lineage): HTMLElement {
  const label = (id: string) => lineage.nodes.find((n) => n.id === id)?.label ?? id;
  return h(
    'details',
    { class: 'lineage-text' },
    h('summary', {}, 'The lineage as text'),
    h(
      'ul',
      { 'data-testid': 'lineage-links' },
      lineage.links.map((l) => h('li', {}, `${label(l.source)} → ${label(l.target)} (${l.label})`)),
    ),
  );
}

function stageText(stage: StageRun | undefined): string {
  if (!stage) return '–';
  const c = stage.counts;
  if (stage.stage === 'ingest')
    return `${fmtInt(c.uploaded)} uploaded, ${fmtInt(c.skipped)} unchanged${c.failed ? `, ${fmtInt(c.failed)} failed` : ''}`;
  if (stage.stage === 'load')
    return `${fmtInt(c.rowsLoaded)} rows loaded, ${fmtInt(c.rowsQuarantined)} quarantined${c.failed ? `, ${fmtInt(c.failed)} objects failed` : ''}`;
  if (stage.failure)
    return `failed at ${failedWhere(stage.failure)}: ${stage.failure.message} (${fmtInt(c.tables)} tables written first)`;
  return `${fmtInt(c.notebooks)} notebooks, ${fmtInt(c.tables)} table versions`;
}

function seconds(s: number): string {
  return s < 90 ? `${s.toFixed(1)} s` : `${Math.round(s / 60)} min`;
}

function runTable(runs: PipelineRun[]): HTMLElement {
  const stage = (run: PipelineRun, name: string) => stageText(run.stages.find((s) => s.stage === name));
  return table(
    ['Run', 'Status', 'Started', 'Duration', 'Ingest', 'Load', 'Transform'],
    runs.map((r) => [
      r.runId,
      h('span', { class: `status ${r.status}` }, r.status),
      fmtTime(r.startedAt),
      seconds(r.seconds),
      stage(r, 'ingest'),
      stage(r, 'load'),
      stage(r, 'transform'),
    ]),
    { numeric: [false, false, false, true, false, false, false], testid: 'run-history' },
  );
}

export async function showPipeline(detail: HTMLElement): Promise<void> {
  clear(detail, loading());
  const [lineage, runs] = await Promise.all([get<Lineage>('/runs/lineage'), get<PipelineRun[]>('/runs')]);
  if (runs.length === 0) {
    clear(
      detail,
      card('Runs and lineage', h('p', { class: 'muted' }, 'No run manifest is available to this app.')),
    );
    return;
  }
  const chartEl = h('div', { class: 'chart lineage', 'data-testid': 'lineage' });
  clear(
    detail,
    card(
      'Lineage',
      h(
        'p',
        { class: 'muted small' },
        'Source objects → the SQL store table they were loaded into → the notebooks → the Delta tables they write.',
      ),
      h('div', { class: 'chart-scroll' }, chartEl),
      lineageText(lineage),
    ),
    card(`Runs (${fmtInt(runs.length)})`, runTable(runs)),
  );
  drawLineage(chartEl, lineage);
}
