// The load action's inputs: checked with the allowed values named, the secrets inside a connection string found,
// and applied to lakehouse.yml.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionSecrets, planLoad, readInputs } from '../../actions/load/inputs.ts';

const inputs = (values: Record<string, string>) => readInputs((name) => values[name] ?? '');

describe('readInputs', () => {
  it('reads lists, numbers and booleans', () => {
    expect(
      inputs({
        dataset: 'a, b\nc',
        objects: 'x/1.csv\nx/2.csv',
        engine: 'mysql',
        mode: 'merge',
        'batch-size': '5000',
        'dry-run': 'true',
      }),
    ).toEqual({
      config: 'lakehouse.yml',
      profile: undefined,
      datasets: ['a', 'b', 'c'],
      objects: ['x/1.csv', 'x/2.csv'],
      manifest: undefined,
      bucket: undefined,
      connection: undefined,
      engine: 'mysql',
      mode: 'merge',
      batchSize: 5000,
      dryRun: true,
    });
  });

  it('names the allowed values', () => {
    expect(() => inputs({ engine: 'oracle' })).toThrow(
      'input engine: expected one of sqlserver, mysql, postgres, found "oracle"',
    );
    expect(() => inputs({ 'batch-size': '0' })).toThrow(
      'input batch-size: expected a positive whole number of rows, found "0"',
    );
    expect(() => inputs({ 'dry-run': 'yes' })).toThrow('input dry-run: expected true or false, found "yes"');
    expect(() => inputs({ objects: 'a', manifest: 'm.json' })).toThrow(
      'inputs objects and manifest: expected one of them, found both',
    );
  });
});

describe('connectionSecrets', () => {
  it('finds the password in each form of connection string', () => {
    expect(connectionSecrets('Server=h;User Id=u;Password=p@ss;Encrypt=true')).toEqual([
      'Server=h;User Id=u;Password=p@ss;Encrypt=true',
      'p@ss',
    ]);
    expect(connectionSecrets('Server=h;Pwd="a;b c";Encrypt=true')[1]).toBe('a;b c');
    expect(connectionSecrets('Server=h;Password={x;y}')[1]).toBe('x;y');
    expect(connectionSecrets('postgres://u:p%40ss@h:5432/db')).toEqual([
      'postgres://u:p%40ss@h:5432/db',
      'p%40ss',
      'p@ss',
    ]);
    expect(
      connectionSecrets('Server=h;Authentication=Active Directory Service Principal;Client Secret=abc123'),
    ).toContain('abc123');
    expect(connectionSecrets('')).toEqual([]);
  });
});

describe('planLoad', () => {
  let dir: string;
  const config = (sql: string) => `project: p
datasets:
  - name: sales
    source: { path: data }
    format: csv
    columns: [{ name: id, type: integer }]
    load: { mode: append }
profiles:
  local:
    bucket: file://bucket
    sql: ${sql}
`;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'load-inputs-'));
  });
  afterAll(() => fsp.rm(dir, { recursive: true, force: true }));

  it('refuses the embedded engine and a merge without keys, saying what to do', async () => {
    const file = path.join(dir, 'pglite.yml');
    await fsp.writeFile(file, config('{ engine: pglite, path: db }'));
    await expect(planLoad(inputs({ config: file }))).rejects.toThrow(
      'profile local: sql.engine is pglite, which is embedded; the load action loads into sqlserver, mysql or postgres (set the engine and connection inputs, or choose another profile)',
    );
    await expect(
      planLoad(inputs({ config: file, engine: 'postgres', connection: 'postgres://u@h/db', mode: 'merge' })),
    ).rejects.toThrow('input mode merge: dataset sales has no keys in lakehouse.yml (merge needs them)');
  });

  it('gives the connection input to the profile, filling the variable it names, and reads an ingest manifest', async () => {
    const file = path.join(dir, 'sqlserver.yml');
    await fsp.writeFile(
      file,
      config(`{ engine: sqlserver, connection: '\${env:LOAD_INPUTS_TEST_CONN}', schema: raw }`),
    );
    const manifest = path.join(dir, 'ingest.json');
    await fsp.writeFile(
      manifest,
      JSON.stringify({
        stage: 'ingest',
        objects: [
          { name: 'sales/a.csv', status: 'uploaded' },
          { name: 'sales/b.csv', status: 'skipped' },
          { name: 'sales/c.csv', status: 'failed' },
        ],
      }),
    );
    const connection = 'Server=db.example.com;Database=shop;User Id=u;Password=pw-123456';
    const plan = await planLoad(inputs({ config: file, connection, manifest, 'batch-size': '777' }));
    expect(plan.target).toMatchObject({ engine: 'sqlserver', connection, schema: 'raw' });
    expect(plan.objects).toEqual(['sales/a.csv', 'sales/b.csv']);
    expect(plan.batchRows).toBe(777);
    expect(plan.manifests).toBe(path.join(dir, '.lakehouse/manifests'));
    await fsp.writeFile(manifest, JSON.stringify({ stage: 'load', objects: [] }));
    await expect(planLoad(inputs({ config: file, connection, manifest }))).rejects.toThrow(
      `manifest ${manifest}: expected an ingest manifest, found stage load`,
    );
  });
});
