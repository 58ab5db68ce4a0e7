// Certification path building and validation: RFC 5280 §6.1 subset, RFC 4158 style path building.
//
// Building: depth-first from the leaf; the candidates for a certificate's issuer are the trust anchors,
// then the received certificates (in any order; unused ones are ignored) whose subject matches its
// issuer name (§7.1) and whose key identifiers do not contradict its AKI (§4.2.1.1). Each candidate
// signature is verified once (cached). A trust anchor ends a path (RFC 5280 §6: an anchor is a name and
// a key; like node 22's allowPartialTrustChain, a non-self-signed anchor is accepted too).
//
// Validation of a complete path [leaf, ..., anchor]: every certificate within its validity period;
// every issuer a CA (basicConstraints cA, §4.2.1.9; a version 1 anchor is accepted as a CA, as OpenSSL
// does); keyUsage keyCertSign on issuers when keyUsage is present (§4.2.1.3); pathLenConstraint
// (§6.1.4 (l)(m)); extendedKeyUsage of the leaf and intermediates, when present, allows the purpose
// (§4.2.1.12, as OpenSSL's purpose check); no unrecognised critical extension below the anchor (§4.2);
// name constraints (§4.2.1.10, §6.1.3 (b)(c), §6.1.4 (g); matching in name-constraints.ts): every
// certificate below a CA with nameConstraints — the trust anchor's included, as OpenSSL does — must
// satisfy them, except self-issued intermediates. Checking each CA's constraints in turn is the
// intersection of the permitted subtrees and the union of the excluded ones that §6.1.4 (g) accumulates.
//
// Hostile input: at most MAX_CHAIN_CERTS received certificates, paths of at most MAX_PATH_LENGTH, at
// most MAX_SIGNATURE_CHECKS signature verifications and MAX_CANDIDATES issuer candidates examined, and
// bounded name-constraint work (NAME_CHECK_MAX per certificate and CA, NAME_CHECK_BUDGET in all).

import { verifySignature } from '../crypto/signature.js';
import type { PublicKey, SignatureAlgorithm } from '../crypto/keys.js';
import { equalBytes } from '../wire/bytes.js';
import { checkServerIdentity } from './hostname.js';
import { NAME_CONSTRAINT_MESSAGES, NameCheckBudget, checkNameConstraints, subtreeMinMaxProblem } from './name-constraints.js';
import { OID, oidName } from './oids.js';
import { allowsKeyUsage, canonicalName, namesMatch, type Certificate } from './x509.js';

export type ChainAlert = 'bad_certificate' | 'certificate_expired' | 'unknown_ca' | 'unsupported_certificate' | 'certificate_unknown';

export type ChainResult =
  | { ok: true; path: Certificate[] }
  | {
      ok: false;
      reason: string;
      alert: ChainAlert;
      /** node:tls's verify error code (CERT_HAS_EXPIRED, UNABLE_TO_GET_ISSUER_CERT_LOCALLY ...): OpenSSL's name, or UNSPECIFIED where node has none. */
      code: string;
      /**
       * OpenSSL's X509_V_ERR_* name (without the prefix) when node reports the error as UNSPECIFIED:
       * the name-constraint errors PERMITTED_VIOLATION, EXCLUDED_VIOLATION, SUBTREE_MINMAX ...
       */
      verifyError?: string;
      /** The certificate the failure is about, when there is one. */
      cert?: Certificate;
    };

export interface VerifyChainOptions {
  /** Leaf first, as received. */
  chain: Certificate[];
  trustAnchors: Certificate[];
  now?: Date;
  /** Required extendedKeyUsage of the leaf: serverAuth ('server', the default) or clientAuth. */
  purpose?: 'server' | 'client';
  /** When given, also check the leaf against this host name / IP (RFC 6125). */
  host?: string;
}

export const MAX_CHAIN_CERTS = 32;
export const MAX_PATH_LENGTH = 10;
export const MAX_SIGNATURE_CHECKS = 48;
export const MAX_CANDIDATES = 512;

type Failure = Extract<ChainResult, { ok: false }>;

function failure(alert: ChainAlert, code: string, reason: string, cert?: Certificate): Failure {
  return cert ? { ok: false, alert, code, reason, cert } : { ok: false, alert, code, reason };
}

/**
 * node 20's X509ErrorCode() has no case for the name-constraint errors, so node:tls reports them as
 * code UNSPECIFIED with OpenSSL's message ('permitted subtree violation' ...); we do the same and keep
 * OpenSSL's name in verifyError.
 */
const NODE_NAME_CONSTRAINT_CODE = 'UNSPECIFIED';

/** RFC 5280 §6.1.3 (b)(c) over a complete path, in OpenSSL's order (top of the path first), so that the first error is the same. */
function checkPathNameConstraints(path: Certificate[], budget: NameCheckBudget): Failure | undefined {
  for (let j = path.length - 1; j > 0; j--) {
    const nc = path[j]!.nameConstraints;
    const problem = nc && subtreeMinMaxProblem(nc);
    if (problem) {
      // §4.2.1.10: minimum MUST be zero and maximum MUST be absent — a malformed CA certificate.
      const f = failure('bad_certificate', NODE_NAME_CONSTRAINT_CODE, `${NAME_CONSTRAINT_MESSAGES.SUBTREE_MINMAX}: nameConstraints of ${describe(path[j]!)}: ${problem}`, path[j]);
      return { ...f, verifyError: 'SUBTREE_MINMAX' };
    }
  }
  for (let i = path.length - 1; i >= 0; i--) {
    const cert = path[i]!;
    // §6.1.3 (b)(c): "unless certificate i is self-issued and is not the final certificate".
    if (i !== 0 && cert.selfIssued) continue;
    for (let j = path.length - 1; j > i; j--) {
      const ca = path[j]!;
      if (!ca.nameConstraints) continue;
      const v = checkNameConstraints(cert, ca.nameConstraints, i === 0, budget);
      if (!v) continue;
      const who = i === 0 ? 'certificate' : 'issuer certificate';
      // OpenSSL's ssl_x509err2alert() has no entry for these: certificate_unknown.
      const f = failure('certificate_unknown', NODE_NAME_CONSTRAINT_CODE, `${NAME_CONSTRAINT_MESSAGES[v.error]}: ${who} ${describe(cert)}: ${v.detail} of the name constraints of ${describe(ca)}`, cert);
      return { ...f, verifyError: v.error };
    }
  }
  return undefined;
}

function describe(cert: Certificate): string {
  const cn = cert.subject.attributes['CN'];
  return `"${Array.isArray(cn) ? cn[0] : cn ?? cert.subject.text}"`;
}

function keyFitsAlgorithm(alg: SignatureAlgorithm, key: PublicKey): boolean {
  switch (alg.kind) {
    case 'ecdsa':
      return key.type === 'ec';
    case 'ed25519':
      return key.type === 'ed25519';
    case 'rsa-pkcs1':
    case 'rsa-pss':
      return key.type === 'rsa';
  }
}

/** Could `parent` have issued `child`? Name match and no key-identifier contradiction (OpenSSL: X509_check_issued). */
export function couldIssue(parent: Certificate, child: Certificate): boolean {
  if (!namesMatch(child.issuer, parent.subject)) return false;
  const aki = child.authorityKeyIdentifier;
  if (aki?.keyIdentifier && parent.subjectKeyIdentifier && !equalBytes(aki.keyIdentifier, parent.subjectKeyIdentifier)) return false;
  if (aki?.serial && aki.issuer && aki.serial !== parent.serial.replace(/^-/, '')) return false;
  return true;
}

function isAnchor(cert: Certificate, anchors: Certificate[]): boolean {
  return anchors.some((a) => a === cert || equalBytes(a.der, cert.der));
}

const PURPOSE_OID = { server: OID.serverAuth, client: OID.clientAuth } as const;

function ekuAllows(cert: Certificate, purpose: 'server' | 'client'): boolean {
  const eku = cert.extKeyUsage;
  return !eku || eku.includes(PURPOSE_OID[purpose]) || eku.includes(OID.anyExtendedKeyUsage);
}

function formatDate(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

/** RFC 5280 §6.1 checks on a complete path (leaf first, anchor last). */
function validatePath(path: Certificate[], anchorIndex: number, now: Date, purpose: 'server' | 'client', names: NameCheckBudget): Failure | undefined {
  for (let i = 0; i < path.length; i++) {
    const cert = path[i]!;
    const who = i === 0 ? 'certificate' : i === anchorIndex ? 'trust anchor' : 'issuer certificate';
    if (now.getTime() < cert.notBefore.getTime()) {
      return failure('certificate_expired', 'CERT_NOT_YET_VALID', `${who} ${describe(cert)} is not yet valid (notBefore ${formatDate(cert.notBefore)})`, cert);
    }
    if (now.getTime() > cert.notAfter.getTime()) {
      return failure('certificate_expired', 'CERT_HAS_EXPIRED', `${who} ${describe(cert)} has expired (notAfter ${formatDate(cert.notAfter)})`, cert);
    }
    if (i !== anchorIndex && cert.unknownCriticalExtensions.length > 0) {
      const names = cert.unknownCriticalExtensions.map((o) => `${oidName(o)}${oidName(o) === o ? '' : ` (${o})`}`).join(', ');
      return failure('unsupported_certificate', 'UNHANDLED_CRITICAL_EXTENSION', `${who} ${describe(cert)} has an unsupported critical extension: ${names}`, cert);
    }
    if (i === 0) continue;

    // Issuer checks.
    const bc = cert.basicConstraints;
    const isCA = bc ? bc.cA : i === anchorIndex && cert.version === 1;
    if (!isCA) {
      return failure('bad_certificate', 'INVALID_CA', `${who} ${describe(cert)} is not a CA (basicConstraints cA is not set) but issued ${describe(path[i - 1]!)}`, cert);
    }
    if (!allowsKeyUsage(cert, 'keyCertSign')) {
      return failure('bad_certificate', 'KEYUSAGE_NO_CERTSIGN', `${who} ${describe(cert)} keyUsage does not include keyCertSign`, cert);
    }
    if (bc?.pathLen !== undefined) {
      // Non-self-issued intermediates between this issuer and the leaf (§6.1.4 (l)(m)).
      let below = 0;
      for (let j = 1; j < i; j++) if (!path[j]!.selfIssued) below++;
      if (below > bc.pathLen) {
        return failure('bad_certificate', 'PATH_LENGTH_EXCEEDED', `${who} ${describe(cert)} allows ${bc.pathLen} intermediate CA(s) below it (pathLenConstraint) but the path has ${below}`, cert);
      }
    }
    if (i !== anchorIndex && !ekuAllows(cert, purpose)) {
      return failure('unsupported_certificate', 'INVALID_PURPOSE', `${who} ${describe(cert)} extendedKeyUsage does not allow ${PURPOSE_OID[purpose] === OID.serverAuth ? 'serverAuth' : 'clientAuth'}`, cert);
    }
  }
  const leaf = path[0]!;
  if (!ekuAllows(leaf, purpose)) {
    const got = leaf.extKeyUsage!.map(oidName).join(', ');
    return failure('unsupported_certificate', 'INVALID_PURPOSE', `certificate ${describe(leaf)} extendedKeyUsage (${got}) does not allow ${purpose === 'server' ? 'serverAuth' : 'clientAuth'}`, leaf);
  }
  // Last, as in OpenSSL's verify_chain().
  return checkPathNameConstraints(path, names);
}

/**
 * Build and validate a certification path from chain[0] to one of trustAnchors. Never throws for
 * anything a peer can send; returns a result with the TLS alert to send on failure.
 */
export function verifyChain(opts: VerifyChainOptions): ChainResult {
  const now = opts.now ?? new Date();
  const purpose = opts.purpose ?? 'server';
  const anchors = opts.trustAnchors;
  const received = opts.chain;
  const leaf = received[0];
  if (!leaf) return failure('certificate_unknown', 'NO_CERTIFICATE', 'no certificate received');
  if (received.length > MAX_CHAIN_CERTS) {
    return failure('bad_certificate', 'CERT_CHAIN_TOO_LONG', `certificate chain of ${received.length} certificates exceeds the limit of ${MAX_CHAIN_CERTS}`);
  }

  // Signature cache: child -> parent -> verdict (undefined = not yet checked).
  const verdicts = new Map<Certificate, Map<Certificate, Failure | null>>();
  let signatureChecks = 0;
  let candidatesSeen = 0;
  let budgetExceeded = false;
  const nameChecks = new NameCheckBudget();

  const checkSignature = (child: Certificate, parent: Certificate): Failure | null => {
    let row = verdicts.get(child);
    if (!row) verdicts.set(child, (row = new Map()));
    const cached = row.get(parent);
    if (cached !== undefined) return cached;
    let verdict: Failure | null = null;
    const alg = child.signatureAlgorithm;
    const key = parent.publicKey;
    if (!alg) {
      verdict = failure('unsupported_certificate', 'CERT_SIGNATURE_FAILURE', `certificate ${describe(child)} is signed with an unsupported ${child.signatureAlgorithmUnsupported ?? 'algorithm'}`, child);
    } else if (!key) {
      verdict = failure('unsupported_certificate', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', `issuer ${describe(parent)} has an ${parent.spki.unsupported ?? 'unsupported key'}`, parent);
    } else if (!keyFitsAlgorithm(alg, key)) {
      verdict = failure('bad_certificate', 'CERT_SIGNATURE_FAILURE', `certificate ${describe(child)} signature algorithm ${child.signatureAlgorithmName} does not fit the ${key.type} key of ${describe(parent)}`, child);
    } else {
      signatureChecks++;
      let good = false;
      try {
        good = verifySignature(alg, key, child.tbs, child.signature);
      } catch {
        good = false;
      }
      if (!good) verdict = failure('bad_certificate', 'CERT_SIGNATURE_FAILURE', `signature of certificate ${describe(child)} does not verify with the key of ${describe(parent)}`, child);
    }
    row.set(parent, verdict);
    return verdict;
  };

  // Possible issuers by (folded) subject name: trust anchors first, then the received certificates.
  const bySubject = new Map<string, Certificate[]>();
  for (const c of [...anchors, ...received.filter((c) => !isAnchor(c, anchors))]) {
    const key = canonicalName(c.subject);
    const list = bySubject.get(key);
    if (list) list.push(c);
    else bySubject.set(key, [c]);
  }

  let firstPathFailure: Failure | undefined;
  let signatureFailure: Failure | undefined;
  // Deepest dead end, for the unknown-CA message.
  let deadEnd: Certificate[] = [leaf];

  const search = (path: Certificate[]): Certificate[] | undefined => {
    const cert = path[path.length - 1]!;
    if (isAnchor(cert, anchors)) {
      const problem = validatePath(path, path.length - 1, now, purpose, nameChecks);
      if (!problem) return path;
      firstPathFailure ??= problem;
      return undefined;
    }
    if (path.length >= MAX_PATH_LENGTH) {
      firstPathFailure ??= failure('bad_certificate', 'CERT_CHAIN_TOO_LONG', `certification path longer than ${MAX_PATH_LENGTH} certificates`, cert);
      return undefined;
    }
    const candidates = (bySubject.get(canonicalName(cert.issuer)) ?? []).filter((c) => !path.some((p) => p === c || equalBytes(p.der, c.der)));
    let extended = false;
    for (const parent of candidates) {
      if (!couldIssue(parent, cert)) continue;
      if (++candidatesSeen > MAX_CANDIDATES || signatureChecks >= MAX_SIGNATURE_CHECKS) {
        budgetExceeded = true;
        return undefined;
      }
      const sig = checkSignature(cert, parent);
      if (sig) {
        signatureFailure ??= sig;
        continue;
      }
      extended = true;
      const found = search([...path, parent]);
      if (found) return found;
      if (budgetExceeded) return undefined;
    }
    if (!extended && path.length > deadEnd.length) deadEnd = path;
    return undefined;
  };

  // A leaf that is itself a trust anchor (e.g. a trusted self-signed certificate).
  const path = search([leaf]);
  if (path) {
    if (opts.host !== undefined) {
      const err = checkServerIdentity(opts.host, leaf);
      if (err) return failure('bad_certificate', 'ERR_TLS_CERT_ALTNAME_INVALID', err.message, leaf);
    }
    return { ok: true, path };
  }
  if (firstPathFailure) return firstPathFailure;
  if (budgetExceeded) {
    return failure('certificate_unknown', 'CERT_CHAIN_TOO_COMPLEX', `gave up building a certification path after ${signatureChecks} signature checks / ${candidatesSeen} candidates`);
  }
  if (signatureFailure) return signatureFailure;
  const last = deadEnd[deadEnd.length - 1]!;
  if (last.selfIssued) {
    if (deadEnd.length === 1) {
      return failure('unknown_ca', 'DEPTH_ZERO_SELF_SIGNED_CERT', `self-signed certificate ${describe(last)} is not trusted`, last);
    }
    return failure('unknown_ca', 'SELF_SIGNED_CERT_IN_CHAIN', `self-signed certificate in certificate chain: ${describe(last)} is not a trust anchor`, last);
  }
  if (received.length === 1) {
    return failure('unknown_ca', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', `unable to verify the first certificate: issuer "${last.issuer.text}" is not a trust anchor and was not sent`, last);
  }
  return failure('unknown_ca', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', `unable to get local issuer certificate: no trust anchor for issuer "${last.issuer.text}" of ${describe(last)}`, last);
}
