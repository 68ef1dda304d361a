// The Data section: the pipeline (the lineage from source objects to tables, and every run) at #/data, and each
// Delta table at #/data/<schema.table>: its history, its columns with their types and descriptions, and its rows
// page by page at any version (time travel). The list beside them holds every silver and gold table.
import type { TableInfo } from '../../../types.ts';
import { get } from '../../client.ts';
import { card, clear, h } from '../../dom.ts';
import { showPipeline } from './pipeline.ts';
import { showTable } from './table.ts';

function tableLink(t: TableInfo, selected: string | undefined): HTMLElement {
  if (t.version === null) return h('li', {}, h('span', { class: 'muted' }, t.name, ' (missing)'));
  const current = t.name === selected;
  const behind = t.latestVersion !== null && t.latestVersion > t.version;
  return h(
    'li',
    {},
    h(
      'a',
      {
        href: `#/data/${t.name}`,
        class: current ? 'active' : undefined,
        'aria-current': current ? 'page' : undefined,
        title: t.description ?? undefined,
      },
      h('span', {}, t.name),
      h(
        'span',
        { class: `pill${behind ? ' warn' : ''}` },
        behind ? `v${t.version} of ${t.latestVersion}` : `v${t.version}`,
      ),
    ),
  );
}

/** The pipeline first, then the tables by layer; a table the source lacks is marked missing. */
function tableList(tables: TableInfo[], selected: string | undefined): HTMLElement {
  const layer = (schema: string) => tables.filter((t) => t.name.startsWith(`${schema}.`));
  const pipeline = h(
    'li',
    {},
    h(
      'a',
      {
        href: '#/data',
        class: selected ? undefined : 'active',
        'aria-current': selected ? undefined : 'page',
      },
      h('span', {}, 'Runs and lineage'),
    ),
  );
  return h(
    'nav',
    { 'aria-label': 'Tables' },
    h('ul', { class: 'table-list' }, pipeline),
    ['silver', 'gold'].flatMap((schema) => [
      h('h3', { class: 'layer' }, schema),
      h(
        'ul',
        { class: 'table-list', 'data-testid': `table-list-${schema}` },
        layer(schema).map((t) => tableLink(t, selected)),
      ),
    ]),
  );
}

export async function renderData(root: HTMLElement, selected: string | undefined): Promise<void> {
  const tables = await get<TableInfo[]>('/tables');
  const current = tables.find((t) => t.name === selected && t.version !== null);
  const detail = h('div', { class: 'data-detail' });
  clear(
    root,
    h('div', { class: 'data-layout' }, card('Delta tables', tableList(tables, current?.name)), detail),
  );
  if (current) await showTable(detail, current);
  else await showPipeline(detail);
}
