// Build a KeyDelivery (ETSI 014 or 004 client, over qtls with mutual TLS) from operator settings:
// the KME's URL, this SAE's certificate and key, and the CA of the KME's certificate.
import { readFileSync } from 'node:fs';
import { parseCertificates } from '../pki/x509.js';
import { Etsi004KeyDelivery } from './etsi004/key-delivery.js';
import { Etsi014KeyDelivery } from './etsi014/key-delivery.js';
import type { KeyDelivery } from './key-delivery.js';
import { qtlsConnect } from './qtls-transport.js';

export interface KmeClientSettings {
  /** https://host:port for 014, tls://host:port (or host:port) for 004. */
  kme: string;
  saeCert: string | Buffer;
  saeKey: string | Buffer;
  kmeCa: string | Buffer;
  api?: '014' | '004';
  timeoutMs?: number;
}

export function createKeyDelivery(s: KmeClientSettings): KeyDelivery {
  const api = s.api ?? '014';
  if (api === '014') {
    const url = /^https:\/\//.test(s.kme) ? s.kme : `https://${s.kme}`;
    return new Etsi014KeyDelivery({ url: url.replace(/\/+$/, ''), cert: s.saeCert, key: s.saeKey, ca: s.kmeCa, tlsConnect: qtlsConnect, timeoutMs: s.timeoutMs });
  }
  const u = new URL(/^[a-z]+:\/\//.test(s.kme) ? s.kme : `tls://${s.kme}`);
  return new Etsi004KeyDelivery({
    host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port), cert: s.saeCert, key: s.saeKey, ca: s.kmeCa, tlsConnect: qtlsConnect, timeoutMs: s.timeoutMs,
    saeId: saeIdFromCertificate(s.saeCert),
  });
}

/** The SAE ID is the subject CN of the SAE's certificate (ETSI leaves the mapping to the KME; ours uses CN). */
export function saeIdFromCertificate(pem: string | Buffer): string {
  const cert = parseCertificates(typeof pem === 'string' ? pem : new Uint8Array(pem))[0];
  const cn = cert?.subject.attributes.CN;
  const id = Array.isArray(cn) ? cn[0] : cn;
  if (!id) throw new Error('the SAE certificate has no subject CN to use as SAE ID');
  return id;
}

export function readPem(path: string): Buffer {
  return readFileSync(path);
}
