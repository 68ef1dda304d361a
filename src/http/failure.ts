// What counts as a failed HTTP request, which failures are tried again, and how a failure is told.
//
// A failure is tried again only when it may pass (no answer at all, 408, 429, a 5xx other than 501) and repeating
// the request cannot do its work twice: its method is idempotent, the caller marks it `guarded` (idempotent by
// what it does, or carrying an idempotency token), or the server surely did not act on it — it refused it (429),
// or the connection was refused before anything was sent. A POST whose answer was lost may have done its work.

export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: Headers;
  text: string;
}

/** A request that failed, as the caller's `toError` sees it: never its headers or body, where secrets travel. */
export interface HttpFailure {
  method: string;
  /** The request's URL as messages show it (by default without the query string, which may carry a key). */
  shown: string;
  /** The answer's status; 0 when none came. */
  status: number;
  answer?: HttpAnswer;
  /** Why no answer came: ECONNRESET, "the request timed out"… */
  cause?: string;
  /** What was wrong with a successful answer, e.g. "expected a JSON answer, found …". */
  problem?: string;
  /** A failure that may pass, not tried again because the request may have done its work. */
  notRepeated: boolean;
}

/** The default error of a failed request: method, URL shown, status, and what the server said. */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly method: string;
  readonly status: number;
  constructor(failure: HttpFailure) {
    const { method, shown, status, answer } = failure;
    const said = failure.problem ?? (answer ? answerMessage(answer.text) : failure.cause);
    const head = status
      ? `HTTP ${status}${answer?.statusText ? ` ${answer.statusText}` : ''}`
      : 'no response';
    super(`${method} ${shown}: ${head}${said ? `: ${said}` : ''}`);
    this.method = method;
    this.status = status;
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Connection errors after which the server surely got nothing: the request did not leave. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/** Statuses that may pass. 501 (Not Implemented) will not. */
export function isTransientStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || (status >= 500 && status !== 501);
}

/** The default refusal: 429 Too Many Requests, which RFC 6585 defines as a request the server did not process. */
export function tooManyRequests(answer: HttpAnswer): boolean {
  return answer.status === 429;
}

export interface RepeatVerdict {
  /** Try it again. */
  repeat: boolean;
  /** It might pass, but was not repeated: it may have done its work. */
  notRepeated: boolean;
}

/**
 * Whether a failed request is tried again. `refused`: the answer (or, with `errorCode`, the connection) says the
 * server did not act on it.
 */
export function repeatVerdict(
  request: { method: string; guarded?: boolean },
  outcome: { status: number; refused?: boolean; errorCode?: string },
): RepeatVerdict {
  const refused = outcome.refused || (outcome.status === 0 && NOT_SENT.has(outcome.errorCode ?? ''));
  const transient = refused || isTransientStatus(outcome.status);
  const safe = refused || request.guarded === true || IDEMPOTENT.has(request.method.toUpperCase());
  return { repeat: transient && safe, notRepeated: transient && !safe };
}

/**
 * What an error answer says: the first of `fields` its JSON body holds as a string, else the body as plain text.
 * Empty when it says nothing.
 */
export function answerMessage(text: string, fields = ['message', 'error_description', 'error']): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    for (const field of fields) {
      const value = body?.[field];
      if (typeof value === 'string' && value) return value;
    }
  } catch {
    // Not JSON: gateways and proxies answer with HTML.
  }
  return plainText(text);
}

/** Text without markup, on one line, at most `max` characters: an HTML error page's first words. */
export function plainText(text: string, max = 200): string {
  return text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);
}
