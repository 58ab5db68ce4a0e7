// SignatureScheme code points → the names node's getSharedSigalgs() reports: OpenSSL's key type and
// digest short names joined by '+' (node's TLSWrap::GetSharedSigalgs). EdDSA has no separate digest,
// which node prints as 'UNDEF'; both RSA-PSS families (rsae and pss keys) are 'RSA-PSS'.
const NAMES: ReadonlyMap<number, string> = new Map([
  [0x0201, 'RSA+SHA1'],
  [0x0203, 'ECDSA+SHA1'],
  [0x0301, 'RSA+SHA224'],
  [0x0303, 'ECDSA+SHA224'],
  [0x0401, 'RSA+SHA256'],
  [0x0403, 'ECDSA+SHA256'],
  [0x0501, 'RSA+SHA384'],
  [0x0503, 'ECDSA+SHA384'],
  [0x0601, 'RSA+SHA512'],
  [0x0603, 'ECDSA+SHA512'],
  [0x0804, 'RSA-PSS+SHA256'],
  [0x0805, 'RSA-PSS+SHA384'],
  [0x0806, 'RSA-PSS+SHA512'],
  [0x0807, 'Ed25519+UNDEF'],
  [0x0808, 'Ed448+UNDEF'],
  [0x0809, 'RSA-PSS+SHA256'],
  [0x080a, 'RSA-PSS+SHA384'],
  [0x080b, 'RSA-PSS+SHA512'],
]);

/** node's name for a scheme; undefined for code points OpenSSL doesn't know (it leaves them out). */
export function nodeSigalgName(code: number): string | undefined {
  return NAMES.get(code);
}
