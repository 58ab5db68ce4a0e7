// node:tls-shaped options: what is accepted, and the clear errors for what is not (thrown at the call).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect, createServer } from '../../lib/index.js';
import { parseAlpnOption, parseGroups, parseSignatureSchemes } from '../../lib/handshake/config.js';
import { parseCipherList } from '../../lib/suites.js';

const fx = (n: string) => readFileSync(new URL(`../../fixtures/pki/${n}`, import.meta.url));
const serverIdentity = { cert: fx('ecdsa-p256-chain.pem'), key: fx('ecdsa-p256-key.pem') };

describe('options', () => {
  it('minVersion/maxVersion other than TLSv1.2 are refused with a clear error', () => {
    expect(() => connect({ host: '127.0.0.1', port: 1, maxVersion: 'TLSv1.3' })).to.throw(/maxVersion TLSv1\.3 is not supported: qtls implements TLSv1\.2 only/);
    expect(() => createServer({ ...serverIdentity, minVersion: 'TLSv1.1' })).to.throw(/minVersion TLSv1\.1 is not supported/);
    expect(() => createServer({ ...serverIdentity, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).to.not.throw();
  });

  it('ciphers accepts IANA and OpenSSL names, in the order given, and refuses unknown names', () => {
    const list = parseCipherList('ECDHE-RSA-CHACHA20-POLY1305:TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls_psk_with_aes_128_gcm_sha256');
    expect(list.map((s) => s.id)).to.deep.equal([0xcca8, 0xc02c, 0x00a8]);
    expect(() => parseCipherList('ECDHE-RSA-AES128-GCM-SHA256:NO-SUCH-SUITE')).to.throw(/unknown cipher suite "NO-SUCH-SUITE"/);
    expect(() => createServer({ ...serverIdentity, ciphers: 'RC4-MD5' })).to.throw(/unknown cipher suite/);
    // TLS 1.3 names that node users often include carry no TLS 1.2 meaning and are skipped.
    expect(parseCipherList('TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256').map((s) => s.id)).to.deep.equal([0xc02b]);
  });

  it('groups / ecdhCurve accept node and IANA spellings and refuse unknown ones', () => {
    expect(parseGroups('X25519:prime256v1:secp384r1:ffdhe3072')).to.deep.equal([29, 23, 24, 257]);
    expect(parseGroups('P-256:P-384')).to.deep.equal([23, 24]);
    expect(() => parseGroups('brainpoolP256r1')).to.throw(/unknown group "brainpoolP256r1"/);
    expect(() => parseGroups('constructor'), 'an Object.prototype member is no group').to.throw(/unknown group "constructor"/);
    expect(() => connect({ host: '127.0.0.1', port: 1, ecdhCurve: 'nope' })).to.throw(/unknown group/);
  });

  it('sigalgs accepts IANA names and OpenSSL\'s SIG+HASH names (as node), and refuses unknown or empty lists', () => {
    expect(parseSignatureSchemes('ecdsa_secp256r1_sha256:ed25519')).to.deep.equal([0x0403, 0x0807]);
    expect(parseSignatureSchemes('RSA-PSS+SHA256:ECDSA+SHA384:RSA+SHA256:PSS+SHA512:ed25519')).to.deep.equal([0x0804, 0x0503, 0x0401, 0x0806, 0x0807]);
    expect(parseSignatureSchemes('ecdsa+sha256:ECDSA+SHA256')).to.deep.equal([0x0403]);
    for (const bad of ['ECDSA+MD5', 'constructor', 'toString', 'RSA+'])
      expect(() => parseSignatureSchemes(bad), bad).to.throw(/unknown signature algorithm/);
    expect(() => parseSignatureSchemes('')).to.throw(/names no signature algorithm/);
  });

  it('ALPNProtocols accepts an array of strings or Buffers, or node\'s wire-format Buffer', () => {
    expect(parseAlpnOption(['h2', 'http/1.1'])).to.deep.equal(['h2', 'http/1.1']);
    expect(parseAlpnOption([Buffer.from('h2')])).to.deep.equal(['h2']);
    expect(parseAlpnOption(Buffer.from('\x02h2\x08http/1.1', 'latin1'))).to.deep.equal(['h2', 'http/1.1']);
  });

  it('a certificate without its key (or a key matching no certificate) is refused at createServer', () => {
    expect(() => createServer({ cert: fx('ecdsa-p256-chain.pem') })).to.throw(/without its private key/);
    expect(() => createServer({ cert: fx('ecdsa-p256-chain.pem'), key: fx('rsa-key.pem') })).to.throw(/no private key matches/);
  });
});
