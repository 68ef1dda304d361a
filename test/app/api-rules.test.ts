// The rules API on the pipeline's own tables: exact items (checked against an independent count over the Delta
// table), a bound on every metric and sorting by every metric, the CSV export equal to the JSON rows, the metric
// ranges and the item list; and the same answers from a rules table that holds its sides as text ('a, b', as the
// notebook wrote them before it mined rules of any length, with arrays), since the API keys on the lists.
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localSource, startApp } from '../../app/server.ts';
import type { RunningApp } from '../../app/server.ts';
import type { Rule, RuleItem, RulesBounds, RulesPage } from '../../app/types.ts';
import { registerDeltaView, writeDelta } from '../../src/delta/index.ts';
import { runSamplePipeline, tableLocation, tempDir } from './helpers.ts';

interface TableRule {
  antecedents: string[];
  consequents: string[];
  values: Record<string, number>;
}

let deltaRoot: string;
let app: RunningApp;
let textSides: RunningApp;
let rules: TableRule[];

/** Every rule straight from the Delta table, its sides the arrays of items the notebook wrote. */
async function readRules(): Promise<TableRule[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await registerDeltaView(conn, 'rules', tableLocation(deltaRoot, 'gold.association_rules'));
    const rows = (await conn.runAndReadAll('SELECT * FROM rules')).getRowObjectsJS();
    return rows.map((r) => ({
      antecedents: r.antecedents as string[],
      consequents: r.consequents as string[],
      values: Object.fromEntries(Object.entries(r).filter(([, v]) => typeof v === 'number')) as Record<
        string,
        number
      >,
    }));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** A copy of the rules (and the items) with the sides as text, items joined by ', '. */
async function textShapedRoot(): Promise<string> {
  const root = tempDir('rules-text');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    for (const table of ['gold.association_rules', 'gold.item_popularity'] as const) {
      await registerDeltaView(conn, table.replace('.', '_'), tableLocation(deltaRoot, table));
    }
    await writeDelta(
      conn,
      tableLocation(root, 'gold.association_rules'),
      `SELECT array_to_string(antecedents, ', ') AS antecedents, array_to_string(consequents, ', ') AS consequents,
         * EXCLUDE (antecedents, consequents)
       FROM gold_association_rules`,
      { mode: 'overwrite' },
    );
    await writeDelta(
      conn,
      tableLocation(root, 'gold.item_popularity'),
      'SELECT * FROM gold_item_popularity',
      {
        mode: 'overwrite',
      },
    );
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return root;
}

beforeAll(async () => {
  deltaRoot = (await runSamplePipeline(20_000)).deltaRoot;
  rules = await readRules();
  app = await startApp({ source: await localSource({ deltaRoot }), port: 0 });
  textSides = await startApp({ source: await localSource({ deltaRoot: await textShapedRoot() }), port: 0 });
});

afterAll(async () => {
  await app?.close();
  await textSides?.close();
});

async function get<T>(p: string, on = app): Promise<{ status: number; data: T; error?: string }> {
  const response = await fetch(on.url + p);
  const body = (await response.json()) as { data: T; error?: string };
  return { status: response.status, data: body.data, error: body.error };
}

const key = (r: { antecedents: string[]; consequents: string[] }) =>
  `${r.antecedents.join('|')} → ${r.consequents.join('|')}`;

describe('exact items', () => {
  test('an item matches whole items only, on the side asked, all or any of several', async () => {
    // "butter" is also the start of "butter milk", "ham" of "hamburger meat": neither may match.
    const items = new Set(rules.flatMap((r) => [...r.antecedents, ...r.consequents]));
    expect(items.has('butter')).toBe(true);
    const cases: [string, (r: TableRule) => boolean][] = [
      ['item=butter', (r) => r.antecedents.includes('butter') || r.consequents.includes('butter')],
      ['item=butter&side=antecedent', (r) => r.antecedents.includes('butter')],
      ['item=whole%20milk&side=consequent', (r) => r.consequents.includes('whole milk')],
      [
        'item=butter&item=brown%20bread',
        (r) => ['butter', 'brown bread'].every((i) => [...r.antecedents, ...r.consequents].includes(i)),
      ],
      [
        'item=butter&item=ham&match=any&side=antecedent',
        (r) => r.antecedents.includes('butter') || r.antecedents.includes('ham'),
      ],
      ['item=milk', (r) => [...r.antecedents, ...r.consequents].includes('milk')],
    ];
    for (const [query, keep] of cases) {
      const expected = rules.filter(keep);
      const page = await get<RulesPage>(`/api/rules?${query}&pageSize=500`);
      expect(page.status, query).toBe(200);
      expect(page.data.total, query).toBe(expected.length);
      expect(page.data.rows.map(key).sort(), query).toEqual(expected.map(key).sort());
    }
    expect(rules.filter(cases[0]![1]).length).toBeGreaterThan(3);
    // A substring of an item name is not an item.
    expect((await get<RulesPage>('/api/rules?item=butt')).data.total).toBe(0);
  });

  test('the item list has every item in some rule, with its count on each side', async () => {
    const list = (await get<RuleItem[]>('/api/rules/items')).data;
    const counted = new Map<string, { a: number; c: number }>();
    for (const r of rules) {
      for (const item of new Set([...r.antecedents, ...r.consequents])) {
        const entry = counted.get(item) ?? { a: 0, c: 0 };
        if (r.antecedents.includes(item)) entry.a += 1;
        if (r.consequents.includes(item)) entry.c += 1;
        counted.set(item, entry);
      }
    }
    expect(list.map((i) => i.item).sort()).toEqual([...counted.keys()].sort());
    for (const i of list)
      expect([i.antecedent, i.consequent], i.item).toEqual([counted.get(i.item)!.a, counted.get(i.item)!.c]);
    expect(list.map((i) => i.rules)).toEqual([...list.map((i) => i.rules)].sort((a, b) => b - a));
  });
});

describe('every metric', () => {
  test('is a column with its range, a bound and a sort', async () => {
    const bounds = (await get<RulesBounds>('/api/rules/bounds')).data;
    const columns = bounds.metrics.map((m) => m.column);
    for (const metric of [
      'support',
      'confidence',
      'lift',
      'leverage',
      'conviction',
      'zhangs_metric',
      'jaccard',
      'certainty',
      'kulczynski',
      'antecedent_support',
      'consequent_support',
      'representativity',
    ])
      expect(columns).toContain(metric);
    expect(bounds.rules).toBe(rules.length);
    for (const m of bounds.metrics) {
      const values = rules.map((r) => r.values[m.column]!).filter(Number.isFinite);
      expect(m.min, m.key).toBe(Math.min(...values));
      const cap = m.key.charAt(0).toUpperCase() + m.key.slice(1);
      // A bound in the middle of the values keeps some rules and drops others.
      const middle = [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
      const atLeast = await get<RulesPage>(`/api/rules?min${cap}=${middle}&pageSize=1`);
      expect(atLeast.data.total, `min${cap}`).toBe(rules.filter((r) => r.values[m.column]! >= middle).length);
      const atMost = await get<RulesPage>(`/api/rules?max${cap}=${middle}&pageSize=1`);
      expect(atMost.data.total, `max${cap}`).toBe(rules.filter((r) => r.values[m.column]! <= middle).length);
      for (const dir of ['asc', 'desc'] as const) {
        const page = await get<RulesPage>(`/api/rules?sort=${m.key}&dir=${dir}&pageSize=500`);
        const got = page.data.rows.map((r) => r.metrics[m.key] ?? Infinity);
        const sorted = [...got].sort((a, b) => (dir === 'asc' ? a - b : b - a));
        expect(got, `${m.key} ${dir}`).toEqual(sorted);
      }
    }
  });

  test('bad input is a 400 that names the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['/api/rules?minLift=abc', /minLift/],
      ['/api/rules?maxZhangsMetric=x', /maxZhangsMetric/],
      ['/api/rules?sort=lift;DROP%20TABLE%20x', /sort/],
      ['/api/rules?side=left', /side/],
      [`/api/rules?${Array.from({ length: 21 }, (_, i) => `item=i${i}`).join('&')}`, /item/],
    ];
    for (const [p, message] of cases) {
      const r = await get(p);
      expect(r.status, p).toBe(400);
      expect(r.error, p).toMatch(message);
    }
  });
});

/** RFC 4180 fields of one CSV line (enough for the export: quotes around fields with commas). */
function csvFields(line: string): string[] {
  return [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)]
    .map((m) => m[1]!)
    .slice(0, -1)
    .map((f) => (f.startsWith('"') ? f.slice(1, -1).replaceAll('""', '"') : f));
}

describe('the CSV export', () => {
  test('holds exactly the filtered rules, in the order asked, with every metric', async () => {
    const query = 'item=whole%20milk&minConfidence=0.2&sort=confidence&dir=asc';
    const response = await fetch(`${app.url}/api/rules/export.csv?${query}`);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toContain('association_rules.csv');
    const [header, ...lines] = (await response.text()).trimEnd().split('\r\n');
    const page = (await get<RulesPage>(`/api/rules?${query}&pageSize=500`)).data;
    const bounds = (await get<RulesBounds>('/api/rules/bounds')).data;
    expect(csvFields(header!)).toEqual([
      'antecedents',
      'consequents',
      ...bounds.metrics.map((m) => m.column),
    ]);
    expect(lines.length).toBe(page.total);
    expect(page.total).toBeGreaterThan(0);
    lines.forEach((line, i) => {
      const [a, c, ...values] = csvFields(line);
      const rule = page.rows[i] as Rule;
      expect([a, c]).toEqual([rule.antecedents.join(', '), rule.consequents.join(', ')]);
      bounds.metrics.forEach((m, j) => {
        const value = values[j] === 'inf' ? null : Number(values[j]);
        expect(value, `${m.key} of row ${i}`).toBe(rule.metrics[m.key]);
      });
    });
  });
});

describe('a rules table with its sides as text', () => {
  // Ties (a rule and its reverse have the same lift) are broken by the sides, which text and arrays order
  // differently ("butter milk" < "butter, ham" as text, ["butter", "ham"] < ["butter milk"] as lists): the
  // answers are compared as sets of rules.
  const sorted = <T>(rows: T[]) =>
    [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  test('gives the same rules, items and filters', async () => {
    for (const p of [
      '/api/rules?item=butter&pageSize=500',
      '/api/rules?item=whole%20milk&side=consequent&minLift=1.2&pageSize=500',
    ]) {
      const [array, text] = await Promise.all([get<RulesPage>(p), get<RulesPage>(p, textSides)]);
      expect(text.status, p).toBe(200);
      expect(text.data.total, p).toBe(array.data.total);
      expect(sorted(text.data.rows), p).toEqual(sorted(array.data.rows));
    }
    const items = await Promise.all([
      get<RuleItem[]>('/api/rules/items'),
      get<RuleItem[]>('/api/rules/items', textSides),
    ]);
    expect(items[1].data).toEqual(items[0].data);
    const csv = async (on: RunningApp) =>
      (await (await fetch(`${on.url}/api/rules/export.csv?item=butter&item=ham&match=any`)).text())
        .split('\r\n')
        .sort();
    expect(await csv(textSides)).toEqual(await csv(app));
  });
});
