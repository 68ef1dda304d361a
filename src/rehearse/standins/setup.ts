// actions/setup-node and actions/setup-java: nothing is downloaded here; each checks the version asked for
// against the machine's own and says so (a warning when they differ), and the steps run on the machine's.
import { spawnSync } from 'node:child_process';
import type { StepCall, StepDone } from '../runtime.ts';
import { setOutput, type Standin } from './io.ts';

export const setupNode: Standin = {
  action: 'actions/setup-node',
  onGitHub:
    'downloads the Node.js asked for (node-version or node-version-file), puts it on PATH, and with `cache:` restores the package manager’s cache.',
  here: 'checks the version asked for against the local Node and says so (a warning when the major versions differ); the steps run on the local Node; there is no cache service (npm uses the machine’s own cache).',
  inputs: [
    'node-version',
    'node-version-file',
    'architecture',
    'check-latest',
    'token',
    'cache',
    'package-manager-cache',
    'cache-dependency-path',
    'registry-url',
    'scope',
    'always-auth',
    'mirror',
    'mirror-token',
  ],
  run: async (call) => {
    const asked = call.inputs['node-version'] || '(unspecified)';
    return compareVersions(call, 'Node', asked, process.versions.node);
  },
};

export const setupJava: Standin = {
  action: 'actions/setup-java',
  onGitHub:
    'downloads the JDK asked for (java-version, distribution), sets JAVA_HOME and PATH, and can cache Maven or Gradle.',
  here: 'checks the version asked for against the local `java -version` and says so (a warning when the major versions differ, a failure when there is no Java); the steps run on the local Java.',
  inputs: [
    'java-version',
    'java-version-file',
    'distribution',
    'java-package',
    'architecture',
    'jdkFile',
    'check-latest',
    'server-id',
    'server-username',
    'server-password',
    'settings-path',
    'overwrite-settings',
    'gpg-private-key',
    'gpg-passphrase',
    'cache',
    'cache-dependency-path',
    'job-status',
    'token',
    'mvn-toolchain-id',
    'mvn-toolchain-vendor',
  ],
  run: async (call) => {
    // java -version answers on stderr.
    const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
    if (java.error || java.status !== 0)
      return { ok: false, reason: 'actions/setup-java: no Java on this machine (java -version failed)' };
    const local = versionIn(java.stderr || java.stdout);
    return compareVersions(call, 'Java', call.inputs['java-version'] || '(unspecified)', local);
  },
};

function versionIn(text: string): string {
  return /version "([^"]+)"/.exec(text)?.[1] ?? text.split('\n')[0]!;
}

function compareVersions(call: StepCall, tool: string, asked: string, local: string): StepDone {
  const major = (v: string) => /\d+/.exec(v)?.[0];
  const same = major(asked) === major(local);
  const message = `${tool} ${asked} asked for; the local ${tool} is ${local}${same ? '' : ' (a different major version: the steps run on the local one)'}`;
  call.io.log(message);
  if (!same) call.io.annotations.push({ level: 'warning', message });
  setOutput(call, `${tool.toLowerCase()}-version`, local);
  return { ok: true };
}
