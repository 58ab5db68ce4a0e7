// node's 'OCSPRequest' server event → the handshake's ocspResponse hook (RFC 6066 §8 stapling).
import type { EventEmitter } from 'node:events';
import type { CertifiedKey } from '../handshake/config.js';
import type { ServerConfig } from '../handshake/server.js';
import { couldIssue } from '../pki/chain.js';
import { parseCertificate, type Certificate } from '../pki/x509.js';

/**
 * Emits `server.emit('OCSPRequest', certificate, issuer, callback)` as node does and turns the callback
 * into the stapled response:
 * - callback(null, buffer) staples it; callback(null) / null / undefined / an empty buffer staples nothing;
 * - callback(err) fails the handshake with err (node resets the connection; we send internal_error);
 * - an answer that is not a Buffer/TypedArray throws node's TypeError at the caller and fails the
 *   handshake (node's handshake then hangs until its timeout);
 * - a second call destroys the socket with ERR_MULTIPLE_CALLBACK, as node.
 */
export function ocspResponder(server: EventEmitter, socket: { destroy(err: Error): void }, trustAnchors: () => Certificate[]): ServerConfig['ocspResponse'] {
  return (cert) =>
    new Promise((resolve, reject) => {
      let answered = false;
      const callback = (err: unknown, response?: unknown): void => {
        if (answered) {
          socket.destroy(Object.assign(new Error('Callback called multiple times'), { code: 'ERR_MULTIPLE_CALLBACK' }));
          return;
        }
        answered = true;
        if (err) return reject(err);
        if (!response) return resolve(undefined);
        if (!ArrayBuffer.isView(response)) {
          const e = Object.assign(new TypeError('OCSP response must be a buffer'), { code: 'ERR_INVALID_ARG_TYPE' });
          reject(e);
          throw e;
        }
        // A copy: the caller may reuse its buffer.
        resolve(new Uint8Array(response.buffer, response.byteOffset, response.byteLength).slice());
      };
      // A listener that throws rejects this promise: the handshake fails with its error.
      server.emit('OCSPRequest', Buffer.from(cert.leaf.der), issuerOf(cert, trustAnchors), callback);
    });
}

/**
 * node's issuer argument: the certificate that issued the leaf, looked for in the rest of the configured
 * chain, then among the trust anchors (`ca`, else the system roots, as node's context store); null when
 * neither has it.
 */
function issuerOf(cert: CertifiedKey, trustAnchors: () => Certificate[]): Buffer | null {
  for (const der of cert.chain.slice(1)) {
    let c: Certificate;
    try {
      c = parseCertificate(der);
    } catch {
      continue;
    }
    if (couldIssue(c, cert.leaf)) return Buffer.from(der);
  }
  const anchor = trustAnchors().find((a) => couldIssue(a, cert.leaf));
  return anchor ? Buffer.from(anchor.der) : null;
}
