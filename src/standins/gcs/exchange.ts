// One request and its answer in the GCS test server: what the router made of it, the body read under the fault it
// drew (cut off mid-body, answer lost), the JSON and error replies, and the errors that become HTTP statuses.
import type http from 'node:http';
import type { FaultKind } from './faults.ts';
import { PreconditionFailed } from './store.ts';

export type RequestKind =
  | 'list'
  | 'get'
  | 'media'
  | 'patch'
  | 'delete'
  | 'bucket'
  | 'upload-media'
  | 'upload-multipart'
  | 'resumable-start'
  | 'resumable-chunk'
  | 'resumable-status'
  | 'resumable-cancel'
  | 'unknown';

export interface RequestRecord {
  seq: number;
  method: string;
  path: string;
  query: Record<string, string>;
  kind: RequestKind;
  bucket?: string;
  object?: string;
  /** 0 when the server reset the connection instead of answering. */
  status: number;
  fault?: FaultKind;
  /** Body bytes the server read. */
  bytesIn: number;
  ms: number;
  /** An unexpected server-side error (a bug in the server or a malformed request it did not anticipate). */
  error?: string;
}

export interface Route {
  kind: RequestKind;
  bucket?: string;
  object?: string;
}

export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

/** The request broke off (a `reset` fault, or the client went away) before its body was read. */
export class ConnectionCut extends Error {
  override name = 'ConnectionCut';
}

export interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  query: Record<string, string>;
  route: Route;
  record: RequestRecord;
  /** The server's own address as the client reached it, for links in resources. */
  base: string;
  /** Read this many body bytes, then reset the connection. */
  cutAt?: number;
  /** Do the work, then reset the connection instead of answering. */
  loseResponse: boolean;
  /** Change a byte of an upload before storing it. */
  corrupt: boolean;
}

/** The request body, counted, and cut off where a `reset` fault says. */
export async function* bodyOf(x: Exchange): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of x.req as AsyncIterable<Buffer>) {
      if (x.cutAt !== undefined && x.record.bytesIn + chunk.length >= x.cutAt) {
        const part = chunk.subarray(0, x.cutAt - x.record.bytesIn);
        x.record.bytesIn += part.length;
        if (part.length) yield part;
        resetConnection(x);
        throw new ConnectionCut('reset mid-body');
      }
      x.record.bytesIn += chunk.length;
      yield chunk;
    }
  } catch (e) {
    if (e instanceof ConnectionCut) throw e;
    // The client went away mid-body.
    throw new ConnectionCut(e instanceof Error ? e.message : String(e));
  }
  if (x.cutAt !== undefined) {
    resetConnection(x);
    throw new ConnectionCut('reset after the body');
  }
}

export async function drain(x: Exchange): Promise<void> {
  for await (const _ of bodyOf(x));
}

export async function readJson(x: Exchange): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of bodyOf(x)) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new HttpError(400, 'parseError', `the request body is not a JSON object: ${text.slice(0, 100)}`);
}

export function reply(
  x: Exchange,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (x.loseResponse) return resetConnection(x);
  if (x.res.headersSent) {
    x.res.destroy();
    return;
  }
  const text = body === undefined ? '' : JSON.stringify(body);
  x.res.writeHead(status, {
    ...headers,
    ...(text ? { 'content-type': 'application/json; charset=UTF-8' } : {}),
    'content-length': String(Buffer.byteLength(text)),
  });
  x.res.end(text);
  x.record.status = status;
}

export function resetConnection(x: Exchange): void {
  x.record.status = 0;
  x.req.socket.resetAndDestroy();
}

export function hasBody(req: http.IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

export function errorBody(e: HttpError) {
  return {
    error: {
      code: e.status,
      message: e.message,
      errors: [{ message: e.message, domain: 'global', reason: e.reason }],
    },
  };
}

export function asHttpError(e: unknown): unknown {
  if (e instanceof HttpError) return e;
  if (e instanceof PreconditionFailed)
    return new HttpError(
      412,
      'conditionNotMet',
      `At least one of the pre-conditions you specified did not hold: ${e.message}`,
    );
  if (e instanceof Error && /^no such object/.test(e.message))
    return new HttpError(404, 'notFound', e.message);
  return e;
}
