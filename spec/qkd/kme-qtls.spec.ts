// The TLS seam: the whole KME network (014 and 004 listeners, SAE clients) on qtls's own TLS stack
// instead of node:tls, through the two injection points.
import { expect } from 'chai';
import { Etsi004KeyDelivery } from '../../lib/qkd/etsi004/key-delivery.js';
import { Etsi014KeyDelivery } from '../../lib/qkd/etsi014/key-delivery.js';
import { startKmeNetwork } from '../../lib/qkd/kme/network.js';
import { qtlsConnect, qtlsServerFactory } from '../../lib/qkd/qtls-transport.js';
import { creds, tempDir, until } from './helpers.js';

describe('KME network over qtls (tlsConnect / tlsServerFactory swapped)', function () {
  it('014 and 004 round trips with mutual TLS on qtls', async function () {
    const tmp = tempDir('qtls');
    const net = await startKmeNetwork({ dataDir: tmp.dir, limits: { maxKeyCount: 16 }, tlsConnect: qtlsConnect, tlsServerFactory: qtlsServerFactory });
    const c = (sae: string) => ({ ...creds(net.pki, sae), tlsConnect: qtlsConnect });
    const d014 = [new Etsi014KeyDelivery({ url: net.A.url, ...c('sae-a') }), new Etsi014KeyDelivery({ url: net.B.url, ...c('sae-b') })] as const;
    const d004 = [
      new Etsi004KeyDelivery({ host: '127.0.0.1', port: net.A.port004, ...c('sae-a'), saeId: 'sae-a' }),
      new Etsi004KeyDelivery({ host: '127.0.0.1', port: net.B.port004, ...c('sae-b'), saeId: 'sae-b' }),
    ] as const;
    try {
      await until(() => net.sites.A.storedKeyCount() >= 4, 'pool filled');
      for (const [m, s] of [d014, d004]) {
        const k = await m.getKey('sae-b', { sizeBits: 256 });
        const k2 = await s.getKeyById('sae-a', k.keyId, { sizeBits: 256 });
        expect(Buffer.from(k2.key).equals(Buffer.from(k.key)), m.api).to.equal(true);
      }
    } finally {
      for (const d of [...d014, ...d004]) await d.close();
      await net.close();
      tmp.remove();
    }
  });
});
