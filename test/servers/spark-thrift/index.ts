// Starts the Spark SQL TCLIService stand-in (this folder's Maven module, on the spark/ module's Spark and Delta
// jars) over the Delta tables under a folder, with a TLS keystore made by keytool for this run only.
//
//   const server = await startSparkThriftServer({ deltaRoot, token: 't' });
//   openWarehouse({ host: server.host, port: server.port, httpPath: server.path, token: 't',
//                   checkServerCertificate: false });
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { javaLaunch, sparkModule } from '../../../src/spark/engine.ts';

export const thriftTarget = path.join(import.meta.dirname, 'target');

export interface SparkThriftServer {
  host: string;
  port: number;
  /** Serves every Databricks extension the driver needs; `${path}/hive` none (Spark's own server's protocol). */
  path: string;
  close(): Promise<void>;
}

/** A PKCS12 keystore with a self-signed certificate for 127.0.0.1 and localhost, valid two days. */
async function makeKeystore(dir: string, password: string): Promise<string> {
  const file = path.join(dir, 'server.p12');
  await promisify(execFile)(
    'keytool',
    [
      '-genkeypair',
      '-alias',
      'server',
      '-keyalg',
      'EC',
      '-groupname',
      'secp256r1',
      '-dname',
      'CN=localhost',
      '-ext',
      'SAN=dns:localhost,ip:127.0.0.1',
      '-validity',
      '2',
      '-storetype',
      'PKCS12',
      '-keystore',
      file,
      '-storepass:env',
      'KEYSTORE_PASSWORD',
    ],
    { env: { ...process.env, KEYSTORE_PASSWORD: password } },
  );
  return file;
}

export async function startSparkThriftServer(options: {
  deltaRoot: string;
  token: string;
  /** How long Spark may take to start and register the tables (default 5 minutes). */
  startTimeoutMs?: number;
}): Promise<SparkThriftServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-thrift-'));
  const password = randomBytes(12).toString('hex');
  const keystore = await makeKeystore(dir, password);
  const launch = javaLaunch(sparkModule(), 'lakehouse.thrift.SparkThriftServer', {
    heap: '1g',
    classpath: [path.join(thriftTarget, 'spark-thrift.jar'), path.join(thriftTarget, 'lib/*')],
    args: ['--delta-root', options.deltaRoot],
  });
  const child = spawn(launch.command, launch.args, {
    env: {
      ...process.env,
      SPARK_THRIFT_TOKEN: options.token,
      SPARK_THRIFT_KEYSTORE: keystore,
      SPARK_THRIFT_KEYSTORE_PASSWORD: password,
    },
    // Tables created through the server (spark-warehouse/) live in this run's folder, not in the caller's.
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const close = async () => {
    await stop(child);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await readyPort(child, options.startTimeoutMs ?? 300_000);
    return { host: '127.0.0.1', port, path: '/cliservice', close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The port from the server's {"port": N} line; Spark's log (stderr) is kept for the error if it never comes. */
function readyPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let log = '';
    let out = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`the Spark Thrift stand-in ${why}:\n${log.slice(-4000)}`));
    };
    const timer = setTimeout(() => fail(`did not start within ${timeoutMs} ms`), timeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-20_000);
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /\{"port": (\d+)\}/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => fail(`exited with ${code} before listening`));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
