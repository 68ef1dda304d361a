import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { FileBucket } from '../../src/bucket/file.ts';
import { checkDestination, ingest, type IngestOptions } from '../../src/stages/ingest.ts';
import { silentLogger } from '../../src/util/log.ts';
import { currentRun } from '../../src/util/run.ts';

let dir: string;
let bucket: FileBucket;

beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ingest-'));
  await fsp.mkdir(path.join(dir, 'src/sub'), { recursive: true });
  await fsp.writeFile(path.join(dir, 'src/a.csv'), 'x\n1\n');
  await fsp.writeFile(path.join(dir, 'src/sub/b.csv'), 'x\n2\n');
  await fsp.writeFile(path.join(dir, 'src/ignored.txt'), 'nope');
  bucket = new FileBucket(path.join(dir, 'bucket'));
});

const options = (over: Partial<IngestOptions> = {}): IngestOptions => ({
  sources: [{ dataset: 'ds', path: path.join(dir, 'src'), glob: '**/*.csv' }],
  bucket,
  destination: '{dataset}/{file}',
  run: currentRun({}, new Date('2026-01-02T03:04:05Z')),
  log: silentLogger,
  ...over,
});

describe('ingest into a file:// bucket', () => {
  it('uploads matching files with object semantics, then skips them when unchanged', async () => {
    const first = await ingest(options());
    expect(first.totals).toMatchObject({ files: 2, uploaded: 2, skipped: 0, conflicts: 0, failed: 0 });
    expect(first.objects.map((o) => o.name).sort()).toEqual(['ds/a.csv', 'ds/sub/b.csv']);
    const info = await bucket.stat('ds/a.csv');
    expect(info).toMatchObject({
      size: 4,
      contentType: 'text/csv',
      md5: createHash('md5').update('x\n1\n').digest('base64'),
    });
    expect(info!.metadata).toMatchObject({ 'source-path': 'a.csv' });
    expect(info!.metadata['run-id']).toMatch(/^local-20260102T030405\.000Z-[0-9a-f]{6}$/);
    expect(fs.readFileSync(path.join(dir, 'bucket/ds/sub/b.csv'), 'utf8')).toBe('x\n2\n');

    const second = await ingest(options());
    expect(second.totals).toMatchObject({ uploaded: 0, skipped: 2 });
    expect(second.objects[0]!.reason).toMatch(/unchanged/);
  });

  it('replaces a changed file with a newer generation', async () => {
    await ingest(options());
    const before = (await bucket.stat('ds/a.csv'))!;
    await fsp.writeFile(path.join(dir, 'src/a.csv'), 'x\n1\n3\n');
    const again = await ingest(options());
    expect(again.totals).toMatchObject({ uploaded: 1, skipped: 1 });
    const after = (await bucket.stat('ds/a.csv'))!;
    expect(BigInt(after.generation)).toBeGreaterThan(BigInt(before.generation));
    expect(again.objects.find((o) => o.name === 'ds/a.csv')!.reason).toBe(
      `replaced generation ${before.generation}`,
    );
  });

  it('never overwrites an object that changed since it was listed', async () => {
    await ingest(options());
    const listed = (await bucket.stat('ds/a.csv'))!;
    await fsp.writeFile(path.join(dir, 'other.csv'), 'someone else');
    await bucket.upload(path.join(dir, 'other.csv'), 'ds/a.csv', { ifGenerationMatch: listed.generation });
    await expect(
      bucket.upload(path.join(dir, 'src/a.csv'), 'ds/a.csv', { ifGenerationMatch: listed.generation }),
    ).rejects.toThrow(/precondition failed: expected generation \d+, found generation \d+; not overwritten/);
    expect(fs.readFileSync(path.join(dir, 'bucket/ds/a.csv'), 'utf8')).toBe('someone else');
  });

  it('plans without writing in a dry run', async () => {
    const plan = await ingest(options({ dryRun: true }));
    expect(plan.objects.map((o) => o.status)).toEqual(['planned', 'planned']);
    expect(fs.existsSync(path.join(dir, 'bucket'))).toBe(false);
  });

  it('rejects bad templates and names before uploading anything', async () => {
    expect(() => checkDestination('{dataset}/{nope}')).toThrow(
      /unknown placeholder \{nope\} \(expected \{dataset\}/,
    );
    await expect(ingest(options({ destination: '{dataset}/../{file}' }))).rejects.toThrow(
      /file a.csv: invalid object name "ds\/..\/a.csv": it has a "." or ".." segment/,
    );
    await expect(ingest(options({ destination: '{dataset}/fixed.csv' }))).rejects.toThrow(
      /maps both a.csv and sub\/b.csv to object ds\/fixed.csv/,
    );
    await expect(
      ingest(options({ sources: [{ dataset: 'ds', path: path.join(dir, 'missing'), glob: '*' }] })),
    ).rejects.toThrow(/source path .*missing: expected a folder, found nothing/);
    expect(fs.existsSync(path.join(dir, 'bucket'))).toBe(false);
  });

  it('stores gzip objects compressed and reads them back decompressed', async () => {
    await ingest(options({ gzip: true }));
    const info = (await bucket.stat('ds/a.csv'))!;
    expect(info.contentEncoding).toBe('gzip');
    const chunks: Buffer[] = [];
    for await (const c of await bucket.read('ds/a.csv')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('x\n1\n');
    expect((await ingest(options({ gzip: true }))).totals.skipped).toBe(2);
  });
});
