// Client certificates under SNI: which trust a server applies when an SNICallback or addContext() picks
// another context — for the CertificateRequest's certificate_authorities (read on the wire through a
// relay, and from the qtls client's trace) and for verifying the client certificate — with node ↔ node
// configured alike as the reference for every combination (the context with its own `ca`, with the
// server's, without one; the server with and without `ca`; rejectUnauthorized on and off). Then
// resumption: node runs no SNICallback on a resumed handshake and reports the verdict of the full one;
// qtls does the same, except that a server requiring a verified certificate re-checks it against the
// trust its SNI selects today and falls back to a full handshake whenever that trust is unknown.
import { expect } from 'chai';
import { constants as cryptoConstants, randomBytes, X509Certificate } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as nodeTls from 'node:tls';
import { createSecureContext } from '../../lib/index.js';
import { HandshakeType } from '../../lib/handshake/handshake-type.js';
import { decodeSessionState } from '../../lib/handshake/session-state.js';
import { parseCertificateRequest } from '../../lib/handshake/messages/certificate-request.js';
import { resetSystemCertificates } from '../../lib/pki/trust-store.js';
import { parseCertificate } from '../../lib/pki/x509.js';
import { useCleanup, type Cleanup } from '../helpers/cleanup.js';
import { BAD_CERTS, CERTS, PKI_DIR, pki, pkiPath } from '../helpers/fixtures.js';
import { describeReport, runClient, startEchoServer, type EchoServer, type EndpointReport, type Impl } from '../helpers/peers.js';
import { parseFlight, startTap, type Tap } from '../helpers/wire.js';

/** Trust A: the test PKI's roots (ca.pem). Trust B: another root, unknown-root-ca.pem. */
const CA_A = pki('ca.pem');
const CA_B = pki('unknown-root-ca.pem');
const CLIENTS = {
  A: { cert: pki('client-chain.pem'), key: pki('client-key.pem') }, // CN=client, under trust A
  B: { cert: pki('other-client-cert.pem'), key: pki('other-client-key.pem') }, // CN=other client, under trust B
  none: {},
} as const;
type ClientName = keyof typeof CLIENTS;
/** The server's own certificate, and the one of the context SNI selects for SNI_NAME. */
const DEFAULT = { cert: BAD_CERTS['wrong-name'].chain(), key: BAD_CERTS['wrong-name'].key() };
const SNI_CERT = { cert: CERTS['ecdsa-p256'].chain(), key: CERTS['ecdsa-p256'].key() };
const SNI_NAME = 'sni.example';
const fingerprint = (chain: Buffer) => new X509Certificate(chain).fingerprint256;
const SERVED: Record<string, string> = { [fingerprint(DEFAULT.cert)]: 'default', [fingerprint(SNI_CERT.cert)]: 'sni' };

/** CertificateRequest names by subject DER. */
const subjectHex = (pem: Buffer) => Buffer.from(parseCertificate(new X509Certificate(pem).raw).subject.der).toString('hex');
const NAMES: Record<string, string> = {
  [subjectHex(pki('root-ca.pem'))]: 'A:root-ca',
  [subjectHex(pki('rsa-root-ca.pem'))]: 'A:rsa-root-ca',
  [subjectHex(CA_B)]: 'B:unknown-root-ca',
};
const NAMES_A = ['A:root-ca', 'A:rsa-root-ca'];
const NAMES_B = ['B:unknown-root-ca'];
const nameOf = (der: Uint8Array) => NAMES[Buffer.from(der).toString('hex')] ?? `other:${Buffer.from(der).toString('hex')}`;
/** The certificate_authorities of the first CertificateRequest in `body`s; null when there was none. */
const authoritiesOf = (body: Uint8Array | undefined) => (body ? parseCertificateRequest(body).authorities.map(nameOf) : null);

type Trust = 'A' | 'B' | 'none';
const caOf = (t: Trust) => (t === 'A' ? { ca: CA_A } : t === 'B' ? { ca: CA_B } : {});
type Mode = 'SNICallback' | 'addContext';
/**
 * How the context reaches the server. node: an SNICallback answers with a SecureContext, addContext()
 * takes the options. qtls also takes the other form of each ('alt'): options from the SNICallback, a
 * createSecureContext() context in addContext().
 */
type Form = 'node' | 'alt';

interface Config {
  mode: Mode;
  serverCa: Trust;
  ctxCa: Trust;
  rejectUnauthorized: boolean;
}

/** A server of `impl` with `cfg`, behind a relay that records the CertificateRequest it sends. */
async function sniServer(impl: Impl, cfg: Config, cleanup: Cleanup, form: Form = 'node', extra: Record<string, unknown> = {}) {
  const ctxOptions = { ...SNI_CERT, ...caOf(cfg.ctxCa) };
  const calls: string[] = [];
  const options: Record<string, unknown> = { ...DEFAULT, ...caOf(cfg.serverCa), requestCert: true, rejectUnauthorized: cfg.rejectUnauthorized, maxVersion: 'TLSv1.2', ...extra };
  if (cfg.mode === 'SNICallback') {
    const ctx = impl === 'node' ? nodeTls.createSecureContext(ctxOptions) : form === 'alt' ? ctxOptions : createSecureContext(ctxOptions);
    options.SNICallback = (name: string, cb: (e: Error | null, c?: unknown) => void) => {
      calls.push(name);
      cb(null, name === SNI_NAME ? ctx : undefined);
    };
  }
  const server = await startEchoServer(impl, options as never, cleanup);
  // getPeerCertificate(true)'s issuer chain, by connection (in the order of server.sessions).
  const chains: string[] = [];
  server.server.on('secureConnection', (sock: { getPeerCertificate(detailed: true): unknown }) => chains.push(issuerChain(sock.getPeerCertificate(true))));
  if (cfg.mode === 'addContext') server.server.addContext(SNI_NAME, (impl === 'qtls' && form === 'alt' ? createSecureContext(ctxOptions) : ctxOptions) as never);
  const tap = await startTap(server.port);
  cleanup.defer(() => tap.close());
  return { server, tap, calls, chains };
}

/** The subject CNs along getPeerCertificate(true)'s issuerCertificate links ('' for no certificate). */
function issuerChain(cert: unknown): string {
  const names: string[] = [];
  const seen = new Set<unknown>();
  for (let c = cert as { subject?: { CN?: string }; issuerCertificate?: unknown } | undefined; c?.subject && !seen.has(c); c = c.issuerCertificate as typeof c) {
    seen.add(c);
    names.push(String(c.subject.CN));
  }
  return names.join(' > ');
}

/** What one connection showed: the server's verdict, the certificate served, the names requested. */
interface Seen {
  accepted: boolean;
  authorized?: boolean;
  code?: string;
  peer?: unknown;
  /** The server's getPeerCertificate(true): subject CNs along issuerCertificate. */
  chain?: string;
  served?: string;
  /** certificate_authorities on the wire (null: no CertificateRequest). */
  authorities: string[] | null;
}

async function connect(clientImpl: Impl, s: { server: EchoServer; tap: Tap; chains: string[] }, client: ClientName, sni: boolean, extra: Record<string, unknown> = {}): Promise<Seen & { report: EndpointReport; traced?: string[] | null }> {
  const before = s.server.sessions.length;
  let traced: string[] | null = null;
  const trace = (e: { direction: string; kind: string; type?: number; raw?: Uint8Array }) => {
    if (e.direction === 'in' && e.kind === 'handshake' && e.type === HandshakeType.certificate_request && e.raw && traced === null) traced = authoritiesOf(e.raw.subarray(4));
  };
  const report = await runClient(clientImpl, {
    port: s.tap.port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...CLIENTS[client], ...(sni ? { servername: SNI_NAME } : {}),
    ...(clientImpl === 'qtls' ? { trace } : {}), ...extra,
  } as never, { payload: Buffer.from('sni-auth\n') });
  const wire = parseFlight(s.tap.connections.at(-1)!.s2c);
  const authorities = authoritiesOf(wire.handshakes.find((h) => h.type === HandshakeType.certificate_request)?.body);
  const session = s.server.sessions[before];
  const seen: Seen = session
    ? { accepted: true, authorized: session.authorized, code: session.authorizationCode, peer: session.peer?.subjectCN, chain: s.chains[before], served: SERVED[String(report.peer?.fingerprint256)], authorities }
    : { accepted: false, authorities };
  return { ...seen, report, ...(clientImpl === 'qtls' ? { traced } : {}) };
}

const strip = ({ report: _r, traced: _t, ...seen }: Seen & { report?: EndpointReport; traced?: unknown }): Seen => seen;

describe('interop: client certificates under SNI (SNICallback, addContext)', function () {
  this.timeout(60_000);
  const cleanup = useCleanup();

  describe('which trust applies: the CertificateRequest names and the verification, as node', () => {
    const CASES: Array<[ClientName, boolean]> = [['A', true], ['A', false], ['B', true], ['B', false], ['none', true], ['none', false]];

    /** All six client cases against one server. */
    async function run(serverImpl: Impl, clientImpl: Impl, cfg: Config, form: Form = 'node') {
      const s = await sniServer(serverImpl, cfg, cleanup, form);
      const out: Record<string, Seen> = {};
      for (const [client, sni] of CASES) {
        const seen = await connect(clientImpl, s, client, sni);
        // The qtls client read the same CertificateRequest as the relay.
        if (clientImpl === 'qtls') expect(seen.traced, `${client} sni=${sni}: the qtls client's trace`).to.deep.equal(seen.authorities);
        out[`client ${client}, ${sni ? 'SNI' : 'no SNI'}`] = strip(seen);
      }
      // Without SNI nothing is selected; the SNICallback sees only SNI_NAME.
      if (cfg.mode === 'SNICallback') expect(s.calls, `${serverImpl} SNICallback calls`).to.deep.equal(CASES.filter(([, sni]) => sni).map(() => SNI_NAME));
      return out;
    }

    for (const mode of ['SNICallback', 'addContext'] as const) {
      for (const serverCa of ['A', 'none'] as const) {
        for (const ctxCa of ['B', 'A', 'none'] as const) {
          for (const rejectUnauthorized of [true, false]) {
            const cfg: Config = { mode, serverCa, ctxCa, rejectUnauthorized };
            it(`${mode}: server ca ${serverCa}, context ca ${ctxCa}, rejectUnauthorized ${rejectUnauthorized}`, async () => {
              const reference = await run('node', 'node', cfg);
              // The reference itself: the selected context's ca names and decides; the server's only without SNI.
              const sniNames = ctxCa === 'A' ? NAMES_A : ctxCa === 'B' ? NAMES_B : [];
              expect(reference['client A, SNI']!.authorities, 'node: names with SNI').to.deep.equal(sniNames);
              expect(reference['client A, no SNI']!.authorities, 'node: names without SNI').to.deep.equal(serverCa === 'A' ? NAMES_A : []);
              const trustedWithSni = ctxCa === 'none' ? undefined : ctxCa;
              for (const c of ['A', 'B'] as const) {
                const r = reference[`client ${c}, SNI`]!;
                expect(rejectUnauthorized ? r.accepted : r.authorized, `node: client ${c} with SNI`).to.equal(trustedWithSni === c);
              }
              expect(await run('qtls', 'node', cfg), 'node client → qtls server').to.deep.equal(reference);
              expect(await run('qtls', 'qtls', cfg), 'qtls client → qtls server').to.deep.equal(reference);
              expect(await run('qtls', 'node', cfg, 'alt'), `node client → qtls server, the context ${mode === 'SNICallback' ? 'as options' : 'from createSecureContext()'}`).to.deep.equal(reference);
            });
          }
        }
      }
    }

    it("a context without ca verifies against the default store, not the server's ca: a root added to it (node: NODE_EXTRA_CA_CERTS, qtls: SSL_CERT_FILE) is trusted there, and named nowhere", async function () {
      const dir = mkdtempSync(path.join(tmpdir(), 'qtls-sni-store-'));
      cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
      // node, in a child whose default store holds root B: SNICallback → a context without ca; server ca A.
      const script = `
        import tls from 'node:tls';
        import fs from 'node:fs';
        const P = (f) => fs.readFileSync(${JSON.stringify(PKI_DIR)} + '/' + f);
        const ctx = tls.createSecureContext({ cert: P('ecdsa-p256-chain.pem'), key: P('ecdsa-p256-key.pem') });
        const server = tls.createServer({ cert: P('wrong-name-chain.pem'), key: P('wrong-name-key.pem'), ca: P('ca.pem'), requestCert: true, rejectUnauthorized: false, maxVersion: 'TLSv1.2',
          SNICallback: (n, cb) => cb(null, n === ${JSON.stringify(SNI_NAME)} ? ctx : undefined) }, (s) => {
          const code = s.authorizationError ?? undefined;
          s.end(JSON.stringify({ authorized: s.authorized, code, peer: s.getPeerCertificate().subject?.CN, chain: (${issuerChain.toString()})(s.getPeerCertificate(true)) }) + '\\n');
        });
        server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
        process.stdin.on('end', () => process.exit(0)).resume();`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: pkiPath('unknown-root-ca.pem') }, stdio: ['pipe', 'pipe', 'pipe'] });
      cleanup.defer(() => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.stdin.end()))));
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`node child did not start: ${out}`)), 10_000);
        child.once('exit', () => (clearTimeout(timer), reject(new Error(`node child exited: ${out}`))));
        child.stdout.on('data', () => {
          const m = /PORT (\d+)/.exec(out);
          if (m) (clearTimeout(timer), resolve(Number(m[1])));
        });
      });
      const tap = await startTap(port);
      cleanup.defer(() => tap.close());
      const nodeSeen = async (client: ClientName, sni: boolean) => {
        const r = await runClient('node', { port: tap.port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...CLIENTS[client], ...(sni ? { servername: SNI_NAME } : {}) }, { closeBy: 'server' });
        const answer = JSON.parse(r.received.toString()) as { authorized: boolean; code?: string; peer?: string; chain: string };
        const authorities = authoritiesOf(parseFlight(tap.connections.at(-1)!.s2c).handshakes.find((h) => h.type === HandshakeType.certificate_request)?.body);
        return { accepted: true, authorized: answer.authorized, code: answer.code, peer: answer.peer, chain: answer.chain, served: SERVED[String(r.peer?.fingerprint256)], authorities };
      };

      // qtls, in this process, with the system store replaced by a bundle holding root B.
      const bundle = path.join(dir, 'bundle.pem');
      writeFileSync(bundle, CA_B);
      const saved = process.env['SSL_CERT_FILE'];
      process.env['SSL_CERT_FILE'] = bundle;
      resetSystemCertificates();
      cleanup.defer(() => {
        if (saved === undefined) delete process.env['SSL_CERT_FILE'];
        else process.env['SSL_CERT_FILE'] = saved;
        resetSystemCertificates();
      });
      const s = await sniServer('qtls', { mode: 'SNICallback', serverCa: 'A', ctxCa: 'none', rejectUnauthorized: false }, cleanup);

      for (const [client, sni] of [['B', true], ['A', true], ['B', false], ['A', false]] as const) {
        const ref = await nodeSeen(client, sni);
        const qtls = strip(await connect('node', s, client, sni));
        expect(qtls, `client ${client}, ${sni ? 'SNI' : 'no SNI'}`).to.deep.equal(ref);
        // The default store holds B: with SNI (context without ca) B is trusted and nothing is named; A,
        // which only the server's ca trusts, is not.
        if (sni) expect(ref, `node, client ${client} with SNI`).to.deep.include({ authorized: client === 'B', authorities: [] });
        else expect(ref, `node, client ${client} without SNI`).to.deep.include({ authorized: client === 'A', authorities: NAMES_A });
      }
    });
  });

  describe('resumption', () => {
    type Kind = 'ticket' | 'session ID';
    /** Tickets, or session IDs kept through newSession/resumeSession (node keeps them no other way). */
    function resumptionOptions(impl: Impl, kind: Kind, ticketKeys?: Buffer): Record<string, unknown> {
      if (kind === 'ticket') return ticketKeys ? { ticketKeys } : {};
      return impl === 'node' ? { secureOptions: cryptoConstants.SSL_OP_NO_TICKET } : { sessionTickets: false };
    }
    function sessionStore(server: EchoServer, store: Map<string, Buffer>): void {
      server.server.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => (store.set(id.toString('hex'), data), cb()));
      server.server.on('resumeSession', (id: Buffer, cb: (e: Error | null, d: Buffer | null) => void) => cb(null, store.get(id.toString('hex')) ?? null));
    }
    // served: the client's view, and node's client reports no peer certificate on a resumed session.
    const brief = (s: Seen & { report: EndpointReport }) => ({ ...strip(s), reused: s.report.reused, authorities: undefined, served: undefined });

    /**
     * A full handshake on one server, then a resumption attempt with its session on `second` (the same
     * server unless given: another one with the same ticket keys or session store, as after a restart).
     */
    async function fullThenResume(serverImpl: Impl, clientImpl: Impl, kind: Kind, client: ClientName, sni: boolean, first: Config, second?: Config, between?: (s: Awaited<ReturnType<typeof sniServer>>) => void) {
      const ticketKeys = randomBytes(48);
      const store = new Map<string, Buffer>();
      const s1 = await sniServer(serverImpl, first, cleanup, 'node', resumptionOptions(serverImpl, kind, ticketKeys));
      sessionStore(s1.server, store);
      const s2 = second ? await sniServer(serverImpl, second, cleanup, 'node', resumptionOptions(serverImpl, kind, ticketKeys)) : s1;
      if (second) sessionStore(s2.server, store);
      const one = await connect(clientImpl, s1, client, sni);
      expect(one.report.session, `${serverImpl} ← ${clientImpl}: a session (${describeReport(one.report)})`).to.not.equal(undefined);
      between?.(s1);
      const two = await connect(clientImpl, s2, client, sni, { session: one.report.session });
      return { one: brief(one), two: brief(two), calls: second ? [s1.calls.length, s2.calls.length] : [s1.calls.length], full: one, resumed: two };
    }

    const PAIRS: Array<[Impl, Impl]> = [['qtls', 'node'], ['qtls', 'qtls']];

    for (const kind of ['ticket', 'session ID'] as const) {
      describe(kind, () => {
        it("a lenient server (requestCert): no SNICallback on the resumed handshake, and the verdict of the full one again — not a verification against the server's ca — as node", async () => {
          const cases: Array<[Config, ClientName]> = [
            // Trusted by the context only: authorized again on resumption.
            [{ mode: 'SNICallback', serverCa: 'A', ctxCa: 'B', rejectUnauthorized: false }, 'B'],
            [{ mode: 'addContext', serverCa: 'A', ctxCa: 'B', rejectUnauthorized: false }, 'B'],
            // Trusted by the server only (the context has no ca): unauthorized again, with the same code.
            [{ mode: 'SNICallback', serverCa: 'A', ctxCa: 'none', rejectUnauthorized: false }, 'A'],
            [{ mode: 'addContext', serverCa: 'A', ctxCa: 'none', rejectUnauthorized: false }, 'A'],
            // No client certificate: node's error again.
            [{ mode: 'SNICallback', serverCa: 'A', ctxCa: 'B', rejectUnauthorized: false }, 'none'],
          ];
          for (const [cfg, client] of cases) {
            const why = `${cfg.mode}, context ca ${cfg.ctxCa}, client ${client}`;
            const ref = await fullThenResume('node', 'node', kind, client, true, cfg);
            expect(ref.two.reused, `node: ${why}`).to.equal(true);
            expect(ref.calls, `node: ${why}: SNICallback calls`).to.deep.equal([cfg.mode === 'SNICallback' ? 1 : 0]);
            // (Not getPeerCertificate(true): a resumed session keeps only the leaf, completed from the
            // server's store — compared with qtls's just below.)
            expect({ ...ref.two, reused: undefined, chain: undefined }, `node: ${why}: the same verdict`).to.deep.equal({ ...ref.one, reused: undefined, chain: undefined });
            for (const [serverImpl, clientImpl] of PAIRS) {
              const r = await fullThenResume(serverImpl, clientImpl, kind, client, true, cfg);
              expect({ one: r.one, two: r.two, calls: r.calls }, `${clientImpl} client → ${serverImpl} server: ${why}`).to.deep.equal({ one: ref.one, two: ref.two, calls: ref.calls });
            }
          }
        });

        it("a server requiring a verified certificate (rejectUnauthorized) resumes an addContext() session whose certificate its context's ca trusts, as node", async () => {
          const cfg: Config = { mode: 'addContext', serverCa: 'A', ctxCa: 'B', rejectUnauthorized: true };
          const ref = await fullThenResume('node', 'node', kind, 'B', true, cfg);
          expect(ref.two, 'node').to.deep.include({ reused: true, accepted: true, authorized: true, peer: 'other client' });
          for (const [serverImpl, clientImpl] of PAIRS) {
            const r = await fullThenResume(serverImpl, clientImpl, kind, 'B', true, cfg);
            expect(r.two, `${clientImpl} client → ${serverImpl} server`).to.deep.equal(ref.two);
          }
        });

        it('…but with an SNICallback it does a full handshake instead: node resumes without calling it, and without calling it the context and its ca are unknown', async () => {
          const cfg: Config = { mode: 'SNICallback', serverCa: 'A', ctxCa: 'B', rejectUnauthorized: true };
          const ref = await fullThenResume('node', 'node', kind, 'B', true, cfg);
          expect({ reused: ref.two.reused, calls: ref.calls }, 'node resumes').to.deep.equal({ reused: true, calls: [1] });
          for (const [serverImpl, clientImpl] of PAIRS) {
            const r = await fullThenResume(serverImpl, clientImpl, kind, 'B', true, cfg);
            // The full handshake runs the SNICallback and verifies under the context's ca: connected, not resumed.
            expect(r.two, `${clientImpl} client → ${serverImpl} server`).to.deep.equal({ ...ref.two, reused: false });
            expect(r.calls).to.deep.equal([2]);
            // A session without SNI (the server's own ca applies) still resumes there.
            const noSni = await fullThenResume(serverImpl, clientImpl, kind, 'A', false, cfg);
            expect(noSni.two, `${clientImpl} client → ${serverImpl} server, no SNI`).to.deep.include({ reused: true, authorized: true, peer: 'client' });
            expect(noSni.calls).to.deep.equal([0]);
          }
        });

        it("today's policy: once the context for the session's SNI no longer trusts its certificate, no resumption (node resumes and reports it authorized)", async () => {
          const cfg: Config = { mode: 'addContext', serverCa: 'A', ctxCa: 'B', rejectUnauthorized: true };
          // The context added last wins: the name now selects one that trusts A only.
          const retrust = (s: Awaited<ReturnType<typeof sniServer>>) => s.server.server.addContext(SNI_NAME, { ...SNI_CERT, ca: CA_A } as never);
          const ref = await fullThenResume('node', 'node', kind, 'B', true, cfg, undefined, retrust);
          expect(ref.two, 'node').to.deep.include({ reused: true, accepted: true, authorized: true });
          for (const [serverImpl, clientImpl] of PAIRS) {
            const r = await fullThenResume(serverImpl, clientImpl, kind, 'B', true, cfg, undefined, retrust);
            expect(r.two, `${clientImpl} client → ${serverImpl} server`).to.deep.include({ accepted: false, reused: undefined });
            expect(r.resumed.report.secure, describeReport(r.resumed.report)).to.equal(false);
          }
        });

        for (const mode of ['addContext', 'SNICallback'] as const) {
          it(`${mode}: another server sharing ticket keys or the session store (a restart, a cluster) whose context for the SNI trusts other CAs than the server's does not resume the session (node does)`, async () => {
            // Made where the context trusts A; offered where the context trusts B only — and the server A.
            const made: Config = { mode, serverCa: 'A', ctxCa: 'A', rejectUnauthorized: true };
            const other: Config = { mode, serverCa: 'A', ctxCa: 'B', rejectUnauthorized: true };
            const ref = await fullThenResume('node', 'node', kind, 'A', true, made, other);
            expect(ref.two, 'node').to.deep.include({ reused: true, accepted: true, authorized: true });
            expect(ref.calls, 'node: SNICallback calls').to.deep.equal(mode === 'SNICallback' ? [1, 0] : [0, 0]);
            for (const [serverImpl, clientImpl] of PAIRS) {
              const r = await fullThenResume(serverImpl, clientImpl, kind, 'A', true, made, other);
              expect(r.one, `${clientImpl} client → ${serverImpl} server, first`).to.deep.include({ accepted: true, authorized: true });
              // A full handshake, under the context's ca B: refused.
              expect(r.two, `${clientImpl} client → ${serverImpl} server`).to.deep.include({ accepted: false });
              expect(r.calls, 'SNICallback calls').to.deep.equal(mode === 'SNICallback' ? [1, 1] : [0, 0]);
              // The same configuration on both (a plain restart): resumed with addContext(); with an
              // SNICallback a full handshake, which accepts the certificate again.
              const same = await fullThenResume(serverImpl, clientImpl, kind, 'A', true, made, made);
              expect(same.two, `${clientImpl} client → ${serverImpl} server, same configuration`).to.deep.include({ reused: mode === 'addContext', accepted: true, authorized: true });
            }
          });
        }

        it("a server without requestCert reports a resumed session's client certificate, not authorized and without error, as node", async () => {
          const made: Config = { mode: 'addContext', serverCa: 'A', ctxCa: 'A', rejectUnauthorized: false };
          const ref = await fullThenResumeWithout('node', 'node', kind, made);
          expect(ref.two, 'node').to.deep.include({ reused: true, authorized: false, code: undefined, peer: 'client' });
          for (const [serverImpl, clientImpl] of PAIRS) {
            const r = await fullThenResumeWithout(serverImpl, clientImpl, kind, made);
            expect({ one: r.one, two: r.two }, `${clientImpl} client → ${serverImpl} server`).to.deep.equal({ one: ref.one, two: ref.two });
          }
        });
      });
    }

    it('a session stored by an earlier qtls (format 2, no verdict to report): resumed without a client certificate, a full handshake with one; a client session of format 2 still resumes', async () => {
      const cfg: Config = { mode: 'addContext', serverCa: 'A', ctxCa: 'B', rejectUnauthorized: false };
      for (const [client, reused] of [['B', false], ['none', true]] as const) {
        const store = new Map<string, Buffer>();
        const s = await sniServer('qtls', cfg, cleanup, 'node', resumptionOptions('qtls', 'session ID'));
        sessionStore(s.server, store);
        const one = await connect('node', s, client, true);
        for (const [id, data] of store) store.set(id, toFormat2(data));
        const two = await connect('node', s, client, true, { session: one.report.session });
        expect(brief(two), `client ${client}`).to.deep.equal({ ...brief(one), reused });
      }
      const s = await sniServer('qtls', cfg, cleanup);
      const one = await connect('qtls', s, 'B', true);
      const two = await connect('qtls', s, 'B', true, { session: toFormat2(one.report.session!) });
      expect(brief(two)).to.deep.include({ reused: true, authorized: true });
    });

    /** The same session state in the encoding before clientVerdict (format 2): without the trailing verdict. */
    function toFormat2(encoded: Buffer): Buffer {
      const v = decodeSessionState(encoded).clientVerdict;
      const verdictBytes = 1 + 1 + Buffer.byteLength(v?.code ?? '') + 2 + Buffer.byteLength(v?.message ?? '');
      const old = Buffer.concat([Buffer.from([2]), encoded.subarray(1, encoded.length - verdictBytes)]);
      const { clientVerdict: _, ...rest } = decodeSessionState(encoded);
      expect(decodeSessionState(old)).to.deep.equal(rest);
      return old;
    }

    /** A session made with requestCert, resumed on a server with the same keys/store without requestCert. */
    async function fullThenResumeWithout(serverImpl: Impl, clientImpl: Impl, kind: Kind, made: Config) {
      const ticketKeys = randomBytes(48);
      const store = new Map<string, Buffer>();
      const s1 = await sniServer(serverImpl, made, cleanup, 'node', resumptionOptions(serverImpl, kind, ticketKeys));
      const s2 = await sniServer(serverImpl, made, cleanup, 'node', { ...resumptionOptions(serverImpl, kind, ticketKeys), requestCert: false });
      sessionStore(s1.server, store);
      sessionStore(s2.server, store);
      const one = await connect(clientImpl, s1, 'A', true);
      const two = await connect(clientImpl, s2, 'A', true, { session: one.report.session });
      return { one: brief(one), two: brief(two) };
    }
  });
});
