#!/usr/bin/env node
// Upload throughput of the gs:// backend (the real @google-cloud/storage client, through the ingest stage)
// against the GCS test server running as its own process, next to a plain copy of the same bytes on the same disk.
// Writes bench/results/ingest.md.
//
//   node bench/ingest.mjs [--mb 256] [--files 2000] [--file-kb 16] [--runs 3]
import crypto from 'node:crypto';
import { once } from 'node:events';
import os from 'node:os';
import { pipeline } from 'node:stream/promises';
import { register } from 'tsx/esm/api';
import { $, argv, fs, path } from 'zx';

register();
const { GcsBucket } = await import('../src/bucket/gcs.ts');
const { ingest } = await import('../src/stages/ingest.ts');
const { mapLimit } = await import('../src/util/concurrency.ts');
const { silentLogger } = await import('../src/util/log.ts');
const { currentRun } = await import('../src/util/run.ts');
const { Crc32c } = await import('../src/bucket/crc32c.ts');

const MiB = 1024 * 1024;
const root = path.resolve(import.meta.dirname, '..');
const work = path.join(root, 'bench/.work/ingest');
const bigMB = Number(argv.mb ?? 256);
const smallCount = Number(argv.files ?? 2000);
const smallKB = Number(argv['file-kb'] ?? 16);
const runs = Number(argv.runs ?? 3);

await fs.remove(work);
await fs.mkdirp(path.join(work, 'big'));
await fs.mkdirp(path.join(work, 'small'));

console.log(`writing ${bigMB} MiB and ${smallCount} × ${smallKB} KiB of test data under ${work}`);
const block = crypto.randomBytes(MiB);
const big = path.join(work, 'big/data.bin');
const handle = await fs.promises.open(big, 'w');
for (let i = 0; i < bigMB; i++) {
  block.writeUInt32BE(i, 0);
  await handle.write(block);
}
await handle.close();
for (let i = 0; i < smallCount; i++)
  await fs.writeFile(
    path.join(work, 'small', `f${String(i).padStart(5, '0')}.csv`),
    crypto.randomBytes(smallKB * 1024),
  );

// The server gets its own process and stores objects in the same folder tree, on the same disk as the copies.
const server = $({
  cwd: root,
  nothrow: true,
})`${process.execPath} --import tsx src/standins/gcs/cli.ts --bucket bench-bucket --dir ${path.join(work, 'server')}`;
const url = await new Promise((resolve, reject) => {
  server.stdout.on('data', (d) => {
    const m = /"url":"([^"]+)"/.exec(String(d));
    if (m) resolve(m[1]);
  });
  server.catch(reject);
});

/** Median seconds of `runs` runs of `task` (each after `prepare`). */
async function measure(task, prepare = async () => {}) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    await prepare(i);
    const started = process.hrtime.bigint();
    await task(i);
    times.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const results = [];
function record(what, bytes, files, seconds) {
  results.push({ what, bytes, files, seconds });
  console.log(
    `${what.padEnd(58)} ${(bytes / MiB / seconds).toFixed(1).padStart(7)} MiB/s  ${(files / seconds).toFixed(0).padStart(6)} files/s`,
  );
}

const copies = path.join(work, 'copies');
const fresh = async () => {
  await fs.remove(copies);
  await fs.mkdirp(copies);
};
const bigBytes = bigMB * MiB;
const smallNames = await fs.readdir(path.join(work, 'small'));
const smallBytes = smallCount * smallKB * 1024;

try {
  record(
    'copy, fs.copyFile (kernel copy)',
    bigBytes,
    1,
    await measure((i) => fs.promises.copyFile(big, path.join(copies, `c${i}`)), fresh),
  );
  record(
    'copy, streamed through Node (read + write)',
    bigBytes,
    1,
    await measure(
      (i) =>
        pipeline(
          fs.createReadStream(big, { highWaterMark: MiB }),
          fs.createWriteStream(path.join(copies, `s${i}`)),
        ),
      fresh,
    ),
  );
  record(
    'copy, streamed, hashing MD5 + CRC32C on the way (as each upload side does)',
    bigBytes,
    1,
    await measure(async (i) => {
      const md5 = crypto.createHash('md5');
      const crc = new Crc32c();
      const source = fs.createReadStream(big, { highWaterMark: MiB });
      source.on('data', (c) => (md5.update(c), crc.update(c)));
      await pipeline(source, fs.createWriteStream(path.join(copies, `h${i}`)));
    }, fresh),
  );

  let prefix = 0;
  const bucket = (options = {}) =>
    new GcsBucket(`gs://bench-bucket/run${prefix++}`, { apiEndpoint: url, log: silentLogger, ...options });
  const upload = (options, resumable) => async () => {
    const b = bucket(options);
    await b.upload(big, 'data.bin', { ifGenerationMatch: '0', resumable });
  };
  record('gs:// upload, resumable, 8 MiB chunks (default)', bigBytes, 1, await measure(upload({}, true)));
  record(
    'gs:// upload, resumable, 32 MiB chunks',
    bigBytes,
    1,
    await measure(upload({ chunkSize: 32 * MiB }, true)),
  );
  record('gs:// upload, one multipart request', bigBytes, 1, await measure(upload({}, false)));
  record(
    'ingest stage, the large file (MD5 + SHA-256 of the source, stat, resumable upload)',
    bigBytes,
    1,
    await measure(async () => {
      const manifest = await ingest({
        sources: [{ dataset: 'ds', path: path.join(work, 'big'), glob: '*' }],
        bucket: bucket(),
        destination: '{dataset}/{file}',
        run: currentRun(),
        log: silentLogger,
      });
      if (manifest.totals.uploaded !== 1) throw new Error(`uploaded ${manifest.totals.uploaded} of 1`);
    }),
  );

  record(
    `copy, ${smallCount} small files, 8 at a time`,
    smallBytes,
    smallCount,
    await measure(
      () =>
        mapLimit(smallNames, 8, (n) =>
          fs.promises.copyFile(path.join(work, 'small', n), path.join(copies, n)),
        ),
      fresh,
    ),
  );
  for (const concurrency of [8, 32]) {
    record(
      `ingest stage, ${smallCount} small files, concurrency ${concurrency} (stat + upload each)`,
      smallBytes,
      smallCount,
      await measure(async () => {
        const manifest = await ingest({
          sources: [{ dataset: 'ds', path: path.join(work, 'small'), glob: '*.csv' }],
          bucket: bucket(),
          destination: '{dataset}/{file}',
          run: currentRun(),
          concurrency,
          log: silentLogger,
        });
        if (manifest.totals.uploaded !== smallCount)
          throw new Error(`uploaded ${manifest.totals.uploaded} of ${smallCount}`);
      }),
    );
  }
} finally {
  server.kill('SIGTERM');
  await once(server.child, 'exit').catch(() => {});
}

const cpus = os.cpus();
const table = [
  '| what | MiB/s | files/s | median seconds |',
  '| --- | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.what} | ${(r.bytes / MiB / r.seconds).toFixed(1)} | ${r.files > 1 ? (r.files / r.seconds).toFixed(0) : ''} | ${r.seconds.toFixed(2)} |`,
  ),
].join('\n');
const report = `# Ingest throughput: gs:// uploads against a plain copy

Measured by \`node bench/ingest.mjs --mb ${bigMB} --files ${smallCount} --file-kb ${smallKB} --runs ${runs}\`
on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'CPU'},
${(os.totalmem() / 2 ** 30).toFixed(0)} GiB. Median of ${runs} runs each.

The uploads go through the real \`@google-cloud/storage\` client (\`GcsBucket\`, which also hashes every byte
with MD5 and CRC32C and checks both against the server's) to the GCS test server
(\`src/standins/gcs\`) running as a separate process on the loopback interface; the server writes objects to
files under \`bench/.work\`, on the same disk as the copies, and computes MD5 and CRC32C of each object too.
The large file is ${bigMB} MiB of random bytes; the small files are ${smallKB} KiB each.

${table}

## Reading the numbers

- The copy rows bound what any upload can reach here: the same bytes read from and written to the same disk.
  The hashed copy shows what checksumming alone costs, since the upload path hashes each byte on both sides.
- The test server is not GCS: there is no network, TLS or remote latency, so these numbers compare the client
  path's own cost with a copy; they do not predict throughput to a real bucket.
- A resumable session sends one request per chunk and keeps a chunk in memory to resend it after a broken
  request; larger chunks mean fewer round trips and more memory per upload in flight.
- The ingest stage makes two requests per small file (the object's metadata, to skip unchanged files and get
  the generation for the precondition, then the upload), so small files are bound by requests per second, not bytes.
- The machine is shared with other work; rerun before trusting small differences.
`;
await fs.mkdirp(path.join(root, 'bench/results'));
await fs.writeFile(path.join(root, 'bench/results/ingest.md'), report);
console.log(`\nwrote bench/results/ingest.md`);
await fs.remove(work);
