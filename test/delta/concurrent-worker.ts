// A writer process for the concurrency test: appends rows (blind appends), or repeatedly overwrites the table
// with what it read (a compaction), retrying from a fresh read when another writer got there first.
// Prints one JSON line per commit or conflict.
import { DuckDBInstance } from '@duckdb/node-api';
import { ConcurrentModificationError, registerDeltaView, writeDelta } from '../../src/delta/index.ts';

const [location, role, writer, countText] = process.argv.slice(2);
const count = Number(countText);
const conn = await (await DuckDBInstance.create(':memory:')).connect();
const say = (event: Record<string, unknown>) =>
  process.stdout.write(JSON.stringify({ writer, ...event }) + '\n');

if (role === 'append') {
  for (let seq = 0; seq < count; seq++) {
    const result = await writeDelta(conn, location!, `SELECT '${writer}' AS writer, ${seq} AS seq`, {
      mode: 'append',
    });
    say({ event: 'commit', version: result.version, seq });
  }
} else {
  let done = 0;
  while (done < count) {
    const snapshot = await registerDeltaView(conn, 'current', location!);
    try {
      const result = await writeDelta(conn, location!, 'SELECT writer, seq FROM current', {
        mode: 'overwrite',
        readVersion: snapshot.version,
      });
      say({ event: 'commit', version: result.version, read: snapshot.version, rows: result.rows });
      done++;
    } catch (e) {
      if (!(e instanceof ConcurrentModificationError)) throw e;
      say({ event: 'conflict', read: snapshot.version, message: e.message });
    }
  }
}
