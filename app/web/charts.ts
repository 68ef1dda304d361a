// ECharts with only the parts the app uses (keeps the bundle small), one palette, and resizing with the window.
import * as echarts from 'echarts/core';
import { BarChart, LineChart, ScatterChart } from 'echarts/charts';
import {
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
  ScatterChart,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export const palette = ['#4f46e5', '#0ea5e9', '#10b981', '#f59e0b', '#ef4444', '#8b5cf6', '#14b8a6'];

const base: EChartsCoreOption = {
  color: palette,
  textStyle: {
    fontFamily: 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    color: '#334155',
  },
  grid: { left: 56, right: 24, top: 36, bottom: 40, containLabel: true },
  tooltip: { backgroundColor: '#ffffff', borderColor: '#e2e8f0', textStyle: { color: '#0f172a' } },
  animationDuration: 300,
};

const charts = new Set<echarts.ECharts>();

/** Draws `option` in `el` (reusing the chart already there). */
export function chart(el: HTMLElement, option: EChartsCoreOption): echarts.ECharts {
  const existing = echarts.getInstanceByDom(el);
  const instance = existing ?? echarts.init(el, undefined, { renderer: 'canvas' });
  if (!existing) charts.add(instance);
  instance.setOption({ ...base, ...option }, { notMerge: true });
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
  axisLabel: { color: '#64748b' },
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
