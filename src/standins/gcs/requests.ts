// What a request to the GCS test server asks for: its route (the operation, bucket and object from the method and
// the path, production or emulator form), its preconditions, object name and resource fields, and its ranges.
import type { FaultKind } from './faults.ts';
import { HttpError, type Exchange, type Route } from './exchange.ts';
import { PRECONDITION_PARAMS, type ObjectFields, type Preconditions } from './store.ts';

export const FAULT_REASONS: Partial<Record<FaultKind, string>> = {
  '429': 'rateLimitExceeded',
  '408': 'requestTimeout',
  '500': 'backendError',
  '503': 'backendError',
};

export function routeOf(
  method: string,
  url: URL,
  query: Record<string, string>,
  contentRange: string | undefined,
): Route {
  const p = url.pathname;
  let m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o\/?$/.exec(p);
  if (m) {
    const bucket = decodeURIComponent(m[1]!);
    const object = query.name;
    const named = object === undefined ? {} : { object };
    if (method === 'POST') {
      const kind =
        query.uploadType === 'media'
          ? 'upload-media'
          : query.uploadType === 'multipart'
            ? 'upload-multipart'
            : query.uploadType === 'resumable'
              ? 'resumable-start'
              : 'unknown';
      return { kind, bucket, ...named };
    }
    if (method === 'PUT' && query.upload_id)
      return {
        kind: /^bytes \*\//.test(contentRange ?? '') ? 'resumable-status' : 'resumable-chunk',
        bucket,
        ...named,
      };
    if (method === 'DELETE' && query.upload_id) return { kind: 'resumable-cancel', bucket, ...named };
    return { kind: 'unknown', bucket };
  }
  m = /^\/download\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(p);
  if (m && method === 'GET')
    return { kind: 'media', bucket: decodeURIComponent(m[1]!), object: decodeURIComponent(m[2]!) };
  m = /^(?:\/storage\/v1)?\/b\/([^/]+)(\/o(?:\/(.+))?)?\/?$/.exec(p);
  if (m) {
    const bucket = decodeURIComponent(m[1]!);
    if (m[2] === undefined)
      return method === 'GET' ? { kind: 'bucket', bucket } : { kind: 'unknown', bucket };
    if (m[3] === undefined) return method === 'GET' ? { kind: 'list', bucket } : { kind: 'unknown', bucket };
    const object = decodeURIComponent(m[3]);
    if (method === 'GET') return { kind: query.alt === 'media' ? 'media' : 'get', bucket, object };
    if (method === 'DELETE') return { kind: 'delete', bucket, object };
    if (method === 'PATCH') return { kind: 'patch', bucket, object };
    return { kind: 'unknown', bucket, object };
  }
  return { kind: 'unknown' };
}

export function preconditionsOf(query: Record<string, string>): Preconditions {
  const p: Preconditions = {};
  for (const key of PRECONDITION_PARAMS) {
    const value = query[key];
    if (value === undefined) continue;
    if (!/^\d+$/.test(value))
      throw new HttpError(
        400,
        'invalid',
        `Invalid argument: ${key}=${JSON.stringify(value)} is not a non-negative integer`,
      );
    p[key] = String(BigInt(value));
  }
  return p;
}

export function requiredName(x: Exchange, fromBody: unknown): string {
  const name = x.query.name ?? (typeof fromBody === 'string' ? fromBody : undefined);
  if (!name)
    throw new HttpError(
      400,
      'required',
      'Required: the object name (the name query parameter or the resource name)',
    );
  if (Buffer.byteLength(name) > 1024)
    throw new HttpError(400, 'invalid', 'The object name is longer than 1024 bytes');
  x.route.object = name;
  x.record.object = name;
  return name;
}

export function fieldsOf(body: Record<string, unknown>): ObjectFields {
  const fields: ObjectFields = {};
  for (const key of [
    'contentType',
    'contentEncoding',
    'contentDisposition',
    'contentLanguage',
    'cacheControl',
  ] as const)
    if (typeof body[key] === 'string') fields[key] = body[key];
  if (body.metadata !== undefined) {
    if (typeof body.metadata !== 'object' || body.metadata === null)
      throw new HttpError(400, 'invalid', 'metadata must be an object of strings');
    fields.metadata = Object.fromEntries(
      Object.entries(body.metadata).map(([k, v]) => [
        k,
        v === null ? (null as unknown as string) : String(v),
      ]),
    );
  }
  return fields;
}

export function parseContentRange(
  header: string | undefined,
): { start?: number; end?: number; total?: number } | undefined {
  if (header === undefined) return { start: 0 }; // the whole object in one request
  const m = /^bytes (?:\*|(\d+)-(\d+|\*))\/(\d+|\*)$/.exec(header.trim());
  if (!m) return undefined;
  const range: { start?: number; end?: number; total?: number } = {};
  if (m[1] !== undefined) {
    range.start = Number(m[1]);
    if (m[2] !== '*') {
      range.end = Number(m[2]);
      if (range.end < range.start) return undefined;
    }
  }
  if (m[3] !== '*') range.total = Number(m[3]);
  return range;
}

export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Math.min(Number(m[2]), size);
    return { start: size - suffix, end: size - 1 };
  }
  const start = Number(m[1]);
  if (start >= size) return 'unsatisfiable';
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}
