import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { VerifiedChainCache } from '../../lib/pki/verified-chains.js';
import { parseCertificates, type Certificate } from '../../lib/pki/x509.js';

const certs = (n: string): Certificate[] => parseCertificates(readFileSync(new URL(`../../fixtures/pki/${n}`, import.meta.url)));

describe('VerifiedChainCache', () => {
  const chain = certs('ecdsa-p256-chain.pem');
  const anchors = certs('ca.pem');
  const path = [...chain, anchors[0]!];

  it('returns a stored path only for the same chain, anchors and purpose', () => {
    const c = new VerifiedChainCache();
    c.set(chain, anchors, 'server', path);
    expect(c.get(chain, anchors, 'server')).to.equal(path);
    expect(c.get(chain, anchors, 'client')).to.equal(undefined);
    expect(c.get(chain.slice(0, 1), anchors, 'server')).to.equal(undefined);
    expect(c.get(chain, certs('unknown-root-ca.pem'), 'server')).to.equal(undefined);
    // Equal content in another array is the same key (anchors parsed again from the same PEM).
    expect(c.get(certs('ecdsa-p256-chain.pem'), certs('ca.pem'), 'server')).to.equal(path);
  });

  it('drops an entry once a certificate of the path is out of date', () => {
    const c = new VerifiedChainCache();
    c.set(chain, anchors, 'server', path);
    expect(c.get(chain, anchors, 'server', new Date('2050-01-01'))).to.equal(undefined);
    expect(c.get(chain, anchors, 'server')).to.equal(undefined);
  });

  it('is bounded', () => {
    const c = new VerifiedChainCache(2);
    const others = ['rsa-chain.pem', 'ecdsa-p384-chain.pem', 'ed25519-chain.pem'].map(certs);
    for (const o of others) c.set(o, anchors, 'server', o);
    expect(c.size).to.equal(2);
    expect(c.get(others[0]!, anchors, 'server')).to.equal(undefined);
    expect(c.get(others[2]!, anchors, 'server')).to.equal(others[2]);
  });
});
