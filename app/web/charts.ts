// ECharts with only the parts the app uses (keeps the bundle small), one palette, resizing with the window, and
// a text alternative for every chart (ECharts' aria: the container gets an aria-label that says what it shows).
import * as echarts from 'echarts/core';
import { BarChart, LineChart, SankeyChart, ScatterChart } from 'echarts/charts';
import {
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { EChartsCoreOption } from 'echarts/core';

echarts.use([
  BarChart,
  LineChart,
  SankeyChart,
  ScatterChart,
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export const palette = ['#4f46e5', '#0ea5e9', '#10b981', '#f59e0b', '#ef4444', '#8b5cf6', '#14b8a6'];

// The grid's margins are where the axis lines go; ECharts 6 then keeps labels and axis names inside the chart
// (its default outer bounds), moving names clear of the labels, so nothing overlaps at any width.
const base: EChartsCoreOption = {
  color: palette,
  textStyle: {
    fontFamily: 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    color: '#334155',
  },
  grid: { left: 48, right: 16, top: 32, bottom: 32 },
  tooltip: { backgroundColor: '#ffffff', borderColor: '#e2e8f0', textStyle: { color: '#0f172a' } },
  animationDuration: 300,
};

const charts = new Set<echarts.ECharts>();

/** Draws `option` in `el` (reusing the chart already there); `description` is what a screen reader says. */
export function chart(el: HTMLElement, option: EChartsCoreOption, description: string): echarts.ECharts {
  const existing = echarts.getInstanceByDom(el);
  const instance = existing ?? echarts.init(el, undefined, { renderer: 'canvas' });
  if (!existing) charts.add(instance);
  const aria = { enabled: true, label: { enabled: true, description } };
  instance.setOption({ ...base, ...option, aria }, { notMerge: true });
  el.dataset.description = description;
  return instance;
}

/** Charts drawn while their section was hidden have no size: resize when it shows, and with the window. */
export function resizeCharts(): void {
  for (const c of charts) if (!c.isDisposed()) c.resize();
}

window.addEventListener('resize', () => resizeCharts());

export const axisStyle = {
  axisLine: { lineStyle: { color: '#cbd5e1' } },
  splitLine: { lineStyle: { color: '#eef2f7' } },
  // Labels that would overlap are left out rather than drawn over each other (narrow screens).
  axisLabel: { color: '#64748b', hideOverlap: true },
};

/** A tooltip for the point under the pointer, written from the row the point was drawn from. */
export function rowTooltip<T>(rows: readonly T[], show: (row: T) => string) {
  return {
    trigger: 'item',
    formatter: (p: { dataIndex: number }) => {
      const row = rows[p.dataIndex];
      return row === undefined ? '' : show(row);
    },
  };
}

/** A category axis with its name in the middle below it. */
export function namedCategoryAxis(name: string, data: string[]) {
  return { type: 'category', data, name, nameLocation: 'middle', nameGap: 28, ...axisStyle };
}

/** "from a to b" of the numbers, for descriptions. */
export function spanOf(values: (number | null)[], show: (n: number) => string): string {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return 'no values';
  return `from ${show(Math.min(...known))} to ${show(Math.max(...known))}`;
}
