// The lineage the run manifests describe: source objects in the bucket → the SQL store table each was loaded
// into → the notebooks that read it → the Delta tables they write (and the notebooks that read those). The
// notebooks and tables are those of the served transform run (else the last one); the objects and loads add up
// over every run, as the SQL store's tables do.
import path from 'node:path';
import type { IngestManifest, LoadManifest, StageManifest, TransformManifest } from './sources/manifests.ts';
import type { Lineage, LineageNode } from './types.ts';

/** More objects than this in a dataset are drawn as one node that counts them. */
const OBJECTS_SHOWN = 8;

const fmt = (n: number) => n.toLocaleString('en-US');

class Graph {
  readonly nodes = new Map<string, LineageNode>();
  readonly links = new Map<string, { source: string; target: string; label: string }>();
  node(id: string, kind: LineageNode['kind'], label: string, detail: string): string {
    if (!this.nodes.has(id)) this.nodes.set(id, { id, kind, label, detail });
    return id;
  }
  link(source: string, target: string, label: string): void {
    if (this.nodes.has(source) && this.nodes.has(target))
      this.links.set(`${source}→${target}`, { source, target, label });
  }
}

/** The SQL store tables and, for each, the objects loaded into it and the rows they gave. */
function loads(manifests: StageManifest[]) {
  const tables = new Map<string, { dataset: string; objects: Map<string, number>; quarantined: number }>();
  for (const m of manifests.filter((x): x is LoadManifest => x.stage === 'load')) {
    for (const d of m.datasets) {
      const entry = tables.get(d.table) ?? { dataset: d.dataset, objects: new Map(), quarantined: 0 };
      for (const o of d.objects) {
        if (o.status !== 'loaded') continue;
        entry.objects.set(o.name, o.rowsLoaded);
        entry.quarantined += o.rowsQuarantined;
      }
      tables.set(d.table, entry);
    }
  }
  return tables;
}

/** Where each object came from: the local file ingest uploaded it from. */
function sourceFiles(manifests: StageManifest[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const m of manifests.filter((x): x is IngestManifest => x.stage === 'ingest'))
    for (const o of m.objects) files.set(o.name, o.file);
  return files;
}

function addLoads(g: Graph, manifests: StageManifest[]): Map<string, string> {
  const files = sourceFiles(manifests);
  const sqlNodes = new Map<string, string>();
  for (const [table, load] of loads(manifests)) {
    const rows = [...load.objects.values()].reduce((a, b) => a + b, 0);
    const sql = g.node(
      `sql:${table}`,
      'sql',
      `SQL ${table}`,
      `${fmt(rows)} rows loaded, ${fmt(load.quarantined)} quarantined`,
    );
    sqlNodes.set(table.toLowerCase(), sql);
    const objects = [...load.objects];
    if (objects.length > OBJECTS_SHOWN) {
      const source = g.node(
        `source:${load.dataset}`,
        'source',
        `${fmt(objects.length)} objects`,
        `${load.dataset} in the bucket`,
      );
      g.link(source, sql, `${fmt(rows)} rows`);
      continue;
    }
    for (const [name, rowsLoaded] of objects) {
      const file = files.get(name);
      const source = g.node(`source:${name}`, 'source', name, file ? `from ${file}` : 'in the bucket');
      g.link(source, sql, `${fmt(rowsLoaded)} rows`);
    }
  }
  return sqlNodes;
}

function addTransform(g: Graph, run: TransformManifest, sqlNodes: Map<string, string>): void {
  const notebookIds = new Map<string, string>();
  for (const n of run.notebooks) {
    const id = g.node(
      `notebook:${n.path}`,
      'notebook',
      path.basename(n.path),
      `${n.cells} cells, ${n.seconds.toFixed(1)} s`,
    );
    notebookIds.set(n.path, id);
  }
  // A table written by two notebooks of the run (a work table the last notebook empties) is drawn from its first
  // writer only: a link from the later one would close a cycle through the notebooks that read it in between, and a
  // lineage diagram (ECharts' Sankey) must have none.
  const drawn = new Set<string>();
  for (const t of run.tables) {
    const version = t.version === undefined ? '' : ` v${t.version}`;
    const table = g.node(`table:${t.table}`, 'table', `${t.table}${version}`, `${fmt(t.rows)} rows`);
    const notebook = [...notebookIds].find(([p]) => p === t.notebook || p.endsWith(t.notebook))?.[1];
    if (notebook && !drawn.has(t.table)) g.link(notebook, table, t.operation);
    drawn.add(t.table);
  }
  for (const n of run.notebooks) {
    const id = notebookIds.get(n.path) as string;
    for (const dbtable of n.extracts ?? []) {
      // `dbo.` and other schema prefixes name the store's default schema: the load table is the last part.
      const sql = sqlNodes.get(dbtable.split('.').at(-1)!.toLowerCase());
      if (sql) g.link(sql, id, 'extract');
    }
    for (const read of n.reads ?? []) g.link(`table:${read}`, id, 'read');
  }
}

export function lineageOf(manifests: StageManifest[]): Lineage {
  const g = new Graph();
  const sqlNodes = addLoads(g, manifests);
  const transforms = manifests.filter((m): m is TransformManifest => m.stage === 'transform');
  const run = transforms.filter((m) => m.status !== 'failed').at(-1) ?? transforms.at(-1);
  if (run) addTransform(g, run, sqlNodes);
  return { nodes: [...g.nodes.values()], links: [...g.links.values()] };
}
