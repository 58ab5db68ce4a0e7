// SSLKEYLOGFILE (NSS key log format) on both qtls sides, checked against the peer's own record of the
// same connection: node:tls's 'keylog' event and openssl's -keylogfile. A matching line proves the
// client random and the master secret are identical on both ends (what Wireshark needs).
import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca, textPayload } from '../helpers/fixtures.js';
import { describeReport, requireOpenssl, runClient, runOpensslClient, startEchoServer, type Impl } from '../helpers/peers.js';

const NSS_LINE = /^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/;

describe('interop: SSLKEYLOGFILE and the keylog event', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();
  let dir: string;
  let saved: string | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'qtls-keylog-'));
    saved = process.env.SSLKEYLOGFILE;
    delete process.env.SSLKEYLOGFILE;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.SSLKEYLOGFILE;
    else process.env.SSLKEYLOGFILE = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  /** One echo connection; the server is node when the client is qtls and vice versa. */
  async function connection(qtlsSide: 'client' | 'server') {
    const [clientImpl, serverImpl]: [Impl, Impl] = qtlsSide === 'client' ? ['qtls', 'node'] : ['node', 'qtls'];
    const cert = CERTS['ecdsa-p256'];
    const server = await startEchoServer(serverImpl, { cert: cert.chain(), key: cert.key() }, cleanup);
    const payload = Buffer.from('keylog test\n');
    const client = await runClient(clientImpl, { port: server.port, servername: 'localhost', ca: ca() }, { payload });
    const srv = await server.session(0);
    await srv.closed;
    expect(client.error, describeReport(client)).to.equal(undefined);
    expect(srv.error, describeReport(srv)).to.equal(undefined);
    expect(client.received.equals(payload)).to.equal(true);
    return { client, server: srv, qtls: qtlsSide === 'client' ? client : srv, node: qtlsSide === 'client' ? srv : client };
  }

  for (const side of ['client', 'server'] as const) {
    it(`qtls ${side}: the SSLKEYLOGFILE line equals node:tls's 'keylog' line for the same connection`, async () => {
      const file = path.join(dir, 'keys.log');
      process.env.SSLKEYLOGFILE = file;
      const { qtls, node } = await connection(side);
      const content = readFileSync(file, 'latin1');
      expect(node.keylog, 'node keylog events').to.have.length(1);
      expect(node.keylog[0]).to.match(NSS_LINE);
      // Exactly one line, newline-terminated, identical to node's (same client random, same master secret).
      expect(content).to.equal(`${node.keylog[0]}\n`);
      // qtls's own 'keylog' event carries the same line.
      expect(qtls.keylog).to.deep.equal([node.keylog[0]]);
      // Secrets: the file qtls created is readable by its owner only.
      expect(statSync(file).mode & 0o777).to.equal(0o600);
    });
  }

  it('appends: two connections (qtls client, then qtls server) give two distinct lines, each matching node', async () => {
    const file = path.join(dir, 'keys.log');
    process.env.SSLKEYLOGFILE = file;
    const a = await connection('client');
    const b = await connection('server');
    const lines = readFileSync(file, 'latin1').split('\n');
    expect(lines).to.deep.equal([a.node.keylog[0], b.node.keylog[0], '']);
    expect(a.node.keylog[0]).to.not.equal(b.node.keylog[0]);
  });

  it('nothing is written when SSLKEYLOGFILE is unset or empty; the keylog event still fires', async () => {
    const file = path.join(dir, 'keys.log');
    process.env.SSLKEYLOGFILE = file;
    const first = await connection('client');
    const before = readFileSync(file, 'latin1');
    expect(before).to.equal(`${first.node.keylog[0]}\n`);

    delete process.env.SSLKEYLOGFILE;
    const unset = [await connection('client'), await connection('server')];
    process.env.SSLKEYLOGFILE = '';
    const empty = await connection('server');
    expect(readFileSync(file, 'latin1'), 'the key log changed while the variable was unset').to.equal(before);
    expect(readdirSync(dir)).to.deep.equal(['keys.log']);
    for (const c of [...unset, empty]) {
      expect(c.qtls.keylog).to.have.length(1);
      expect(c.qtls.keylog[0]).to.equal(c.node.keylog[0]);
    }
  });

  describe('against openssl', () => {
    before(function () {
      requireOpenssl(this);
    });

    it("qtls server's SSLKEYLOGFILE line equals openssl s_client's -keylogfile line", async () => {
      const file = path.join(dir, 'qtls.log');
      const opensslFile = path.join(dir, 'openssl.log');
      process.env.SSLKEYLOGFILE = file;
      const payload = textPayload(2);
      const server = await startEchoServer('qtls', { cert: CERTS.rsa.chain(), key: CERTS.rsa.key() }, cleanup, { closeAfter: payload.length });
      const res = await runOpensslClient({ port: server.port, input: payload, args: ['-keylogfile', opensslFile] });
      expect(res.exitCode, res.diagnostics).to.equal(0);
      await (await server.session(0)).closed;
      const ours = readFileSync(file, 'latin1');
      const theirs = readFileSync(opensslFile, 'latin1')
        .split('\n')
        .filter((l) => l.startsWith('CLIENT_RANDOM '));
      expect(theirs).to.have.length(1);
      expect(ours).to.equal(`${theirs[0]}\n`);
      expect(ours.split(' ')[2]!.trim()).to.equal(res.masterKey);
    });
  });
});
