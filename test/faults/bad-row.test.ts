// A bad row that passes the load (a date in 9999) must not wedge the pipeline: the transform checks its input
// before it writes any table version, and removing the source file is the way out (ingest notices, load withdraws
// the object's rows). And a project folder that moves reloads nothing.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openProject, project, tableVersion } from './helpers.ts';

const folders: string[] = [];
afterAll(async () => {
  for (const f of folders) await fsp.rm(f, { recursive: true, force: true });
});

describe('a bad row that passes the load', () => {
  it('writes no silver version; removing its file (ingest.deleteMissing) lets the next run succeed', async () => {
    // Enough rows for association rules: with none, DuckDB's count_if over no rows is NULL and 04's check fails.
    const p = await project(3000);
    folders.push(p.dir);
    expect((await p.ingest()).verdict.ok).toBe(true);
    expect((await p.load()).verdict.ok).toBe(true);
    expect((await p.transform()).verdict.ok).toBe(true);
    const silver = ['silver.transactions', 'silver.baskets'];
    const before = silver.map((t) => tableVersion(p, t));
    // Created empty (version 0), then the first run's rows merged in (version 1).
    expect(before).toEqual([1, 1]);

    const future = path.join(p.dir, 'data/sample/zz-future.csv');
    await fsp.writeFile(future, 'Member_number,Date,itemDescription\n1000,9999-12-31,whole milk\n');
    expect((await p.ingest()).result?.totals.uploaded).toBe(1);
    expect((await p.load()).result?.totals).toMatchObject({ loaded: 1, rowsLoaded: 1 });
    await expect(p.transform()).rejects.toThrow(/date outside 1990-01-01 \.\. today/);
    expect(silver.map((t) => tableVersion(p, t))).toEqual(before);

    // The file removed: ingest says so, and keeps the object unless told to delete it.
    await fsp.rm(future);
    const kept = await p.ingest();
    expect(kept.result?.objects.find((o) => o.name === 'transactions/zz-future.csv')).toMatchObject({
      status: 'missing',
      reason: expect.stringMatching(/source file zz-future\.csv is gone.*ingest\.deleteMissing/),
    });
    expect(fs.existsSync(path.join(p.dir, '.lakehouse/bucket/transactions/zz-future.csv'))).toBe(true);

    await fsp.writeFile(
      p.config,
      (await fsp.readFile(p.config, 'utf8')).replace(
        "destination: '{dataset}/{file}'",
        "destination: '{dataset}/{file}'\n  deleteMissing: true",
      ),
    );
    const deleted = await p.ingest();
    expect(deleted.result?.objects.find((o) => o.name === 'transactions/zz-future.csv')).toMatchObject({
      status: 'deleted',
    });
    expect(fs.existsSync(path.join(p.dir, '.lakehouse/bucket/transactions/zz-future.csv'))).toBe(false);
    const withdrawn = await p.load();
    expect(withdrawn.result?.totals).toMatchObject({ withdrawn: 1, loaded: 0 });
    expect((await p.transform()).verdict.ok).toBe(true);
    // The withdrawn object never reached silver: the increment changes nothing there and commits no version.
    expect(silver.map((t) => tableVersion(p, t))).toEqual(before);
  });
});

describe('a project folder that moves', () => {
  it('reloads nothing: the audit knows the bucket as configured, not by its absolute path', async () => {
    const p = await project(600);
    expect((await p.ingest()).verdict.ok).toBe(true);
    const first = await p.load();
    expect(first.result?.totals.loaded).toBeGreaterThan(0);
    const moved = path.join(os.tmpdir(), `lakehouse-moved-${process.pid}-${Date.now()}`);
    await fsp.rename(p.dir, moved);
    folders.push(moved);

    const again = await openProject(moved).load();
    expect(again.verdict.ok).toBe(true);
    expect(again.result?.totals).toMatchObject({
      loaded: 0,
      rowsLoaded: 0,
      rowsReplaced: 0,
      skipped: first.result?.totals.loaded,
    });
  });
});
