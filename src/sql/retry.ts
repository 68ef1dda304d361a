// Connecting to a database over the network fails now and then for reasons that pass (a server restarting,
// a failover, a full connection pool). Connecting is retried with backoff; a statement never is: once a
// transaction has started, a failure rolls the object back and the next run loads it again.
import { nextAttemptNote, retrying, type RetryPolicy } from '../util/backoff.ts';
import { errorMessage } from '../util/log.ts';

/**
 * The waits double without jitter: one loader reconnects, not a crowd of clients, and the log then says exactly
 * when the next attempt comes.
 */
export const CONNECT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  jitter: false,
};

/** The policy (CONNECT_RETRY where not given) and where each retry is told. */
export type RetryOptions = Partial<RetryPolicy> & { onRetry?(message: string): void };

/** Socket-level and server-starting errors, by code, across pg, mysql2 and tedious. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  // PostgreSQL: the database system is starting up / shutting down / too many connections.
  '57P03',
  '57P01',
  '53300',
  // MySQL/MariaDB: too many connections, server shutting down, lost connection during the handshake.
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_NET_READ_ERROR',
  // mssql: socket errors and timeouts while connecting.
  'ESOCKET',
  'ETIMEOUT',
  'ECONNCLOSED',
]);

/** Azure SQL / SQL Server error numbers documented as transient (service busy, database moving, failover). */
const TRANSIENT_SQLSERVER_NUMBERS = new Set([4060, 40197, 40501, 40613, 49918, 49919, 49920, 10928, 10929]);

/** pg reports a connection that went away by message only. */
const LOST_CONNECTION = /Connection terminated|not queryable|terminating connection|Connection lost/i;

interface ErrorLike {
  code?: unknown;
  number?: unknown;
  fatal?: unknown;
  message?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

export function isTransient(e: unknown): boolean {
  for (
    let cause = e as ErrorLike | undefined;
    cause;
    cause = (cause.originalError ?? cause.cause) as ErrorLike
  ) {
    if (typeof cause.code === 'string' && TRANSIENT_CODES.has(cause.code)) return true;
    if (typeof cause.number === 'number' && TRANSIENT_SQLSERVER_NUMBERS.has(cause.number)) return true;
    if (typeof cause.message === 'string' && LOST_CONNECTION.test(cause.message)) return true;
    // mysql2 marks an error after which the connection is unusable as fatal.
    if (cause.fatal === true) return true;
  }
  return false;
}

export async function withRetry<T>(
  what: string,
  work: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const { onRetry, ...policy } = options;
  let attempts = 0;
  try {
    return await retrying(
      (attempt) => {
        attempts = attempt;
        return work();
      },
      {
        policy: { ...CONNECT_RETRY, ...policy },
        retryable: isTransient,
        onRetry: (notice) => onRetry?.(`${what}: ${errorMessage(notice.error)}; ${nextAttemptNote(notice)}`),
      },
    );
  } catch (e) {
    throw new Error(`${what}: ${errorMessage(e)}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`, {
      cause: e,
    });
  }
}
