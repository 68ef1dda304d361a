// Each network session's connection handling through its real driver, against a port where nothing listens:
// the connection is retried with backoff, then fails with a message that names the server and never the password.
import { describe, expect, it } from 'vitest';
import { openMysql } from '../../src/sql/mysql/session.ts';
import { openPostgres } from '../../src/sql/postgres/session.ts';
import { isTransient } from '../../src/sql/retry.ts';
import { openSqlServer } from '../../src/sql/sqlserver/session.ts';
import { freePort } from '../helpers/private-servers.ts';

const PASSWORD = 'never-Shown-4711';

describe('connecting with retries', async () => {
  const port = await freePort();
  const retry = (retries: string[]) => ({
    maxAttempts: 3,
    initialDelayMs: 10,
    onRetry: (m: string) => retries.push(m),
  });

  it.each([
    [
      'PostgreSQL',
      (retries: string[]) =>
        openPostgres(
          { engine: 'postgres', connection: `postgres://loader:${PASSWORD}@127.0.0.1:${port}/shop` },
          { retry: retry(retries) },
        ),
      `connecting on PostgreSQL loader@127.0.0.1:${port}/shop: `,
      /ECONNREFUSED/,
    ],
    [
      'MySQL',
      (retries: string[]) =>
        openMysql(
          { engine: 'mysql', connection: `mysql://loader:${PASSWORD}@127.0.0.1:${port}/shop` },
          { retry: retry(retries) },
        ),
      `connecting on MySQL loader@127.0.0.1:${port}/shop: `,
      /ECONNREFUSED/,
    ],
    [
      'SQL Server',
      (retries: string[]) =>
        openSqlServer(
          {
            engine: 'sqlserver',
            connection: `Server=127.0.0.1,${port};Database=shop;User Id=loader;Password=${PASSWORD};Encrypt=false`,
          },
          { retry: retry(retries) },
        ),
      `connecting on SQL Server loader@127.0.0.1:${port}/shop: `,
      // tedious reports a refused connection in its own words.
      new RegExp(`Failed to connect to 127\\.0\\.0\\.1:${port}`),
    ],
  ])('%s: retries a refused connection, then fails naming the server', async (_, open, prefix, refused) => {
    const retries: string[] = [];
    const error = await open(retries).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message.startsWith(prefix)).toBe(true);
    expect(error!.message).toMatch(refused);
    expect(error!.message).toMatch(/\(after 3 attempts\)$/);
    expect(error!.message).not.toContain(PASSWORD);
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/retrying in 10 ms \(attempt 2 of 3\)$/);
    expect(retries[1]).toMatch(/retrying in 20 ms \(attempt 3 of 3\)$/);
    expect(isTransient(error!.cause)).toBe(true);
  });

  it('does not retry what retrying cannot fix', () => {
    expect(isTransient(Object.assign(new Error('syntax error at or near "x"'), { code: '42601' }))).toBe(
      false,
    );
    expect(isTransient(Object.assign(new Error('Login failed for user'), { code: 'ELOGIN' }))).toBe(false);
    expect(isTransient(Object.assign(new Error('x'), { number: 40613 }))).toBe(true);
    expect(
      isTransient(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) })),
    ).toBe(true);
  });
});
