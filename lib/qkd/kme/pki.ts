// The KME network's PKI under DIR/pki/: ca.crt/ca.key, one certificate per KME (subject CN = KME ID,
// SANs = its listen names, serverAuth + clientAuth: KMEs call each other) and per SAE (<ID>.crt/<ID>.key,
// subject CN = SAE ID, clientAuth). All ECDSA P-256. Existing files are reused; only what is missing is
// issued (a KME certificate is re-issued if it lacks a listen name).
//
// Issued with the `openssl` CLI for now, behind this one function; swap in lib/pki/issue.ts
// (issueCertificate / generateKeyPair('P-256')) by reimplementing `issue` below.
import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

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
      openssl([
        'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', `${caKey}.tmp`, '-out', `${caCrt}.tmp`, '-days', '3650', '-subj', '/CN=qtls KME network CA',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      ]);
      chmodSync(`${caKey}.tmp`, 0o600);
      renameSync(`${caKey}.tmp`, caKey);
      renameSync(`${caCrt}.tmp`, caCrt);
    }
    const files: PkiFiles = { dir, ca: caCrt, kme: {}, sae: {} };
    for (const k of names.kmes) {
      const cert = join(dir, `${k.id}.crt`);
      const key = join(dir, `${k.id}.key`);
      if (!existsSync(cert) || !existsSync(key) || !coversHosts(cert, k.hosts)) {
        issue(dir, k.id, sanOf(k.hosts), 'serverAuth,clientAuth');
      }
      files.kme[k.id] = { cert, key };
    }
    for (const s of names.saes) {
      const cert = join(dir, `${s}.crt`);
      const key = join(dir, `${s}.key`);
      if (!existsSync(cert) || !existsSync(key)) issue(dir, s, undefined, 'clientAuth');
      files.sae[s] = { cert, key };
    }
    return files;
  });
}

function sanOf(hosts: string[]): string {
  return [...new Set(hosts)].map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
}

function coversHosts(certFile: string, hosts: string[]): boolean {
  const san = new X509Certificate(readFileSync(certFile)).subjectAltName ?? '';
  const have = new Set(san.split(/,\s*/));
  return hosts.every((h) => have.has(isIP(h) ? `IP Address:${h}` : `DNS:${h}`));
}

/** Issues <name>.key/<name>.crt signed by the CA (written to temp files, then renamed into place). */
function issue(dir: string, name: string, san: string | undefined, eku: string): void {
  const key = join(dir, `${name}.key`);
  const crt = join(dir, `${name}.crt`);
  const csr = join(dir, `${name}.csr.tmp`);
  const ext = join(dir, `${name}.ext.tmp`);
  writeFileSync(
    ext,
    ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', `extendedKeyUsage=${eku}`, ...(san ? [`subjectAltName=${san}`] : [])].join('\n') + '\n',
  );
  try {
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${key}.tmp`, '-out', csr, '-subj', `/CN=${name}`]);
    openssl([
      'x509', '-req', '-in', csr, '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-set_serial', `0x${randomSerial()}`,
      '-days', '825', '-sha256', '-extfile', ext, '-out', `${crt}.tmp`,
    ]);
    chmodSync(`${key}.tmp`, 0o600);
    renameSync(`${key}.tmp`, key);
    renameSync(`${crt}.tmp`, crt);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
}

function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
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
