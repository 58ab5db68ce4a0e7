// Authenticating the peer's certificate chain: path validation (lib/pki/chain.ts) and, for servers,
// the host name (RFC 6125, lib/pki/hostname.ts). A failure is fatal when rejectUnauthorized is set,
// and otherwise recorded as authorizationError, as node:tls does.
import { TLSError, type AlertName } from '../alert.js';
import { verifyChain } from '../pki/chain.js';
import { checkServerIdentity } from '../pki/hostname.js';
import { toPeerCertificate, type DetailedPeerCertificate } from '../pki/peer-certificate.js';
import { parseCertificate, type Certificate } from '../pki/x509.js';
import { VerifiedChainCache } from '../pki/verified-chains.js';

/** node:tls's checkServerIdentity option: called with getPeerCertificate(true)'s object. */
export type CheckServerIdentity = (host: string, cert: DetailedPeerCertificate) => Error | undefined;

export interface PeerAuthResult {
  authorized: boolean;
  authorizationError: (Error & { code?: string; alert?: AlertName }) | undefined;
  verifiedChain: Certificate[] | undefined;
}

export interface PeerAuthOptions {
  trustAnchors: Certificate[];
  purpose: 'server' | 'client';
  /** Host to check (client side); undefined skips the name check. */
  host?: string;
  checkServerIdentity?: CheckServerIdentity;
  now?: Date;
}

/** The certificates of a Certificate message; one that doesn't parse is bad_certificate (RFC 5246 §7.2.2). */
export function parsePeerCertificates(ders: Uint8Array[], who: 'server' | 'client'): Certificate[] {
  return ders.map((der, i) => {
    try {
      return parseCertificate(der);
    } catch (e) {
      throw new TLSError('bad_certificate', `${who} certificate #${i} does not parse: ${(e as Error).message}`);
    }
  });
}

/** Successful validations, shared by every connection of the process (see verified-chains.ts). */
const verifiedChains = new VerifiedChainCache();

function validate(chain: Certificate[], opts: PeerAuthOptions): ReturnType<typeof verifyChain> {
  const cached = verifiedChains.get(chain, opts.trustAnchors, opts.purpose, opts.now);
  if (cached) return { ok: true, path: cached };
  const v = verifyChain({ chain, trustAnchors: opts.trustAnchors, purpose: opts.purpose, now: opts.now });
  if (v.ok) verifiedChains.set(chain, opts.trustAnchors, opts.purpose, v.path);
  return v;
}

export function authenticatePeer(chain: Certificate[], opts: PeerAuthOptions): PeerAuthResult {
  const v = validate(chain, opts);
  if (!v.ok) {
    // verifyError: OpenSSL's name where node's code is only UNSPECIFIED (the name-constraint errors).
    const err = Object.assign(new Error(v.reason), { code: v.code, alert: v.alert as AlertName, ...(v.verifyError ? { verifyError: v.verifyError } : {}) });
    return { authorized: false, authorizationError: err, verifiedChain: undefined };
  }
  if (opts.host !== undefined) {
    const leaf = chain[0]!;
    // A user callback gets what node:tls gives it, the detailed peer certificate (so node code such as
    // tls.checkServerIdentity(host, cert) or a cert.fingerprint256 pin works unchanged).
    const nameErr = opts.checkServerIdentity ? opts.checkServerIdentity(opts.host, toPeerCertificate(leaf, v.path.slice(1))) : checkServerIdentity(opts.host, leaf);
    if (nameErr) {
      // bad_certificate, as OpenSSL (X509_V_ERR_HOSTNAME_MISMATCH) and Go send for a name mismatch.
      const err = Object.assign(nameErr, { code: (nameErr as { code?: string }).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID', alert: 'bad_certificate' as AlertName });
      return { authorized: false, authorizationError: err, verifiedChain: v.path };
    }
  }
  return { authorized: true, authorizationError: undefined, verifiedChain: v.path };
}

/** The fatal error to raise for a failed authentication. */
export function authFailure(res: PeerAuthResult, who: 'server' | 'client'): TLSError {
  const e = res.authorizationError!;
  const alert: AlertName = e.alert ?? 'bad_certificate';
  // The verification error (with node's code: CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID…) is the cause.
  return new TLSError(alert, `${who} certificate rejected: ${e.message}`, 'local', { cause: e });
}
