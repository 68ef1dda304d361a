// Kept for what the Spark SQL stand-in (../spark-thrift/) cannot do: faults on demand and fast protocol tests
// without a JVM; the app's answers on a real Spark SQL engine are tested there.
// A protocol-level stand-in for a Databricks SQL warehouse: TCLIService (the IDL the @databricks/sql driver ships,
// served by its generated Processor) over HTTPS, Thrift binary protocol in the body of POST requests to the HTTP
// path, as the driver's ThriftHttpConnection speaks it, with bearer-token auth, backed by DuckDB.
//
//   const server = await startThriftServer({ duckdb: async (c) => { await c.run('CREATE TABLE ...') }, token: 't' });
//   new DBSQLClient().connect({ host: server.host, port: server.port, path: server.path, token: 't',
//                              checkServerCertificate: false, telemetryEnabled: false });
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { selfSignedCertificate } from './certificate.ts';
import { TCLIServiceHandler } from './service.ts';
import type { DatabaseSource, ThriftServerFaults } from './service.ts';
import { TCLIService, thrift } from './runtime.ts';
import { readBody } from '../../../src/standins/http-body.ts';

export type { ThriftServerFaults } from './service.ts';

export interface ThriftServerOptions {
  /**
   * The data: a DuckDB connection all sessions share (statements run one at a time), an instance (each session
   * gets its own connection), or a setup function run on a new in-memory database (each session gets its own
   * connection to it).
   */
  duckdb: DuckDBConnection | DuckDBInstance | ((connection: DuckDBConnection) => Promise<void>);
  /** The personal access token clients must send as `Authorization: Bearer <token>`. */
  token: string;
  /** Defaults to /sql/1.0/warehouses/thrift-test. */
  path?: string;
  /** Defaults to 0: a free port. */
  port?: number;
  /** Rows per FetchResults at most (default 10 000), whatever the client asks for. */
  maxRowsPerFetch?: number;
  /** How long ExecuteStatement waits for a result when direct results are asked for (default 1000 ms). */
  directResultsWaitMs?: number;
}

export interface ThriftServer {
  host: string;
  port: number;
  path: string;
  /** Faults to switch on and off while the server runs. */
  faults: ThriftServerFaults;
  /** Calls per TCLIService method since the start. */
  calls: Record<string, number>;
  /** Stops accepting connections (clients get ECONNREFUSED) and drops open ones; `resume()` listens again. */
  refuseConnections(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

const host = '127.0.0.1';

export async function startThriftServer(options: ThriftServerOptions): Promise<ThriftServer> {
  if (!options.token) throw new Error('startThriftServer needs a token for clients to present');
  const { database, release } = await openDatabase(options.duckdb);
  const path = options.path ?? '/sql/1.0/warehouses/thrift-test';
  const faults: ThriftServerFaults = { responseDelayMs: 0, queryDelayMs: 0 };
  const calls: Record<string, number> = {};
  const handler = new TCLIServiceHandler({
    database,
    faults,
    calls,
    maxRowsPerFetch: options.maxRowsPerFetch ?? 10_000,
    directResultsWaitMs: options.directResultsWaitMs ?? 1000,
  });
  const processor = new TCLIService.Processor(handler.methods());
  const expected = Buffer.from(`Bearer ${options.token}`);

  const { key, cert } = await selfSignedCertificate();
  const sockets = new Set<Socket>();
  const server = https.createServer({ key, cert }, (request, response) => {
    void respond(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end(error instanceof Error ? error.message : String(error));
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function respond(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (faults.responseDelayMs > 0)
      await new Promise((resolve) => setTimeout(resolve, faults.responseDelayMs));
    const url = new URL(request.url ?? '/', `https://${host}`);
    if (url.pathname !== path)
      return plain(response, 404, `no warehouse at ${url.pathname}; the HTTP path is ${path}`);
    if (request.method !== 'POST') return plain(response, 405, 'TCLIService takes POST requests');
    if (!authorized(request.headers.authorization, expected)) {
      response.setHeader('WWW-Authenticate', 'Bearer');
      return plain(response, 401, 'Invalid access token.');
    }
    const reply = await processMessage(body);
    response.writeHead(200, { 'Content-Type': 'application/x-thrift', 'Content-Length': reply.length });
    response.end(reply);
  }

  // One Thrift message in, one out; the Processor answers through the output transport's flush.
  function processMessage(body: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const output = new thrift.TBinaryProtocol(new thrift.TBufferedTransport(undefined, resolve));
      thrift.TBufferedTransport.receiver((transport) => {
        try {
          processor.process(new thrift.TBinaryProtocol(transport), output);
          transport.commitPosition();
        } catch (error) {
          reject(
            error instanceof thrift.InputBufferUnderrunError ? new Error('truncated Thrift message') : error,
          );
        }
      })(body);
    });
  }

  let port = await listen(server, options.port ?? 0);
  let refusing = false;
  let closed = false;
  return {
    host,
    get port() {
      return port;
    },
    path,
    faults,
    calls,
    async refuseConnections() {
      if (refusing) return;
      refusing = true;
      await stopListening(server, sockets);
    },
    async resume() {
      if (!refusing || closed) return;
      port = await listen(server, port);
      refusing = false;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!refusing) await stopListening(server, sockets);
      refusing = true;
      await handler.closeAll();
      release();
    },
  };
}

async function openDatabase(
  duckdb: ThriftServerOptions['duckdb'],
): Promise<{ database: DatabaseSource; release: () => void }> {
  if (duckdb instanceof DuckDBConnection)
    return { database: { kind: 'shared', connection: duckdb }, release: () => {} };
  if (duckdb instanceof DuckDBInstance)
    return { database: { kind: 'per-session', instance: duckdb }, release: () => {} };
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await duckdb(connection);
  } catch (error) {
    connection.closeSync();
    instance.closeSync();
    throw error;
  }
  return {
    database: { kind: 'per-session', instance },
    release: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

function authorized(header: string | undefined, expected: Buffer): boolean {
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function plain(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain' });
  response.end(message);
}

function listen(server: https.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function stopListening(server: https.Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
}
