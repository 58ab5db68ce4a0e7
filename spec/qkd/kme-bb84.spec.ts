// The BB84 link in place of the CSPRNG stand-in: the KME pools fill with distilled keys that the two
// SAEs receive bit for bit; the status reports the link's figures; an eavesdropper makes every block
// abort, which leaves the pools empty and turns key requests into the KME's "insufficient key" answer.
import { expect } from 'chai';
import { Bb84Link } from '../../lib/qkd/bb84/link.js';
import { Etsi014Client } from '../../lib/qkd/etsi014/client.js';
import { Etsi014KeyDelivery } from '../../lib/qkd/etsi014/key-delivery.js';
import { KeyDeliveryError } from '../../lib/qkd/key-delivery.js';
import { startKmeNetwork } from '../../lib/qkd/kme/network.js';
import { creds, tempDir, until } from './helpers.js';

describe('KME network fed by the simulated BB84 link', function () {
  this.timeout(60_000);

  it('fills both pools with identical keys and reports the pipeline in the 014 status', async () => {
    const tmp = tempDir('bb84');
    const net = await startKmeNetwork({ dataDir: tmp.dir, limits: { maxKeyCount: 64 }, link: new Bb84Link({ seed: 7 }) });
    const a = new Etsi014KeyDelivery({ url: net.A.url, ...creds(net.pki, 'sae-a') });
    const b = new Etsi014KeyDelivery({ url: net.B.url, ...creds(net.pki, 'sae-b') });
    const status = new Etsi014Client({ url: net.A.url, ...creds(net.pki, 'sae-a') });
    try {
      await until(() => net.sites.A.storedKeyCount() >= 8 && net.sites.B.storedKeyCount() >= 8, 'pools filled by BB84', 45_000);
      for (let i = 0; i < 4; i++) {
        const k = await a.getKey('sae-b', { sizeBits: 256 });
        const k2 = await b.getKeyById('sae-a', k.keyId, { sizeBits: 256 });
        expect(Buffer.from(k2.key).equals(Buffer.from(k.key))).to.equal(true);
      }
      const st = (await status.status('sae-b')) as unknown as { status_extension?: { qkd_link?: Record<string, unknown> } };
      const link = st.status_extension?.qkd_link;
      expect(link?.kind).to.equal('bb84');
      expect(link?.model).to.equal('bb84-simulated');
      expect(link?.simulated).to.equal(true);
      expect(Number(link?.blocks)).to.be.greaterThan(0);
      expect(Number(link?.sifted)).to.be.greaterThan(0);
      expect(Number(link?.qber)).to.be.within(0.01, 0.03); // default misalignment 2%
      expect(Number(link?.efficiency)).to.be.within(1, 1.2);
      expect(Number(link?.finalBits)).to.be.greaterThan(0);
    } finally {
      status.close();
      await a.close();
      await b.close();
      await net.close();
      tmp.remove();
    }
  });

  it('an intercept-resend eavesdropper aborts every block: pools stay empty, status shows it, key requests get 503', async () => {
    const tmp = tempDir('bb84-eve');
    const net = await startKmeNetwork({ dataDir: tmp.dir, limits: { maxKeyCount: 64 }, link: new Bb84Link({ seed: 11, eveFraction: 1 }) });
    const a = new Etsi014KeyDelivery({ url: net.A.url, ...creds(net.pki, 'sae-a') });
    try {
      await until(() => Number(net.sites.A.linkStats?.abortedBlocks ?? 0) >= 1, 'a block aborted', 45_000);
      expect(net.sites.A.storedKeyCount()).to.equal(0);
      expect(net.sites.B.storedKeyCount()).to.equal(0);
      expect(String(net.sites.A.linkStats?.lastAbortReason)).to.match(/QBER/i);
      let err: unknown;
      try {
        await a.getKey('sae-b', { sizeBits: 256 });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(KeyDeliveryError);
      expect((err as KeyDeliveryError).kind).to.equal('empty');
      expect((err as KeyDeliveryError).status).to.equal(503);
    } finally {
      await a.close();
      await net.close();
      tmp.remove();
    }
  });
});
