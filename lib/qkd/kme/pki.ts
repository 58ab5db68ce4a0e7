// The KME network's PKI under DIR/pki/: ca.crt/ca.key, one certificate per KME (subject CN = KME ID,
// SANs = its listen names, serverAuth + clientAuth: KMEs call each other) and per SAE (<ID>.crt/<ID>.key,
// subject CN = SAE ID, clientAuth). All ECDSA P-256. Existing files are reused; only what is missing is
// issued (a KME certificate is re-issued if it lacks a listen name).
//
// Issued in-process with lib/pki/issue.ts (issueCertificate, generateKeyPair('P-256')); the first
// version of this file shelled out to the openssl CLI behind the same createPki function.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generateKeyPair, issueCertificate } from '../../pki/issue.js';
import { parsePrivateKey } from '../../pki/keys.js';
import { parseCertificates } from '../../pki/x509.js';

export interface PkiNames {
  /** KME ID -> the host names / IP addresses it is reached at */
  kmes: { id: string; hosts: string[] }[];
  saes: string[];
}

export interface PkiFiles {
  dir: string;
  ca: string;
  kme: Record<string, { cert: string; key: string }>;
  sae: Record<string, { cert: string; key: string }>;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Creates (or completes) DIR's PKI; safe against another process doing the same at the same time. */
export function createPki(dataDir: string, names: PkiNames): PkiFiles {
  const dir = join(dataDir, 'pki');
  for (const n of [...names.kmes.map((k) => k.id), ...names.saes]) {
    if (!SAFE_NAME.test(n)) throw new Error(`name not usable as a file name: ${n}`);
  }
  mkdirSync(dir, { recursive: true });
  return withLock(join(dir, '.lock'), () => {
    const caCrt = join(dir, 'ca.crt');
    const caKey = join(dir, 'ca.key');
    if (!existsSync(caCrt) || !existsSync(caKey)) {
      const kp = generateKeyPair('P-256');
      const now = Date.now();
      const ca = issueCertificate({
        subject: { CN: 'qtls KME network CA' },
        publicKey: kp.publicKey,
        issuer: 'self',
        issuerKey: kp.privateKey,
        notBefore: new Date(now - 3600_000),
        notAfter: new Date(now + 3650 * 86400_000),
        isCA: true,
      });
      writeAtomic(caKey, kp.pem, 0o600);
      writeAtomic(caCrt, ca.pem, 0o644);
    }
    const files: PkiFiles = { dir, ca: caCrt, kme: {}, sae: {} };
    for (const k of names.kmes) {
      const cert = join(dir, `${k.id}.crt`);
      const key = join(dir, `${k.id}.key`);
      if (!existsSync(cert) || !existsSync(key) || !coversHosts(cert, k.hosts)) {
        issue(dir, k.id, k.hosts, ['serverAuth', 'clientAuth']);
      }
      files.kme[k.id] = { cert, key };
    }
    for (const s of names.saes) {
      const cert = join(dir, `${s}.crt`);
      const key = join(dir, `${s}.key`);
      if (!existsSync(cert) || !existsSync(key)) issue(dir, s, [], ['clientAuth']);
      files.sae[s] = { cert, key };
    }
    return files;
  });
}

function coversHosts(certFile: string, hosts: string[]): boolean {
  const san = new X509Certificate(readFileSync(certFile)).subjectAltName ?? '';
  const have = new Set(san.split(/,\s*/));
  return hosts.every((h) => have.has(isIP(h) ? `IP Address:${h}` : `DNS:${h}`));
}

/** Issues <name>.key / <name>.crt (ECDSA P-256) signed by the CA; each written to a temp file, then renamed. */
function issue(dir: string, name: string, hosts: string[], eku: ('serverAuth' | 'clientAuth')[]): void {
  const caCert = parseCertificates(readFileSync(join(dir, 'ca.crt')))[0]!;
  const caKey = parsePrivateKey(readFileSync(join(dir, 'ca.key'), 'utf8'));
  const kp = generateKeyPair('P-256');
  const uniq = [...new Set(hosts)];
  const dns = uniq.filter((h) => !isIP(h));
  const ip = uniq.filter((h) => isIP(h));
  const now = Date.now();
  const cert = issueCertificate({
    subject: { CN: name },
    publicKey: kp.publicKey,
    issuer: caCert,
    issuerKey: caKey,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 825 * 86400_000),
    isCA: false,
    keyUsage: ['digitalSignature'],
    extKeyUsage: eku,
    ...(uniq.length ? { san: { dns, ip } } : {}),
  });
  writeAtomic(join(dir, `${name}.key`), kp.pem, 0o600);
  writeAtomic(join(dir, `${name}.crt`), cert.pem, 0o644);
}

function writeAtomic(path: string, text: string, mode: number): void {
  writeFileSync(`${path}.tmp`, text, { mode });
  renameSync(`${path}.tmp`, path);
}

/** A directory lock (mkdir is atomic); a lock older than 60 s is considered left by a killed process. */
function withLock<T>(lock: string, f: () => T): T {
  const start = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() - start > 120_000) throw new Error(`PKI lock ${lock} held too long`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    return f();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
