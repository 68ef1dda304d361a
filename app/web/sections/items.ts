// Items and customers: the most sold items, how sales spread over items, the top customers, basket sizes.
import type { BasketSize, HistogramBin, TopCustomer, TopItem } from '../../types.ts';
import { axisStyle, chart, namedCategoryAxis, palette, rowTooltip, spanOf } from '../charts.ts';
import { get } from '../client.ts';
import { card, clear, escapeHtml, fmtInt, fmtPct, h, table } from '../dom.ts';

export async function renderItems(root: HTMLElement): Promise<void> {
  const [items, histogram, customers, sizes] = await Promise.all([
    get<TopItem[]>('/items/top', { limit: 20 }),
    get<HistogramBin[]>('/items/distribution', { bins: 20 }),
    get<TopCustomer[]>('/customers/top', { limit: 20 }),
    get<BasketSize[]>('/baskets/sizes'),
  ]);
  const itemsEl = h('div', { class: 'chart items', 'data-testid': 'chart-top-items' });
  const histEl = h('div', { class: 'chart', 'data-testid': 'chart-item-distribution' });
  const sizesEl = h('div', { class: 'chart', 'data-testid': 'chart-basket-sizes' });

  clear(
    root,
    h(
      'div',
      { class: 'grid two' },
      card('Most sold items', itemsEl),
      card('Top items', topItemsTable(items)),
    ),
    h(
      'div',
      { class: 'grid two' },
      card(
        'How many items sold how much',
        h('p', { class: 'muted small' }, 'Items by the number of units each sold.'),
        histEl,
      ),
      card(
        'Basket sizes',
        h('p', { class: 'muted small' }, 'Baskets by the number of distinct items in them.'),
        sizesEl,
      ),
    ),
    card('Top customers', topCustomersTable(customers)),
  );
  drawTopItems(itemsEl, items);
  drawItemDistribution(histEl, histogram);
  drawBasketSizes(sizesEl, sizes);
}

function topItemsTable(items: TopItem[]): HTMLElement {
  return table(
    ['#', 'Item', 'Items sold', 'Baskets', 'In % of baskets'],
    items.map((i) => [
      fmtInt(i.rank),
      i.item,
      fmtInt(i.itemsSold),
      fmtInt(i.baskets),
      fmtPct(i.basketShare, 2),
    ]),
    { numeric: [true, false, true, true, true], testid: 'top-items' },
  );
}

function topCustomersTable(customers: TopCustomer[]): HTMLElement {
  return table(
    ['#', 'Member', 'Items bought', 'Baskets', 'Distinct items', 'First purchase', 'Last purchase'],
    customers.map((c) => [
      fmtInt(c.rank),
      String(c.member ?? '–'),
      fmtInt(c.itemsSold),
      fmtInt(c.baskets),
      fmtInt(c.distinctItems),
      c.firstPurchase ?? '–',
      c.lastPurchase ?? '–',
    ]),
    { numeric: [true, true, true, true, true, false, false], testid: 'top-customers' },
  );
}

/** Horizontal bars, the most sold item on top. */
function drawTopItems(el: HTMLElement, items: TopItem[]): void {
  const ordered = [...items].reverse();
  chart(
    el,
    {
      grid: { left: 150, right: 24, top: 8, bottom: 24 },
      tooltip: rowTooltip(
        ordered,
        (i) => `<b>${escapeHtml(i.item)}</b><br/>${fmtInt(i.itemsSold)} sold in ${fmtInt(i.baskets)} baskets`,
      ),
      xAxis: { type: 'value', ...axisStyle },
      yAxis: {
        type: 'category',
        data: ordered.map((i) => i.item),
        ...axisStyle,
        axisLabel: { color: '#334155', width: 140, overflow: 'truncate' },
      },
      series: [
        { type: 'bar', data: ordered.map((i) => i.itemsSold), itemStyle: { borderRadius: [0, 3, 3, 0] } },
      ],
    },
    `Bar chart of the ${items.length} most sold items: ${items
      .slice(0, 5)
      .map((i) => `${i.item} ${fmtInt(i.itemsSold)}`)
      .join(', ')}${items.length > 5 ? ' …' : ''}.`,
  );
}

function drawItemDistribution(el: HTMLElement, histogram: HistogramBin[]): void {
  chart(
    el,
    {
      tooltip: rowTooltip(
        histogram,
        (b) => `${fmtInt(b.items)} items sold ${fmtInt(b.from)}–${fmtInt(b.to)} units`,
      ),
      xAxis: namedCategoryAxis(
        'units sold',
        histogram.map((b) => fmtInt(b.from)),
      ),
      yAxis: { type: 'value', name: 'items', ...axisStyle },
      series: [
        {
          type: 'bar',
          barCategoryGap: '8%',
          data: histogram.map((b) => b.items),
          itemStyle: { color: palette[2] },
        },
      ],
    },
    `Histogram of items by units sold: ${histogram.length} bins from ${fmtInt(histogram[0]?.from ?? null)} to ` +
      `${fmtInt(histogram.at(-1)?.to ?? null)} units, ${spanOf(
        histogram.map((b) => b.items),
        fmtInt,
      )} items a bin.`,
  );
}

function drawBasketSizes(el: HTMLElement, sizes: BasketSize[]): void {
  chart(
    el,
    {
      tooltip: rowTooltip(
        sizes,
        (s) => `${fmtInt(s.baskets)} baskets of ${fmtInt(s.size)} items (${fmtPct(s.share)})`,
      ),
      xAxis: namedCategoryAxis(
        'items in the basket',
        sizes.map((s) => String(s.size)),
      ),
      yAxis: { type: 'value', name: 'baskets', ...axisStyle },
      series: [
        {
          type: 'bar',
          data: sizes.map((s) => s.baskets),
          itemStyle: { color: palette[3], borderRadius: [3, 3, 0, 0] },
        },
      ],
    },
    `Bar chart of baskets by the number of distinct items: ${sizes
      .slice(0, 4)
      .map((s) => `${fmtInt(s.size)} items: ${fmtPct(s.share)}`)
      .join(', ')}${sizes.length > 4 ? ' …' : ''}.`,
  );
}
