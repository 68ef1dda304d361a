// The rules as points: confidence across, lift up on a log scale (most rules sit between 1 and 5, a few reach
// 100), coloured by support on a scale whose ends are labelled with their values; zoomed by scrolling on the
// plot. The server sends at most a few thousand points, those with the highest lift, and says when there are
// more. A text alternative says what the plot shows.
import type { RulePoint, RulesScatter } from '../../../types.ts';
import { axisStyle, chart, spanOf } from '../../charts.ts';
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

const rule = (p: RulePoint) => `${p.antecedents.join(', ')} → ${p.consequents.join(', ')}`;

function describe(s: RulesScatter): string {
  if (s.points.length === 0) return 'Scatter of rules: no rule passes the filters.';
  const strongest = s.points[0] as RulePoint;
  return (
    `Scatter of ${fmtInt(s.points.length)} rules${s.truncated ? ` (the highest lift of ${fmtInt(s.total)})` : ''}: ` +
    `confidence ${spanOf(
      s.points.map((p) => p.confidence),
      (n) => fmtPct(n),
    )}, ` +
    `lift ${spanOf(
      s.points.map((p) => p.lift),
      (n) => fmtNum(n, 2),
    )} on a log scale, ` +
    `support ${spanOf(
      s.points.map((p) => p.support),
      (n) => fmtPct(n, 2),
    )} as colour. ` +
    `The highest lift: ${rule(strongest)} (${fmtNum(strongest.lift, 2)}).`
  );
}

/** Support as colour: a bar under the plot, labelled with the values at its ends (fits any width). */
function colourScale(supports: number[]) {
  const min = Math.min(...supports);
  const max = Math.max(...supports, min + 1e-6);
  return {
    type: 'continuous',
    dimension: 2,
    min,
    max,
    orient: 'horizontal',
    left: 'center',
    bottom: 0,
    itemWidth: 12,
    itemHeight: 140,
    calculable: false,
    // Horizontal: the first text is at the high end (right), the second at the low end (left).
    text: [fmtPct(max, 2), `Support  ${fmtPct(min, 2)}`],
    textGap: 8,
    textStyle: { fontSize: 11, color: '#475569' },
    inRange: { color: ['#c7d2fe', '#6366f1', '#312e81'] },
  };
}

export function drawScatter(view: ScatterView, s: RulesScatter): void {
  view.note.textContent =
    (s.truncated
      ? `Showing the ${fmtInt(s.points.length)} rules with the highest lift of ${fmtInt(s.total)}.`
      : `${fmtInt(s.total)} rules.`) + ' Colour: support (scale under the plot).';
  const points = s.points.filter((p) => (p.lift ?? 0) > 0);
  const supports = points.map((p) => p.support ?? 0);
  chart(
    view.chart,
    {
      grid: { left: 48, right: 24, top: 32, bottom: 72 },
      xAxis: {
        type: 'value',
        name: 'Confidence',
        nameLocation: 'middle',
        nameGap: 28,
        min: 0,
        // Up to the next tenth above the highest confidence: rules rarely reach 1.
        max: (extent: { max: number }) => Math.min(1, Math.ceil(extent.max * 10 + 1e-9) / 10 || 1),
        ...axisStyle,
        axisLabel: { ...axisStyle.axisLabel, formatter: (v: number) => fmtPct(v, 0) },
      },
      yAxis: { type: 'log', logBase: 10, name: 'Lift (log scale)', nameLocation: 'end', ...axisStyle },
      dataZoom: [
        { type: 'inside', xAxisIndex: 0, filterMode: 'none' },
        { type: 'inside', yAxisIndex: 0, filterMode: 'none' },
      ],
      visualMap: supports.length ? colourScale(supports) : undefined,
      tooltip: { trigger: 'item', formatter: tooltip },
      series: [
        {
          type: 'scatter',
          symbolSize: 9,
          itemStyle: { opacity: 0.85 },
          data: points.map((p) => [
            p.confidence,
            p.lift,
            p.support,
            p.antecedents.join(', '),
            p.consequents.join(', '),
          ]),
        },
      ],
    },
    describe(s),
  );
}
