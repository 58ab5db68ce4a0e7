// Trust anchors: the system bundle (Debian/Ubuntu ca-certificates) and node's `ca` option.

import { readFileSync } from 'node:fs';
import { TLSError } from '../alert.js';
import { pemDecode, pemText } from './pem.js';
import { parseCertificate, type Certificate } from './x509.js';

/** Where Debian's ca-certificates package puts the bundle; SSL_CERT_FILE overrides it, as in OpenSSL. */
export const SYSTEM_BUNDLE_PATH = '/etc/ssl/certs/ca-certificates.crt';

let systemCache: { path: string; certs: Certificate[]; pems: string[] } | undefined;

function bundlePath(): string {
  return process.env['SSL_CERT_FILE'] || SYSTEM_BUNDLE_PATH;
}

function loadSystem(): { path: string; certs: Certificate[]; pems: string[] } {
  const path = bundlePath();
  if (systemCache && systemCache.path === path) return systemCache;
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    // No bundle: no system trust. Verification then fails with unknown_ca, which is the safe outcome.
    systemCache = { path, certs: [], pems: [] };
    return systemCache;
  }
  const certs: Certificate[] = [];
  const pems: string[] = [];
  for (const der of pemDecode(text, 'CERTIFICATE')) {
    try {
      certs.push(parseCertificate(der));
      pems.push(`-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`);
    } catch {
      // One unparsable root must not take the whole store down; it simply is not trusted.
    }
  }
  systemCache = { path, certs, pems };
  return systemCache;
}

/** The system trust anchors, read once (lazily) from the bundle and cached. Empty if there is no bundle. */
export function systemCertificates(): Certificate[] {
  return loadSystem().certs;
}

/** The system roots as PEM strings, like node's tls.rootCertificates. */
export function rootCertificates(): readonly string[] {
  return loadSystem().pems;
}

/** Forget the cached system store (tests; after SSL_CERT_FILE changes). */
export function resetSystemCertificates(): void {
  systemCache = undefined;
}

export type CaOption = string | Uint8Array | ReadonlyArray<string | Uint8Array>;

/**
 * Certificates from what node's `ca` option accepts: a PEM string or Buffer (one or many CERTIFICATE
 * blocks, "TRUSTED CERTIFICATE" is not supported), or an array of them. A Buffer holding a single DER
 * certificate is accepted too. A malformed entry throws (a configuration error, not a peer's).
 */
export function loadCertificates(ca: CaOption): Certificate[] {
  const items = typeof ca === 'string' || ca instanceof Uint8Array ? [ca] : ca;
  const out: Certificate[] = [];
  for (const item of items) {
    if (item instanceof Uint8Array && item[0] === 0x30) {
      out.push(parseCertificate(item));
      continue;
    }
    const ders = pemDecode(pemText(item), 'CERTIFICATE');
    if (ders.length === 0) throw new TLSError('bad_certificate', 'ca option: no "CERTIFICATE" PEM block found');
    for (const der of ders) out.push(parseCertificate(der));
  }
  return out;
}
