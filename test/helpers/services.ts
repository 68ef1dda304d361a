// Tests that need a server, a browser or ../shared skip with a printed reason on a developer's machine,
// and fail under CI=true, where everything they need must be present.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const sharedDir = path.resolve(repoRoot, '../shared');
export const inCI = process.env.CI === 'true';

/** Returns true when `what` is available; otherwise skips (printing why) or, under CI=true, throws. */
export async function needs(what: string, probe: () => Promise<string | undefined>): Promise<boolean> {
  const missing = await probe().catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
  if (missing === undefined) return true;
  if (inCI) throw new Error(`${what} is required under CI=true but is unavailable: ${missing}`);
  console.warn(`skipping tests that need ${what}: ${missing}`);
  return false;
}

export function tcpProbe(host: string, port: number): () => Promise<string | undefined> {
  return () =>
    new Promise((resolve) => {
      const socket = net.connect({ host, port, timeout: 2000 });
      socket.once('connect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(`no answer from ${host}:${port}`);
      });
      socket.once('error', (e) => resolve(`cannot connect to ${host}:${port} (${e.message})`));
    });
}

export function pathProbe(p: string): () => Promise<string | undefined> {
  return async () => (fs.existsSync(p) ? undefined : `${p} does not exist`);
}

export const needsShared = () =>
  needs('../shared (fixtures and the groceries dataset)', pathProbe(sharedDir));
export const needsPostgres = () => needs('PostgreSQL at 127.0.0.1:5432', tcpProbe('127.0.0.1', 5432));
export const needsMariaDB = () => needs('MariaDB at 127.0.0.1:3306', tcpProbe('127.0.0.1', 3306));
export const needsChromium = () => needs('Chromium at /usr/bin/chromium', pathProbe('/usr/bin/chromium'));
/** Java 17 and the built Spark module (`(cd spark && mvn -q package)`; .ci/run builds it). */
export const needsSpark = () =>
  needs('Java and the Spark module (spark/target, built by `(cd spark && mvn -q package)`)', async () => {
    const jar = path.join(repoRoot, 'spark/target/lakehouse-spark.jar');
    if (!fs.existsSync(jar)) return `${jar} does not exist: build it with \`(cd spark && mvn -q package)\``;
    const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin/java') : 'java';
    const probe = spawnSync(java, ['-version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0)
      return `\`${java} -version\` failed: ${probe.error?.message ?? probe.stderr}`;
    return undefined;
  });
