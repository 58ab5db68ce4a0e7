// What both handshakes produce, and what resumption (RFC 5246 §7.3, RFC 5077) needs to keep.
import type { Certificate } from '../pki/x509.js';
import type { CipherSuite } from '../suites.js';

export interface HandshakeResult {
  suite: CipherSuite;
  version: 'TLSv1.2';
  sessionId: Uint8Array;
  masterSecret: Uint8Array;
  extendedMasterSecret: boolean;
  clientRandom: Uint8Array;
  serverRandom: Uint8Array;
  alpnProtocol: string | false;
  servername: string | undefined;
  /** The certificates the peer sent, leaf first (empty for PSK suites or no client certificate). */
  peerCertificates: Certificate[];
  /** The validated path to a trust anchor, when validation succeeded. */
  verifiedChain: Certificate[] | undefined;
  authorized: boolean;
  authorizationError: Error | undefined;
  /** Non-secret facts from the key exchange (group, PSK identity, QKD key_ID...). */
  kxInfo: Record<string, unknown>;
  /** Signature scheme the peer used on ServerKeyExchange/CertificateVerify, if any. */
  peerSignatureScheme: number | undefined;
  /** The leaf of the certificate we sent in this handshake, if we sent one. */
  localCertificate?: Certificate;
  /**
   * Signature schemes both sides accept, in the preferred side's order (OpenSSL's shared sigalgs):
   * known once the peer has listed its own (server: ClientHello; client: CertificateRequest).
   */
  sharedSignatureSchemes?: number[];
  resumed: boolean;
  /** Client: the session ticket the server issued (RFC 5077), if any. */
  ticket?: { ticket: Uint8Array; lifetimeHint: number };
}
