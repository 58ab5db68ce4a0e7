// A name-constrained PKI over real handshakes: an unconstrained root, an enterprise sub-CA with a critical
// nameConstraints (permitted DNS example.test), and leaves inside and outside it.
//  - node:tls client → qtls server presenting the chain: node accepts the permitted leaf and refuses the
//    other with its own verdict (code UNSPECIFIED, "permitted subtree violation"), exactly as against a
//    node:tls server presenting the same chain;
//  - qtls client → node:tls server: qtls accepts the permitted leaf, refuses the other with the alert
//    openssl s_client sends for it (certificate_unknown), and with rejectUnauthorized false reports
//    node's authorizationError code;
//  - node:tls client certificate → qtls server (requestCert): qtls enforces the sub-CA's constraints on
//    client certificates too.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPair, issueCertificate, type IssuedCertificate } from '../../lib/pki/issue.js';
import type { PrivateKey } from '../../lib/crypto/keys.js';
import { useCleanup } from '../helpers/cleanup.js';
import { assertOpenssl } from '../helpers/openssl-verify.js';
import { describeReport, runClient, runOpensslClient, startEchoServer, type Impl } from '../helpers/peers.js';

const NB = new Date(Date.now() - 3600_000);
const NA = new Date(Date.now() + 30 * 86400_000);

interface Issued {
  issued: IssuedCertificate;
  key: PrivateKey;
  keyPem: string;
}

function make(subject: string, issuer: Issued | 'self', extra: Partial<Parameters<typeof issueCertificate>[0]> = {}): Issued {
  const kp = generateKeyPair('P-256');
  const issued = issueCertificate({
    subject: { CN: subject }, publicKey: kp.publicKey, issuer: issuer === 'self' ? 'self' : issuer.issued.certificate, issuerKey: issuer === 'self' ? kp.privateKey : issuer.key,
    notBefore: NB, notAfter: NA, isCA: false, ...extra,
  });
  return { issued, key: kp.privateKey, keyPem: kp.pem };
}

const root = make('NC Interop Root', 'self', { isCA: true });
const sub = make('NC Interop Enterprise CA', root, { isCA: true, nameConstraints: { permitted: { dns: ['example.test'] } } });
const server = (name: string) => make(name, sub, { san: { dns: [name] }, extKeyUsage: ['serverAuth'] });
const client = (name: string) => make(name, sub, { san: { dns: [name] }, extKeyUsage: ['clientAuth'] });

const GOOD = server('www.example.test');
const BAD = server('www.other.test');
const chainOf = (leaf: Issued) => Buffer.from(leaf.issued.pem + sub.issued.pem);
const CA = Buffer.from(root.issued.pem);

describe('interop: name-constrained chains (RFC 5280 §4.2.1.10) over TLS', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();
  let dir: string;
  before(() => {
    assertOpenssl();
    dir = mkdtempSync(path.join(os.tmpdir(), 'qtls-nc-interop-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function connect(clientImpl: Impl, serverImpl: Impl, leaf: Issued, rejectUnauthorized = true) {
    const srv = await startEchoServer(serverImpl, { cert: chainOf(leaf), key: Buffer.from(leaf.keyPem) }, cleanup);
    const servername = leaf.issued.certificate.subjectAltName!.dns[0]!;
    const c = await runClient(clientImpl, { port: srv.port, servername, ca: CA, rejectUnauthorized, maxVersion: 'TLSv1.2' }, { payload: Buffer.from('nc\n') });
    return { server: srv, client: c };
  }

  for (const serverImpl of ['qtls', 'node'] as const) {
    for (const clientImpl of ['node', 'qtls'] as const) {
      it(`${clientImpl} client → ${serverImpl} server: a leaf inside the permitted subtree is authorized`, async () => {
        const { client: c } = await connect(clientImpl, serverImpl, GOOD);
        const why = describeReport(c);
        expect(c.error, why).to.equal(undefined);
        expect(c.authorized, why).to.equal(true);
        expect(c.received.toString(), why).to.equal('nc\n');
      });
    }
  }

  it('node:tls client → qtls server: a leaf outside it is refused exactly as against a node:tls server', async () => {
    for (const reject of [true, false]) {
      const viaQtls = await connect('node', 'qtls', BAD, reject);
      const viaNode = await connect('node', 'node', BAD, reject);
      const why = `rejectUnauthorized ${reject}\n${describeReport(viaQtls.client)}\n${describeReport(viaNode.client)}`;
      if (reject) {
        expect(viaQtls.client.secure, why).to.equal(false);
        expect(viaQtls.client.error?.code, why).to.equal('UNSPECIFIED');
        expect(viaQtls.client.error?.message, why).to.equal('permitted subtree violation');
      } else {
        expect(viaQtls.client.authorized, why).to.equal(false);
        expect(viaQtls.client.authorizationCode, why).to.equal('UNSPECIFIED');
      }
      expect(viaQtls.client.error?.code, why).to.equal(viaNode.client.error?.code);
      expect(viaQtls.client.authorizationCode, why).to.equal(viaNode.client.authorizationCode);
    }
  });

  it('qtls client → node:tls server: a leaf outside it is refused with certificate_unknown, the alert openssl s_client sends', async () => {
    const q = await connect('qtls', 'node', BAD, true);
    const why = describeReport(q.client);
    expect(q.client.secure, why).to.equal(false);
    expect(q.client.received.length, why).to.equal(0);
    expect(q.client.error, why).to.deep.include({ alert: 'certificate_unknown', origin: 'local' });
    expect(q.client.error?.message, why).to.match(/permitted subtree violation: certificate "www\.other\.test": subjectAltName dNSName "www\.other\.test" is not within the permitted subtrees \(DNS:example\.test\) of the name constraints of "NC Interop Enterprise CA"/);
    const serverError = await q.server.clientError(0);
    expect(serverError.code, serverError.message).to.equal('ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN');

    // The reference: openssl s_client verifying the same chain sends the same alert.
    const caFile = path.join(dir, 'root.pem');
    writeFileSync(caFile, root.issued.pem);
    const srv = await startEchoServer('node', { cert: chainOf(BAD), key: Buffer.from(BAD.keyPem) }, cleanup);
    const o = await runOpensslClient({ port: srv.port, servername: 'www.other.test', verify: false, args: ['-CAfile', caFile, '-verify_return_error'], input: 'nc\n' });
    expect(o.facts.alertsOut, o.diagnostics).to.deep.equal(['certificate unknown']);
    expect(o.stdout + o.stderr, o.diagnostics).to.match(/permitted subtree violation/);
  });

  it('qtls client with rejectUnauthorized false: connects, authorized=false, node\'s authorizationError code', async () => {
    const q = await connect('qtls', 'node', BAD, false);
    const n = await connect('node', 'node', BAD, false);
    const why = `${describeReport(q.client)}\n${describeReport(n.client)}`;
    expect(q.client.secure, why).to.equal(true);
    expect(q.client.authorized, why).to.equal(false);
    expect(q.client.received.toString(), why).to.equal('nc\n');
    expect(q.client.authorizationCode, why).to.equal(n.client.authorizationCode);
    expect(q.client.authorizationCode, why).to.equal('UNSPECIFIED');
  });

  it('node:tls client certificate → qtls server (requestCert): permitted accepted, outside refused with certificate_unknown', async () => {
    const serverCert = server('api.example.test');
    for (const [leaf, ok] of [[client('client.example.test'), true], [client('client.other.test'), false]] as const) {
      const srv = await startEchoServer('qtls', { cert: chainOf(serverCert), key: Buffer.from(serverCert.keyPem), requestCert: true, rejectUnauthorized: true, ca: CA }, cleanup);
      const c = await runClient('node', { port: srv.port, servername: 'api.example.test', ca: CA, cert: chainOf(leaf), key: Buffer.from(leaf.keyPem), maxVersion: 'TLSv1.2' }, { payload: Buffer.from('nc\n') });
      const why = describeReport(c);
      if (ok) {
        const session = await srv.session(0);
        expect(c.error, why).to.equal(undefined);
        expect(c.received.toString(), why).to.equal('nc\n');
        expect(session.authorized, why).to.equal(true);
      } else {
        const e = await srv.clientError(0);
        expect(e, e.message).to.deep.include({ alert: 'certificate_unknown' });
        expect(e.message).to.match(/client certificate rejected: permitted subtree violation/);
        expect(c.error?.code, why).to.equal('ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN');
      }
    }
  });
});
