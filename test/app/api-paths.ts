// The API requests on which two data sources must give the same answers (test/app/sources*.test.ts).
import { TABLES } from '../../app/sql.ts';

const ruleQueries = [
  '',
  'minSupport=0.002',
  'minConfidence=0.1',
  'minConfidence=0.25&minLift=1.1',
  'minLift=1.2&sort=confidence&dir=asc',
  'sort=antecedents&dir=asc&page=2&pageSize=10',
  'sort=consequents&dir=desc&pageSize=7&page=3',
  'sort=support&dir=desc',
  'sort=leverage&dir=asc',
  'sort=conviction&dir=desc',
  'sort=zhangsMetric&dir=asc&maxZhangsMetric=0.5',
  'sort=kulczynski&minJaccard=0.01&maxCertainty=0.9',
  'item=whole%20milk',
  'item=whole%20milk&side=antecedent',
  'item=whole%20milk&item=yogurt&match=any&side=consequent&minConfidence=0.05',
  'item=%3Cscript%3E',
  'item=no%20such%20item',
  'minSupport=1',
];

/** Every API request the app answers from its data, with the query strings that exercise each option. */
export function apiPaths(): string[] {
  const list = [
    '/api/overview',
    '/api/rules/bounds',
    '/api/sales/daily',
    '/api/sales/monthly',
    '/api/sales/yearly',
    '/api/sales/correlation',
    '/api/items/top',
    '/api/items/top?limit=5',
    '/api/items/distribution',
    '/api/items/distribution?bins=7',
    '/api/customers/top',
    '/api/customers/top?limit=100',
    '/api/baskets/sizes',
    '/api/tables',
    '/api/rules/items',
    '/api/runs',
    '/api/runs/lineage',
    '/api/rules?minConfidence=2',
    '/api/rules/export.csv?item=whole%20milk',
    '/api/tables/gold.nope/history',
    ...ruleQueries.map((q) => `/api/rules?${q}`),
    ...ruleQueries.map((q) => `/api/rules/scatter?${q}`),
  ];
  for (const table of TABLES) {
    list.push(
      `/api/tables/${table}/history`,
      `/api/tables/${table}/rows`,
      `/api/tables/${table}/rows?version=0&limit=20`,
      `/api/tables/${table}/rows?version=0&offset=30&limit=15`,
    );
  }
  return list;
}
