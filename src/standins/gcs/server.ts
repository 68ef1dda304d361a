// A Google Cloud Storage JSON API server for tests, written from Google's API reference: objects insert
// (uploadType=media, multipart and resumable, with chunked resumable sessions that can be resumed after a broken
// request), get (resource and alt=media, with Range), list (prefix, delimiter, pageToken, maxResults,
// startOffset, endOffset), patch and delete; generations and metagenerations with the four if*Match
// preconditions; md5Hash and crc32c computed by the server; Content-Encoding: gzip stored as sent. It answers both
// the production paths (/storage/v1/b/..., as the client sends them with `apiEndpoint`) and the shortened ones the
// client sends when STORAGE_EMULATOR_HOST is set (/b/...). Faults are switchable at run time (see faults.ts), and
// every request is recorded in `requests`.
//
// This file starts the server and dispatches; requests.ts routes and parses a request, objects.ts and resumable.ts
// serve it, exchange.ts reads bodies and answers, resource.ts shapes objects as the API shows them, store.ts keeps
// them (bytes, generations, preconditions), faults.ts decides the injected faults.
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  ConnectionCut,
  drain,
  errorBody,
  hasBody,
  HttpError,
  reply,
  resetConnection,
  type Exchange,
  type RequestRecord,
} from './exchange.ts';
import { Faults, type FaultTarget } from './faults.ts';
import { GcsObjects } from './objects.ts';
import { FAULT_REASONS, routeOf } from './requests.ts';
import { resource } from './resource.ts';
import { ResumableUploads } from './resumable.ts';
import { GcsStore } from './store.ts';

export type { RequestKind, RequestRecord } from './exchange.ts';
export { RESUMABLE_QUANTUM } from './resumable.ts';

export interface GcsServerOptions {
  /** Buckets that exist from the start (default: `test-bucket`). */
  buckets?: string[];
  /** Folder for object bytes (default: a new temporary folder, removed by close()); a given folder is kept, and
   * close() writes the object index into it (a server started on it later serves the same objects). */
  dir?: string;
  host?: string;
  port?: number;
}

export interface GcsServer {
  /** Give it to the client as `apiEndpoint`, or as STORAGE_EMULATOR_HOST. */
  url: string;
  store: GcsStore;
  faults: Faults;
  requests: RequestRecord[];
  /** Called before each request is served, e.g. to change an object as another writer would in between. */
  onRequest?: (request: FaultTarget & { query: Record<string, string> }) => void | Promise<void>;
  close(): Promise<void>;
}

export async function startGcsServer(options: GcsServerOptions = {}): Promise<GcsServer> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'gcs-server-')));
  const store = new GcsStore(dir);
  for (const bucket of options.buckets ?? ['test-bucket']) store.createBucket(bucket);
  const faults = new Faults();
  const requests: RequestRecord[] = [];
  const objects = new GcsObjects(store);
  const uploads = new ResumableUploads(store);
  let seq = 0;

  const handle: GcsServer = {
    url: '',
    store,
    faults,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownDir) await fsp.rm(dir, { recursive: true, force: true });
      else store.save();
    },
  };

  const server = http.createServer((req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const route = routeOf(req.method ?? 'GET', url, query, req.headers['content-range']);
    const record: RequestRecord = {
      seq: ++seq,
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      kind: route.kind,
      ...(route.bucket !== undefined ? { bucket: route.bucket } : {}),
      ...(route.object !== undefined ? { object: route.object } : {}),
      status: 0,
      bytesIn: 0,
      ms: 0,
    };
    requests.push(record);
    const base = `http://${req.headers.host ?? handle.url.replace(/^http:\/\//, '')}`;
    const exchange: Exchange = {
      req,
      res,
      url,
      query,
      route,
      record,
      base,
      loseResponse: false,
      corrupt: false,
    };
    serve(exchange, { handle, faults, store, objects, uploads })
      .catch(async (e: unknown) => {
        if (e instanceof ConnectionCut) return;
        // Answer only once the client has sent its whole body, as a server must.
        if (!req.readableEnded && !req.destroyed) await drain(exchange).catch(() => {});
        if (e instanceof HttpError)
          return reply(exchange, e.status, e.status === 304 ? undefined : errorBody(e));
        record.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
        return reply(exchange, 500, errorBody(new HttpError(500, 'backendError', String(e))));
      })
      .catch(() => {})
      .finally(() => {
        record.ms = performance.now() - started;
      });
  });

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const address = server.address() as { address: string; port: number };
  handle.url = `http://${address.address}:${address.port}`;
  return handle;
}

/** What serving a request needs of the server. */
interface Served {
  handle: GcsServer;
  faults: Faults;
  store: GcsStore;
  objects: GcsObjects;
  uploads: ResumableUploads;
}

/** Serves one request: the fault it draws first, then the operation its route names. */
async function serve(x: Exchange, server: Served): Promise<void> {
  const { handle, faults, store, objects, uploads } = server;
  const { route, record } = x;
  await handle.onRequest?.({ method: record.method, ...route, query: x.query });
  const fault = faults.decide({
    method: record.method,
    kind: route.kind,
    bucket: route.bucket,
    object: route.object,
  });
  if (fault) record.fault = fault;
  if (fault === 'slow') await new Promise((r) => setTimeout(r, faults.slowMs));
  if (fault && /^\d+$/.test(fault)) {
    await drain(x);
    throw new HttpError(Number(fault), FAULT_REASONS[fault] ?? 'backendError', `injected fault ${fault}`);
  }
  if (fault === 'reset') {
    const length = Number(x.req.headers['content-length'] ?? (hasBody(x.req) ? NaN : 0));
    if (length === 0 || length === 1) return resetConnection(x);
    // Cut mid-body: half of a known length, or 64 KiB into a chunked body.
    x.cutAt = Number.isNaN(length) ? 64 * 1024 : Math.floor(length / 2);
  }
  x.loseResponse = fault === 'lost-response';
  x.corrupt = fault === 'corrupt';

  if (route.bucket !== undefined && !store.hasBucket(route.bucket)) {
    await drain(x);
    throw new HttpError(404, 'notFound', 'The specified bucket does not exist.');
  }
  switch (route.kind) {
    case 'bucket':
      return reply(x, 200, { kind: 'storage#bucket', id: route.bucket, name: route.bucket });
    case 'list':
      return reply(x, 200, objects.listObjects(route.bucket!, x.query, x.base));
    case 'get':
      return reply(x, 200, resource(objects.objectFor(x, 'read'), x.base));
    case 'media':
      return objects.sendMedia(x, objects.objectFor(x, 'read'));
    case 'patch':
      return objects.patchObject(x);
    case 'delete':
      return objects.deleteObject(x);
    case 'upload-media':
      return objects.uploadMedia(x);
    case 'upload-multipart':
      return objects.uploadMultipart(x);
    case 'resumable-start':
      return uploads.startResumable(x);
    case 'resumable-chunk':
    case 'resumable-status':
      return uploads.continueResumable(x);
    case 'resumable-cancel':
      return uploads.cancelResumable(x);
    case 'unknown':
      await drain(x);
      throw new HttpError(404, 'notFound', `no such API: ${x.record.method} ${x.url.pathname}`);
  }
}
