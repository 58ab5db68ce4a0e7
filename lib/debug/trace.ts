// Human-readable handshake traces: one line per record-level event, with the fields a person debugging
// TLS (or learning it) wants to see. Secrets appear only when the caller asks (`secrets: true`).
import { alertName } from '../alert.js';
import { ecdhGroupName } from '../crypto/ecdh.js';
import { schemeName } from '../crypto/signature.js';
import type { TraceEvent } from '../handshake/engine.js';
import { ExtensionType, parseServerName } from '../handshake/extensions.js';
import { HandshakeType } from '../handshake/handshake-type.js';
import { parseCertificateMessage } from '../handshake/messages/certificate.js';
import { parseCertificateStatus } from '../handshake/messages/certificate-status.js';
import { parseClientHello } from '../handshake/messages/client-hello.js';
import { parseServerHello } from '../handshake/messages/server-hello.js';
import { parseCertificate } from '../pki/x509.js';
import { suiteById } from '../suites.js';

const extNames = new Map<number, string>(Object.entries(ExtensionType).map(([k, v]) => [v, k]));
const extName = (t: number) => extNames.get(t) ?? `ext_${t}`;
const suiteName = (id: number) => suiteById(id)?.name ?? `0x${id.toString(16).padStart(4, '0')}`;

/** Details of a handshake message; never throws (a malformed message is described as such). */
export function describeHandshake(type: number, body: Uint8Array): string {
  try {
    switch (type) {
      case HandshakeType.client_hello: {
        const ch = parseClientHello(body);
        const sni = ch.extensions.get(ExtensionType.server_name);
        return [
          `version 0x${ch.version.toString(16)}`,
          `${ch.cipherSuites.length} suites (first ${suiteName(ch.cipherSuites[0]!)})`,
          sni ? `SNI ${parseServerName(sni) ?? '-'}` : 'no SNI',
          ch.sessionId.length ? `session_id ${ch.sessionId.length} bytes` : '',
          `extensions: ${[...ch.extensions.keys()].map(extName).join(', ')}`,
        ].filter(Boolean).join('; ');
      }
      case HandshakeType.server_hello: {
        const sh = parseServerHello(body);
        return `${suiteName(sh.cipherSuite)}; extensions: ${[...sh.extensions.keys()].map(extName).join(', ') || 'none'}`;
      }
      case HandshakeType.certificate: {
        const certs = parseCertificateMessage(body);
        if (certs.length === 0) return 'empty (no certificate)';
        return certs.map((d, i) => `#${i} ${safeSubject(d)}`).join(' | ');
      }
      case HandshakeType.certificate_status:
        // RFC 6066 §8: the stapled response is opaque to TLS (and to qtls: the application checks it).
        return `ocsp, ${parseCertificateStatus(body).length}-byte OCSPResponse`;
      case HandshakeType.server_key_exchange:
        // ECDHE params start with curve_type named_curve (3); other exchanges are described by size only.
        return body[0] === 3 && body.length > 3 ? `named curve ${ecdhGroupName((body[1]! << 8) | body[2]!)}` : '';
      case HandshakeType.certificate_verify:
        return body.length >= 2 ? `signed with ${schemeName((body[0]! << 8) | body[1]!)}` : 'malformed';
      default:
        return '';
    }
  } catch (e) {
    return `malformed: ${(e as Error).message}`;
  }
}

function safeSubject(der: Uint8Array): string {
  try {
    return parseCertificate(der).subject.text;
  } catch {
    return `unparsable certificate (${der.length} bytes)`;
  }
}

/** One trace line, e.g. `<- ServerHello (85 bytes) TLS_ECDHE_…; extensions: …`. */
export function formatTraceEvent(e: TraceEvent): string {
  const arrow = e.direction === 'out' ? '->' : '<-';
  const enc = e.encrypted ? ' [encrypted]' : '';
  switch (e.kind) {
    case 'handshake': {
      const body = e.raw ? e.raw.subarray(4) : new Uint8Array(0);
      const details = describeHandshake(e.type ?? -1, body);
      return `${arrow} ${pretty(e.name)} (${e.length} bytes)${enc}${details ? ` ${details}` : ''}`;
    }
    case 'alert':
      return `${arrow} Alert ${e.level === 2 ? 'fatal' : 'warning'} ${alertName(e.type ?? -1)}${enc}`;
    case 'change_cipher_spec':
      return `${arrow} ChangeCipherSpec`;
    case 'application_data':
      return `${arrow} ApplicationData (${e.length} bytes)`;
    default:
      return `${arrow} ${e.name} (${e.length} bytes)`;
  }
}

function pretty(n: string): string {
  return n.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
}

/** A `trace` option value that writes one formatted line per event. */
export function traceWriter(write: (line: string) => void, prefix = ''): (e: TraceEvent) => void {
  return (e) => write(`${prefix}${formatTraceEvent(e)}\n`);
}
