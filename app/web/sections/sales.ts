// Sales: items sold per day (zoomable), per month, per year, and each year against the next, month by month,
// with their correlation.
import type { DailySales, MonthlySales, YearCorrelation, YearlySales } from '../../types.ts';
import { axisStyle, chart, palette, spanOf } from '../charts.ts';
import { get } from '../client.ts';
import { card, clear, fmtInt, fmtNum, h } from '../dom.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export async function renderSales(root: HTMLElement): Promise<void> {
  const [daily, monthly, yearly, correlation] = await Promise.all([
    get<DailySales[]>('/sales/daily'),
    get<MonthlySales[]>('/sales/monthly'),
    get<YearlySales[]>('/sales/yearly'),
    get<YearCorrelation[]>('/sales/correlation'),
  ]);
  const dailyEl = h('div', { class: 'chart tall', 'data-testid': 'chart-daily' });
  const monthlyEl = h('div', { class: 'chart', 'data-testid': 'chart-monthly' });
  const yearlyEl = h('div', { class: 'chart', 'data-testid': 'chart-yearly' });
  const compare = yearAgainstYear(monthly, correlation);
  clear(
    root,
    card(
      'Items sold per day',
      h('p', { class: 'muted small' }, 'Drag the slider or scroll on the chart to zoom.'),
      dailyEl,
    ),
    h(
      'div',
      { class: 'grid two' },
      card('Items sold per month', monthlyEl),
      card('Items sold per year', yearlyEl),
    ),
    compare.card,
  );
  drawDaily(dailyEl, daily);
  drawMonthly(monthlyEl, monthly);
  drawYearly(yearlyEl, yearly);
  compare.showLatest();
}

function drawDaily(el: HTMLElement, daily: DailySales[]): void {
  chart(
    el,
    {
      tooltip: { trigger: 'axis' },
      grid: { left: 48, right: 16, top: 32, bottom: 72 },
      xAxis: { type: 'time', ...axisStyle },
      yAxis: { type: 'value', name: 'items', ...axisStyle },
      dataZoom: [{ type: 'inside' }, { type: 'slider', height: 22, bottom: 12 }],
      series: [
        {
          name: 'Items sold',
          type: 'line',
          showSymbol: false,
          lineStyle: { width: 1.5 },
          areaStyle: { opacity: 0.12 },
          data: daily.map((d) => [d.date, d.itemsSold]),
        },
      ],
    },
    `Line chart of items sold per day, ${daily[0]?.date ?? ''} to ${daily.at(-1)?.date ?? ''}: ${spanOf(
      daily.map((d) => d.itemsSold),
      fmtInt,
    )} a day.`,
  );
}

function drawMonthly(el: HTMLElement, monthly: MonthlySales[]): void {
  chart(
    el,
    {
      tooltip: { trigger: 'axis' },
      xAxis: {
        type: 'category',
        data: monthly.map((m) => `${m.year}-${String(m.month).padStart(2, '0')}`),
        ...axisStyle,
      },
      yAxis: { type: 'value', ...axisStyle },
      series: [
        {
          name: 'Items sold',
          type: 'bar',
          data: monthly.map((m) => m.itemsSold),
          itemStyle: { borderRadius: [3, 3, 0, 0] },
        },
      ],
    },
    `Bar chart of items sold per month over ${monthly.length} months: ${spanOf(
      monthly.map((m) => m.itemsSold),
      fmtInt,
    )} a month.`,
  );
}

function drawYearly(el: HTMLElement, yearly: YearlySales[]): void {
  chart(
    el,
    {
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: yearly.map((y) => String(y.year)), ...axisStyle },
      yAxis: { type: 'value', ...axisStyle },
      series: [
        {
          name: 'Items sold',
          type: 'bar',
          barMaxWidth: 64,
          data: yearly.map((y) => y.itemsSold),
          itemStyle: { color: palette[1], borderRadius: [4, 4, 0, 0] },
          label: { show: true, position: 'top', formatter: (p: { value: number }) => fmtInt(p.value) },
        },
      ],
    },
    `Bar chart of items sold per year: ${yearly.map((y) => `${y.year}: ${fmtInt(y.itemsSold)}`).join(', ')}.`,
  );
}

/**
 * One year's monthly sales against the next year's, the pair picked from a list. The chart is drawn by
 * showLatest(), once the card is on the page (a chart needs its element's size).
 */
function yearAgainstYear(
  monthly: MonthlySales[],
  correlation: YearCorrelation[],
): { card: HTMLElement; showLatest: () => void } {
  const pairs = correlation.filter((c) => c.year !== null && c.nextYear !== null);
  const compareEl = h('div', { class: 'chart', 'data-testid': 'chart-compare' });
  const correlationText = h('p', { class: 'stat', 'data-testid': 'correlation' });
  const draw = (index: number) => drawYearAgainstYear(compareEl, correlationText, monthly, pairs[index]);
  const pairSelect = h(
    'select',
    {
      'aria-label': 'Years to compare',
      onChange: (e: Event) => draw(Number((e.target as HTMLSelectElement).value)),
    },
    pairs.map((p, i) =>
      h('option', { value: i, selected: i === pairs.length - 1 }, `${p.year} against ${p.nextYear}`),
    ),
  );
  return {
    card: card(
      'One year against the next, month by month',
      h('div', { class: 'row' }, pairs.length > 1 ? pairSelect : null, correlationText),
      compareEl,
    ),
    showLatest: () => draw(pairs.length - 1),
  };
}

function drawYearAgainstYear(
  el: HTMLElement,
  text: HTMLElement,
  monthly: MonthlySales[],
  pair: YearCorrelation | undefined,
): void {
  if (!pair) {
    text.textContent = 'The data covers fewer than two years.';
    return;
  }
  const of = (year: number | null) =>
    MONTHS.map((_, i) => monthly.find((m) => m.year === year && m.month === i + 1)?.itemsSold ?? null);
  text.textContent = `Correlation of monthly sales, ${pair.year} and ${pair.nextYear}: ${fmtNum(pair.correlation, 3)} over ${pair.months} months`;
  chart(
    el,
    {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      xAxis: { type: 'category', data: MONTHS, ...axisStyle },
      yAxis: { type: 'value', ...axisStyle },
      series: [
        { name: String(pair.year), type: 'line', smooth: true, data: of(pair.year) },
        { name: String(pair.nextYear), type: 'line', smooth: true, data: of(pair.nextYear) },
      ],
    },
    `Lines of monthly items sold in ${pair.year} and ${pair.nextYear}. ${text.textContent}.`,
  );
}
