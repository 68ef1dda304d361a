// The transform's skip-unchanged rule: a run is skipped only when the last one read the same inputs (fingerprint),
// did not fail, and every table it wrote is still there; and the loads the fingerprint covers come from the audit table.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite, type PgliteSession } from '../../src/sql/postgres/pglite.ts';
import { AUDIT_TABLE } from '../../src/sql/types.ts';
import {
  inputFingerprint,
  isUnchanged,
  loadsState,
  type TransformManifest,
} from '../../src/stages/transform.ts';

let dir: string;
let session: PgliteSession;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'transform-unchanged-'));
  session = await openPglite(path.join(dir, 'pglite'));
});
afterAll(async () => {
  await session?.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

function manifest(fingerprint: string, tables: string[]): TransformManifest {
  return {
    stage: 'transform',
    runId: 'r1',
    startedAt: '',
    finishedAt: '',
    dryRun: false,
    deltaRoot: path.join(dir, 'delta'),
    params: {},
    fingerprint,
    notebooks: [],
    tables: tables.map((table) => ({ table, version: 0, rows: 1 }) as TransformManifest['tables'][number]),
    queries: [],
  };
}

describe('the skip-unchanged rule', () => {
  it('skips only with the same fingerprint and every table still there', async () => {
    await fsp.mkdir(path.join(dir, 'delta/gold/a/_delta_log'), { recursive: true });
    await fsp.mkdir(path.join(dir, 'delta/gold/b/_delta_log'), { recursive: true });
    const last = manifest('f1', ['gold.a', 'gold.b']);
    expect(isUnchanged(last, 'f1')).toBe(true);
    expect(isUnchanged(last, 'f2')).toBe(false);
    expect(isUnchanged(undefined, 'f1')).toBe(false);
    // A failed run wrote only some tables: the next run must not be skipped.
    expect(isUnchanged({ ...last, status: 'failed' }, 'f1')).toBe(false);
    await fsp.rm(path.join(dir, 'delta/gold/b'), { recursive: true });
    expect(isUnchanged(last, 'f1')).toBe(false);
  });

  it('fingerprints the loads the audit table records: none before any load, a new one after each', async () => {
    expect(await loadsState(session)).toBe('0:');
    await session.execute(`CREATE TABLE ${session.dialect.table(AUDIT_TABLE)} (id integer)`);
    await session.execute(`INSERT INTO ${session.dialect.table(AUDIT_TABLE)} VALUES (1), (2)`);
    const two = await loadsState(session);
    expect(two).toBe('2:2');
    await session.execute(`INSERT INTO ${session.dialect.table(AUDIT_TABLE)} VALUES (3)`);
    const notebook = path.join(dir, 'n.sql');
    await fsp.writeFile(notebook, '-- Databricks notebook source\nSELECT 1');
    expect(await inputFingerprint([notebook], {}, two)).not.toBe(
      await inputFingerprint([notebook], {}, await loadsState(session)),
    );
  });
});
