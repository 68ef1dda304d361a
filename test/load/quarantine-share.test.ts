// An object that quarantines more than load.maxQuarantineShare of its rows is loaded (its good rows are good),
// but the load warns and fails its verdict, so that the command exits non-zero and nobody misses it.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { project } from '../faults/helpers.ts';

const folders: string[] = [];
afterAll(async () => {
  for (const f of folders) await fsp.rm(f, { recursive: true, force: true });
});

describe('load.maxQuarantineShare', () => {
  it('fails the load, with a warning naming the object, when an object quarantines more than the share', async () => {
    const p = await project(200, {
      edit: (yaml) => yaml.replace('ingest:', 'load:\n  maxQuarantineShare: 0.2\n\ningest:'),
    });
    folders.push(p.dir);
    await fsp.mkdir(path.join(p.dir, 'data/sample'), { recursive: true });
    await fsp.writeFile(
      path.join(p.dir, 'data/sample/half-bad.csv'),
      'Member_number,Date,itemDescription\n1,2015-01-01,tea\n2,2015-01-01,x,y\n3,2015-13-01,soda\n4,2015-01-02,milk\n',
    );
    expect((await p.ingest()).verdict.ok).toBe(true);
    const outcome = await p.load();
    expect(outcome.result?.totals.failed).toBe(0);
    expect(outcome.verdict).toEqual({
      ok: false,
      message:
        '1 object quarantined more than 20% of its rows (load.maxQuarantineShare): transactions/half-bad.csv: 2 of 4 rows (50%)',
    });
    const half = outcome.result?.datasets[0]!.objects.find((o) => o.name === 'transactions/half-bad.csv');
    expect(half).toMatchObject({ status: 'loaded', rowsLoaded: 2, rowsQuarantined: 2 });
  });

  it('defaults to 5% and accepts only a share from 0 to 1', () => {
    const yaml = (extra: string) =>
      [
        'project: p',
        'datasets:',
        '  - { name: d, source: { path: data }, format: csv, columns: [{ name: c, type: string }], load: { mode: append } }',
        extra,
        'profiles:',
        '  local: { bucket: "file://.lakehouse/b", sql: { engine: pglite, path: .lakehouse/p } }',
      ].join('\n');
    expect(parseConfig(yaml(''), 'lakehouse.yml').config.load.maxQuarantineShare).toBe(0.05);
    expect(parseConfig(yaml('load: { maxQuarantineShare: 0 }'), 'lakehouse.yml').config.load).toMatchObject({
      maxQuarantineShare: 0,
    });
    expect(() => parseConfig(yaml('load: { maxQuarantineShare: 1.5 }'), 'lakehouse.yml')).toThrow(
      /load\.maxQuarantineShare/,
    );
  });
});
