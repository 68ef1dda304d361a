// Which failures of the GCS client library are worth another attempt, and how a failure is told in one line.
import { RETRYABLE_ERR_FN_DEFAULT } from '@google-cloud/storage';
import { ObjectNotFoundError, PreconditionFailedError } from './types.ts';
import { isTransientStatus } from '../http/index.ts';
import { errorMessage } from '../util/log.ts';

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The stored object is not what was sent (it was removed): another attempt writes it again. */
export class IntegrityError extends Error {
  override name = 'IntegrityError';
}

export function statusOf(e: unknown): number | undefined {
  const err = e as { code?: unknown; status?: unknown; response?: { status?: unknown } } | undefined;
  // The client reports a failed request inside a resumable session as "Retry limit exceeded ... status: 503".
  const fromMessage = /^Retry limit exceeded.*?\bstatus: (\d{3})/.exec((e as Error)?.message ?? '')?.[1];
  for (const value of [err?.code, err?.status, err?.response?.status, fromMessage])
    if (typeof value === 'number') return value;
    else if (typeof value === 'string' && /^\d{3}$/.test(value)) return Number(value);
  return undefined;
}

export function isTransient(e: unknown): boolean {
  if (e instanceof PreconditionFailedError || e instanceof ObjectNotFoundError) return false;
  if (e instanceof IntegrityError) return true;
  // With its retries off, the client ends a resumable session's request this way on a transient failure.
  if (e instanceof Error && /^Retry limit exceeded/.test(e.message)) return true;
  const status = statusOf(e);
  if (status !== undefined && status > 0 && isTransientStatus(status)) return true;
  const err = e as { code?: unknown; cause?: { code?: unknown } };
  if (typeof err?.code === 'string' && TRANSIENT_CODES.has(err.code)) return true;
  if (typeof err?.cause?.code === 'string' && TRANSIENT_CODES.has(err.cause.code)) return true;
  return RETRYABLE_ERR_FN_DEFAULT(e as Parameters<typeof RETRYABLE_ERR_FN_DEFAULT>[0]);
}

/** One line about a failure, for logs: status or code, and the service's message, without session URLs. */
export function describe(e: unknown): string {
  const err = e as
    { code?: unknown; message?: unknown; name?: unknown; cause?: { code?: unknown } } | undefined;
  const status = statusOf(e);
  const code = [err?.code, err?.cause?.code].find(
    (c): c is string => typeof c === 'string' && !/^\d+$/.test(c),
  );
  const label = status ? `HTTP ${status}` : (code ?? (typeof err?.name === 'string' ? err.name : 'error'));
  let message = typeof err?.message === 'string' ? err.message : '';
  // The JSON API's own message, when the error carries the response body.
  message = /"message":\s*"((?:[^"\\]|\\.)*)"/.exec(message)?.[1] ?? message;
  message = errorMessage(message)
    .split('\n')[0]!
    .replace(/^Retry limit exceeded - (status: \d+ - )?/, '') // the client's wording, though it does not retry here
    .replace(/request to \S+ failed, reason: /, '')
    .replace(/ - code: \w+$/, '')
    // A resumable session URL lets anyone holding it write to the object: keep its id out of logs.
    .replace(/(upload_id=)[^&\s]+/g, '$1***')
    .slice(0, 300);
  return message && !message.includes(label) ? `${label}: ${message}` : message || label;
}
