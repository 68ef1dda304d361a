// Private database servers for tests that stop and start them: a PostgreSQL cluster and a MariaDB server in a
// temporary folder on a free port, so that the shared servers other test files use are never disturbed.
// Tests run as root; PostgreSQL refuses root, so its tools run as the postgres user.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface PrivateServer {
  readonly name: string;
  readonly port: number;
  /** Stops the server at once, like a crash or a kill: open connections break, open transactions are lost. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Why a private server cannot run here, or undefined when it can. */
export function privatePostgresMissing(): string | undefined {
  if (!fs.existsSync(`${PG_BIN}/initdb`)) return `${PG_BIN}/initdb not found`;
  if (process.getuid?.() !== 0) return 'the test must run as root to start PostgreSQL as the postgres user';
  return undefined;
}

export function privateMariadbMissing(): string | undefined {
  for (const tool of ['/usr/bin/mariadb-install-db', '/usr/sbin/mariadbd'])
    if (!fs.existsSync(tool)) return `${tool} not found`;
  return undefined;
}

export async function startPrivatePostgres(): Promise<PrivateServer> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'private-pg-'));
  const data = path.join(dir, 'data');
  await run('chown', ['postgres:postgres', dir]);
  const asPostgres = (tool: string, args: string[]) =>
    run('runuser', ['-u', 'postgres', '--', `${PG_BIN}/${tool}`, ...args], { timeout: 120_000 });
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const server: PrivateServer = {
    name: 'PostgreSQL',
    port,
    stop: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    start: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
    },
    destroy: async () => {
      await server.stop().catch(() => undefined);
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

export async function startPrivateMariadb(): Promise<PrivateServer> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'private-mariadb-'));
  const data = path.join(dir, 'data');
  await run(
    '/usr/bin/mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${data}`,
      '--user=root',
      '--skip-test-db',
      '--auth-root-authentication-method=normal',
    ],
    { timeout: 120_000 },
  );
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: PrivateServer = {
    name: 'MariaDB',
    port,
    stop: async () => {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    },
    start: async () => {
      child = spawn(
        '/usr/sbin/mariadbd',
        [
          '--no-defaults',
          `--datadir=${data}`,
          `--socket=${path.join(dir, 'sock')}`,
          `--port=${port}`,
          '--bind-address=127.0.0.1',
          '--user=root',
          '--skip-grant-tables',
          '--local-infile=1',
          '--innodb-buffer-pool-size=64M',
          `--log-error=${path.join(dir, 'error.log')}`,
          `--pid-file=${path.join(dir, 'mariadbd.pid')}`,
        ],
        { stdio: 'ignore' },
      );
      await waitForPort(port, child, path.join(dir, 'error.log'));
    },
    destroy: async () => {
      await server.stop();
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

async function waitForPort(port: number, child: ChildProcess, log: string): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 100) {
    if (child.exitCode !== null)
      throw new Error(
        `mariadbd exited with ${child.exitCode}: ${await fsp.readFile(log, 'utf8').catch(() => '')}`,
      );
    if (await accepts(port)) return;
    await sleep(100);
  }
  throw new Error(`mariadbd did not listen on port ${port} within 60 s`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
