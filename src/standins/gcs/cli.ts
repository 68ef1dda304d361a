// Runs the GCS test server as its own process (for benchmarks, or to point a client at by hand):
//   npx tsx src/standins/gcs/cli.ts [--port 4443] [--dir <folder>] [--bucket name]...
// Prints one JSON line, {"url": ...}, once it listens; stops on SIGTERM or SIGINT.
import { parseArgs } from 'node:util';
import { startGcsServer } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    dir: { type: 'string' },
    bucket: { type: 'string', multiple: true, default: ['test-bucket'] },
  },
});
const server = await startGcsServer({
  port: Number(values.port),
  buckets: values.bucket,
  ...(values.dir ? { dir: values.dir } : {}),
});
console.log(JSON.stringify({ url: server.url }));
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
