// The rules as points: confidence across, lift up, coloured by support; zoomed by scrolling on the plot. The
// server sends at most a few thousand points, those with the highest lift, and says when there are more.
import type { RulesScatter } from '../../../types.ts';
import { axisStyle, chart } from '../../charts.ts';
import { escapeHtml, fmtInt, fmtNum, fmtPct, h } from '../../dom.ts';

export interface ScatterView {
  chart: HTMLElement;
  note: HTMLElement;
}

export function scatterView(): ScatterView {
  const note = h('p', { class: 'muted small' });
  note.title = 'Scroll on the plot to zoom';
  return { chart: h('div', { class: 'chart tall', 'data-testid': 'rules-scatter' }), note };
}

// A point's data: [confidence, lift, support, antecedents, consequents].
type Point = [number, number, number, string, string];

function tooltip(p: { data: Point }): string {
  const [confidence, lift, support, a, b] = p.data;
  return `<b>${escapeHtml(a)}</b> → <b>${escapeHtml(b)}</b><br/>confidence ${fmtPct(confidence)} · lift ${fmtNum(lift)} · support ${fmtPct(support, 2)}`;
}

export function drawScatter(view: ScatterView, s: RulesScatter): void {
  view.note.textContent = s.truncated
    ? `Showing the ${fmtInt(s.points.length)} rules with the highest lift of ${fmtInt(s.total)}.`
    : `${fmtInt(s.total)} rules.`;
  const supports = s.points.map((p) => p.support ?? 0);
  chart(view.chart, {
    grid: { left: 56, right: 96, top: 24, bottom: 48, containLabel: true },
    xAxis: {
      type: 'value',
      name: 'Confidence',
      nameLocation: 'middle',
      nameGap: 30,
      min: 0,
      // Up to the next tenth above the highest confidence: rules rarely reach 1.
      max: (extent: { max: number }) => Math.min(1, Math.ceil(extent.max * 10 + 1e-9) / 10 || 1),
      ...axisStyle,
    },
    yAxis: { type: 'value', name: 'Lift', nameLocation: 'middle', nameGap: 40, scale: true, ...axisStyle },
    // Scroll or pinch on the plot to zoom.
    dataZoom: [
      { type: 'inside', xAxisIndex: 0, filterMode: 'none' },
      { type: 'inside', yAxisIndex: 0, filterMode: 'none' },
    ],
    visualMap: {
      type: 'continuous',
      dimension: 2,
      min: Math.min(...supports, 0),
      max: Math.max(...supports, 0.0001),
      right: 0,
      top: 'middle',
      text: ['support', ''],
      calculable: false,
      inRange: { color: ['#c7d2fe', '#6366f1', '#312e81'] },
      formatter: (v: number) => fmtPct(v, 2),
    },
    tooltip: { trigger: 'item', formatter: tooltip },
    series: [
      {
        type: 'scatter',
        symbolSize: 9,
        itemStyle: { opacity: 0.85 },
        data: s.points.map((p) => [p.confidence, p.lift, p.support, p.antecedents, p.consequents]),
      },
    ],
  });
}
