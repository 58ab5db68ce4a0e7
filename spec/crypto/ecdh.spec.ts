import { expect } from 'chai';
import { createECDH, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { generateEcdhKeyPair, ecdhSharedSecret, EcdhGroup, isEcdhGroup, ecdhGroupName } from '../../lib/crypto/ecdh.js';
import { TLSError } from '../../lib/alert.js';
import { concat, fromHex, toHex } from '../../lib/wire/bytes.js';

function expectIllegal(f: () => unknown, pattern?: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(TLSError);
    expect((e as TLSError).alert).to.equal('illegal_parameter');
    if (pattern) expect((e as TLSError).message).to.match(pattern);
    return;
  }
  expect.fail('expected a TLSError(illegal_parameter)');
}

describe('crypto/ecdh (RFC 8422, RFC 7748)', () => {
  it('NamedGroup codes are x25519=29, secp256r1=23, secp384r1=24', () => {
    expect(EcdhGroup).to.deep.equal({ secp256r1: 23, secp384r1: 24, x25519: 29 });
    expect(isEcdhGroup(29)).to.equal(true);
    expect(isEcdhGroup(25)).to.equal(false);
    expect(ecdhGroupName(23)).to.equal('secp256r1');
  });

  for (const [group, nodeCurve, size] of [[23, 'prime256v1', 32], [24, 'secp384r1', 48]] as const) {
    it(`${ecdhGroupName(group)}: wire public key is 0x04||X||Y and the secret (X only) matches node:crypto`, () => {
      const ours = generateEcdhKeyPair(group);
      expect(ours.publicKey.length).to.equal(1 + 2 * size);
      expect(ours.publicKey[0]).to.equal(4);
      expect(ours.privateKey.length).to.equal(size);
      const peer = createECDH(nodeCurve);
      const peerPub = new Uint8Array(peer.generateKeys());
      const z = ecdhSharedSecret(group, ours.privateKey, peerPub);
      expect(z.length).to.equal(size);
      expect(toHex(z)).to.equal(peer.computeSecret(ours.publicKey).toString('hex'));
    });

    it(`${ecdhGroupName(group)}: rejects compressed, truncated, off-curve and infinity peer points`, () => {
      const ours = generateEcdhKeyPair(group);
      const peer = createECDH(nodeCurve);
      peer.generateKeys();
      const compressed = new Uint8Array(peer.getPublicKey(undefined, 'compressed'));
      expectIllegal(() => ecdhSharedSecret(group, ours.privateKey, compressed), /compressed/);
      const full = new Uint8Array(peer.getPublicKey());
      expectIllegal(() => ecdhSharedSecret(group, ours.privateKey, full.subarray(0, full.length - 1)));
      expectIllegal(() => ecdhSharedSecret(group, ours.privateKey, concat(full, new Uint8Array(1))));
      const offCurve = full.slice();
      offCurve[offCurve.length - 1]! ^= 1;
      expectIllegal(() => ecdhSharedSecret(group, ours.privateKey, offCurve), /not a valid point/);
      expectIllegal(() => ecdhSharedSecret(group, ours.privateKey, new Uint8Array([0])));
      expectIllegal(() => ecdhSharedSecret(group, ours.privateKey, concat(new Uint8Array([4]), new Uint8Array(2 * size))));
      const hybrid = full.slice();
      hybrid[0] = 6;
      expectIllegal(() => ecdhSharedSecret(group, ours.privateKey, hybrid));
    });
  }

  it('x25519: 32-byte keys, and the secret matches node:crypto', () => {
    const ours = generateEcdhKeyPair(EcdhGroup.x25519);
    expect(ours.publicKey.length).to.equal(32);
    const peer = generateKeyPairSync('x25519');
    const peerRaw = new Uint8Array(peer.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
    const z = ecdhSharedSecret(EcdhGroup.x25519, ours.privateKey, peerRaw);
    const ourPubKeyObj = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), ours.publicKey]),
      format: 'der',
      type: 'spki',
    });
    expect(toHex(z)).to.equal(diffieHellman({ privateKey: peer.privateKey, publicKey: ourPubKeyObj }).toString('hex'));
  });

  it('x25519: RFC 7748 §6.1 Alice/Bob vector', () => {
    const aPriv = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bPub = fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    expect(toHex(ecdhSharedSecret(29, aPriv, bPub))).to.equal('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
  });

  it('x25519: rejects low-order points (all-zero shared secret) and wrong lengths', () => {
    const ours = generateEcdhKeyPair(29);
    expectIllegal(() => ecdhSharedSecret(29, ours.privateKey, new Uint8Array(32)), /all-zero|low-order/);
    const one = new Uint8Array(32);
    one[0] = 1;
    expectIllegal(() => ecdhSharedSecret(29, ours.privateKey, one));
    expectIllegal(() => ecdhSharedSecret(29, ours.privateKey, new Uint8Array(31).fill(9)), /32 bytes/);
  });

  it('a private key of the wrong size is a caller bug (TypeError), not a peer failure', () => {
    const peer = generateEcdhKeyPair(23);
    expect(() => ecdhSharedSecret(23, new Uint8Array(31).fill(1), peer.publicKey)).to.throw(TypeError);
    expect(() => ecdhSharedSecret(29, new Uint8Array(31).fill(1), generateEcdhKeyPair(29).publicKey)).to.throw(TypeError);
  });
});
