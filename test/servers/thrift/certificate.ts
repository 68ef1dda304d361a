// A self-signed certificate for the test server, made by openssl when first needed and kept in memory only:
// no key is written to disk or committed (secret scanners would flag a committed private key).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface Certificate {
  key: string;
  cert: string;
}

const run = promisify(execFile);
let pending: Promise<Certificate> | undefined;

/** A P-256 certificate for localhost and 127.0.0.1, valid for two days; the same one for the whole process. */
export function selfSignedCertificate(): Promise<Certificate> {
  pending ??= generate().catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function generate(): Promise<Certificate> {
  const args = [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    '-',
    '-out',
    '-',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ];
  let stdout: string;
  try {
    ({ stdout } = await run('openssl', args, { encoding: 'utf8' }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `the Thrift test server needs openssl on PATH to make its self-signed certificate: ${reason}`,
      { cause: error },
    );
  }
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(stdout)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(stdout)?.[0];
  if (!key || !cert) throw new Error('openssl req printed no PEM private key and certificate');
  return { key, cert };
}
