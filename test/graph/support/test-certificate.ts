import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A throw-away TLS identity for 127.0.0.1, made for one test file and trusted by that file alone. */
export interface TestCertificate {
  key: string;
  cert: string;
  /** The certificate's file, e.g. for a child process's NODE_EXTRA_CA_CERTS. */
  certPath: string;
  remove(): void;
}

/**
 * MSAL accepts only https:// authorities and the Graph client sends its token only over https, so
 * the stand-ins speak TLS. The self-signed certificate is generated with the openssl CLI at test
 * time (valid for one day, for 127.0.0.1 only), so no key is ever committed.
 */
export function createTestCertificate(): TestCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'nhsmail-test-tls-'));
  const keyPath = path.join(dir, 'key.pem');
  const certPath = path.join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        '1',
        '-subj',
        '/CN=nhsmail-bot test stand-in',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `The Graph tests need the openssl command to make a test certificate: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  return {
    key: readFileSync(keyPath, 'utf8'),
    cert: readFileSync(certPath, 'utf8'),
    certPath,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
