// Session resumption (RFC 5246 §7.3 session IDs, RFC 5077 tickets) on both sides: the `session` option
// / 'session' event / isSessionReused(), the server cache and node's newSession/resumeSession events,
// ticketKeys (shared, rotated, tampered, expired tickets fall back to a full handshake), the RFC 7627
// §5.3 extended-master-secret rules, openssl s_client -reconnect / -sess_out / -sess_in, openssl
// s_server, node:tls — and a session made on one `cluster` worker resumed on another.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as cryptoConstants, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { connect as qtlsConnect } from '../../lib/index.js';
import { decodeSessionState, encodeSessionState, nowSeconds } from '../../lib/handshake/session-state.js';
import { TicketKeys } from '../../lib/handshake/tickets.js';
import { ExtensionType } from '../../lib/handshake/extensions.js';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca, pki } from '../helpers/fixtures.js';
import { requireOpenssl, runOpensslClient, startOpensslServer } from '../helpers/openssl.js';
import { LOCALHOST } from '../helpers/ports.js';
import { HostileClient } from '../hostile/helpers/hostile-client.js';
import { HostileServer } from '../hostile/helpers/hostile-server.js';
import { CLIENT_CERT, ECDSA_SERVER, runClient, show, startServer, type ClientRun } from './helpers/endpoints.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const reusedCount = (stdout: string) => (stdout.match(/^Reused, TLSv1\.2, /gm) ?? []).length;

/** Edit the state inside a client `session` Buffer. */
function editSession(session: Buffer, edit: (s: ReturnType<typeof decodeSessionState>) => void): Buffer {
  const s = decodeSessionState(session);
  edit(s);
  return Buffer.from(encodeSessionState(s));
}

/** Full handshake, then resume with its session; returns both runs. */
async function fullThenResume(port: number, options: Parameters<typeof runClient>[2] = {}): Promise<[ClientRun, ClientRun]> {
  const first = await runClient('qtls', port, { ca: ca(), ...options });
  expect(first.error, show(first)).to.equal(undefined);
  expect(first.session, 'no session event').to.be.instanceOf(Buffer);
  const second = await runClient('qtls', port, { ca: ca(), ...options, session: first.session });
  return [first, second];
}

describe('classical: session resumption', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();

  describe('qtls ↔ qtls', () => {
    it('RFC 5077 tickets: the second connection resumes (isSessionReused on both sides), same suite', async () => {
      const server = await startServer('qtls', { ...ECDSA_SERVER }, cleanup);
      const [first, second] = await fullThenResume(server.port);
      const [s1, s2] = [await server.next(), await server.next()];
      expect(first.reused).to.equal(false);
      expect(s1.reused).to.equal(false);
      expect(decodeSessionState(first.session!).ticket.length, 'a ticket was issued').to.be.greaterThan(0);
      expect(second.error, show(second)).to.equal(undefined);
      expect(second.reused, show(second)).to.equal(true);
      expect(s2.reused).to.equal(true);
      expect(second.cipher).to.equal(first.cipher);
      expect(second.received.toString()).to.equal('ping');
      // The server's certificate is re-checked on resumption: still authorized.
      expect(second.authorized).to.equal(true);
    });

    it('session IDs and the server cache: sessionTickets false on the server, or on the client', async () => {
      const noTickets = await startServer('qtls', { ...ECDSA_SERVER, sessionTickets: false }, cleanup);
      const [a1, a2] = await fullThenResume(noTickets.port);
      expect(decodeSessionState(a1.session!).ticket.length).to.equal(0);
      expect(decodeSessionState(a1.session!).sessionId.length).to.equal(32);
      expect(a2.reused, show(a2)).to.equal(true);

      const server = await startServer('qtls', { ...ECDSA_SERVER }, cleanup);
      const [b1, b2] = await fullThenResume(server.port, { sessionTickets: false });
      expect(decodeSessionState(b1.session!).ticket.length).to.equal(0);
      expect(b2.reused, show(b2)).to.equal(true);
    });

    it('newSession / resumeSession events hold the sessions; an unknown one means a full handshake', async () => {
      const store = new Map<string, Buffer>();
      const events: string[] = [];
      const server = await startServer('qtls', { ...ECDSA_SERVER, sessionTickets: false }, cleanup);
      server.server.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => {
        events.push('new');
        store.set(id.toString('hex'), data);
        setImmediate(cb);
      });
      server.server.on('resumeSession', (id: Buffer, cb: (e: Error | null, d: Buffer | null) => void) => {
        events.push('resume');
        setImmediate(() => cb(null, store.get(id.toString('hex')) ?? null));
      });
      const [first, second] = await fullThenResume(server.port);
      expect(second.reused, show(second)).to.equal(true);
      expect(events).to.deep.equal(['new', 'resume']);
      store.clear();
      const third = await runClient('qtls', server.port, { ca: ca(), session: first.session });
      expect(third.error, show(third)).to.equal(undefined);
      expect(third.reused).to.equal(false);
      expect(events).to.deep.equal(['new', 'resume', 'resume', 'new']);
    });

    it('ticketKeys: shared keys resume on another server; rotated keys still open old tickets (and renew them); other keys → full handshake', async () => {
      const k1 = randomBytes(48);
      const k2 = randomBytes(48);
      const a = await startServer('qtls', { ...ECDSA_SERVER, ticketKeys: k1 }, cleanup);
      expect((a.server as { getTicketKeys(): Buffer }).getTicketKeys().equals(k1)).to.equal(true);
      const b = await startServer('qtls', { ...ECDSA_SERVER, ticketKeys: k1 }, cleanup);
      const first = await runClient('qtls', a.port, { ca: ca() });
      const onB = await runClient('qtls', b.port, { ca: ca(), session: first.session });
      expect(onB.reused, show(onB)).to.equal(true);

      // Rotation on B: new key first (seals), old key second (still opens).
      (b.server as { setTicketKeys(k: Buffer): void }).setTicketKeys(Buffer.concat([k2, k1]));
      const rotated = await runClient('qtls', b.port, { ca: ca(), session: first.session });
      expect(rotated.reused, show(rotated)).to.equal(true);
      const renewed = decodeSessionState(rotated.session!).ticket;
      expect(Buffer.from(renewed.subarray(0, 16)).equals(k2.subarray(0, 16)), 'the renewed ticket is sealed with the new key').to.equal(true);

      const c = await startServer('qtls', { ...ECDSA_SERVER, ticketKeys: k2 }, cleanup);
      const stranger = await runClient('qtls', c.port, { ca: ca(), session: first.session });
      expect(stranger.error, show(stranger)).to.equal(undefined);
      expect(stranger.reused).to.equal(false);
      expect(c.errors).to.deep.equal([]);
    });

    it('a server requiring client certificates does not resume sessions that lack a verified one (shared ticketKeys)', async () => {
      const keys = randomBytes(48);
      const strictOpts = { ...ECDSA_SERVER, ticketKeys: keys, requestCert: true, rejectUnauthorized: true, ca: ca() };
      const lax = await startServer('qtls', { ...ECDSA_SERVER, ticketKeys: keys }, cleanup);
      const laxVerifying = await startServer('qtls', { ...ECDSA_SERVER, ticketKeys: keys, requestCert: true, rejectUnauthorized: false, ca: ca() }, cleanup);
      const strict = await startServer('qtls', strictOpts, cleanup);

      // No certificate at all: the strict server does a full handshake and refuses (no silent bypass).
      const noCert = await runClient('qtls', lax.port, { ca: ca() });
      const bypass = await runClient('qtls', strict.port, { ca: ca(), session: noCert.session });
      expect(bypass.secure, show(bypass)).to.equal(false);
      expect(bypass.error?.alert).to.equal('handshake_failure');
      expect((await strict.nextError()).message).to.match(/client sent none/);

      // A certificate the lax server accepted unverified (unknown CA): not resumed either.
      const stranger = await runClient('qtls', laxVerifying.port, { ca: ca(), cert: pki('unknown-ca-cert.pem'), key: pki('unknown-ca-key.pem') });
      expect((await laxVerifying.next()).authorized).to.equal(false);
      const retry = await runClient('qtls', strict.port, { ca: ca(), session: stranger.session });
      expect(retry.error?.alert, show(retry)).to.equal('handshake_failure');
      expect((await strict.nextError()).alert).to.equal('handshake_failure');

      // A verified client certificate: resumed, and still reported.
      const good = await runClient('qtls', strict.port, { ca: ca(), ...CLIENT_CERT });
      expect((await strict.next()).peerCN).to.equal('client');
      const again = await runClient('qtls', strict.port, { ca: ca(), session: good.session });
      const s = await strict.next();
      expect(again.reused, show(again)).to.equal(true);
      expect(s.reused).to.equal(true);
      expect(s.authorized).to.equal(true);
      expect(s.peerCN).to.equal('client');
    });

    it('a tampered or an expired ticket falls back to a full handshake, never a failure', async () => {
      const keys = randomBytes(48);
      const server = await startServer('qtls', { ...ECDSA_SERVER, ticketKeys: keys }, cleanup);
      const first = await runClient('qtls', server.port, { ca: ca() });
      await server.next();
      for (const offset of [0, 20, 40, -1]) {
        const tampered = editSession(first.session!, (s) => {
          s.ticket = Buffer.from(s.ticket);
          s.ticket[offset < 0 ? s.ticket.length + offset : offset]! ^= 0x40;
        });
        const c = await runClient('qtls', server.port, { ca: ca(), session: tampered });
        expect(c.error, `byte ${offset}: ${show(c)}`).to.equal(undefined);
        expect(c.reused, `byte ${offset}`).to.equal(false);
        expect((await server.next()).reused).to.equal(false);
      }
      // An expired ticket, genuinely sealed with the server's key: created long ago, lifetime over.
      const expired = editSession(first.session!, (s) => {
        s.ticket = new TicketKeys(keys).seal({ ...s, created: nowSeconds() - 3600, lifetime: 300 });
      });
      const c = await runClient('qtls', server.port, { ca: ca(), session: expired });
      expect(c.error, show(c)).to.equal(undefined);
      expect(c.reused).to.equal(false);
      // Control: the same construction, not expired, resumes.
      const fresh = editSession(first.session!, (s) => {
        s.ticket = new TicketKeys(keys).seal({ ...s, created: nowSeconds() - 60, lifetime: 300 });
      });
      const ok = await runClient('qtls', server.port, { ca: ca(), session: fresh });
      expect(ok.reused, show(ok)).to.equal(true);
      expect(server.errors).to.deep.equal([]);
    });

    it('an expired session from the resumeSession store also means a full handshake', async () => {
      const server = await startServer('qtls', { ...ECDSA_SERVER, sessionTickets: false }, cleanup);
      const store = new Map<string, Buffer>();
      server.server.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => (store.set(id.toString('hex'), data), cb()));
      server.server.on('resumeSession', (id: Buffer, cb: (e: Error | null, d: Buffer | null) => void) => {
        const d = store.get(id.toString('hex'));
        cb(null, d ? editSession(d, (s) => (s.created = nowSeconds() - 1000)) : null);
      });
      const [, second] = await fullThenResume(server.port);
      expect(second.error, show(second)).to.equal(undefined);
      expect(second.reused).to.equal(false);
    });
  });

  describe('RFC 7627 §5.3 (extended master secret) on resumption', () => {
    it('server: an EMS session offered without EMS is refused (handshake_failure); a non-EMS session is not resumed', async () => {
      const server = await startServer('qtls', { ...ECDSA_SERVER, sessionTickets: false }, cleanup);
      const noEms = (exts: Array<[number, Uint8Array]>) => exts.filter(([t]) => t !== ExtensionType.extended_master_secret);

      const full = await HostileClient.connect(server.port);
      await full.handshake();
      full.conn.destroy();
      await server.next();
      const sessionId = full.sh.sessionId;
      const resume = await HostileClient.connect(server.port);
      resume.sendClientHello({ sessionId, extensions: noEms });
      const alert = await resume.conn.expectAlert();
      resume.conn.destroy();
      expect(alert.text).to.equal('fatal handshake_failure');
      expect((await server.nextError()).message).to.match(/RFC 7627/);

      const legacy = await HostileClient.connect(server.port);
      await legacy.handshake({ extensions: noEms });
      legacy.conn.destroy();
      const s = await server.next();
      expect(s.reused).to.equal(false);
      const again = await HostileClient.connect(server.port);
      await again.handshake({ sessionId: legacy.sh.sessionId, extensions: noEms });
      again.conn.destroy();
      expect(Buffer.from(again.sh.sessionId).equals(Buffer.from(legacy.sh.sessionId)), 'the server resumed a non-EMS session').to.equal(false);
      expect((await server.next()).reused).to.equal(false);
    });

    it('client: a resumption ServerHello whose EMS use differs from the session is refused (handshake_failure)', async () => {
      const hostile = await HostileServer.listen();
      cleanup.defer(() => hostile.close());
      for (const originalEms of [true, false]) {
        // Full handshake, with or without EMS, giving the client a session ID.
        let session: Buffer | undefined;
        const c1 = qtlsConnect({ host: LOCALHOST, port: hostile.port, servername: 'localhost', ca: ca(), sessionTickets: false });
        c1.on('session', (b: Buffer) => (session = b));
        c1.on('error', () => {});
        const s1 = await hostile.next();
        await s1.readClientHello();
        s1.conn.hold();
        s1.sendServerHello({ extensions: (d) => (originalEms ? d : d.filter(([t]) => t !== ExtensionType.extended_master_secret)) });
        s1.sendCertificate();
        s1.sendServerKeyExchange();
        s1.sendServerHelloDone();
        s1.conn.flush();
        await s1.readClientFlight();
        s1.conn.hold();
        s1.sendChangeCipherSpec();
        s1.sendFinished();
        s1.conn.flush();
        await new Promise<void>((r) => c1.once('secureConnect', () => r()));
        c1.destroy();
        expect(decodeSessionState(session!).extendedMasterSecret).to.equal(originalEms);

        // The resumption: the server echoes the session ID, flipping EMS.
        const c2 = qtlsConnect({ host: LOCALHOST, port: hostile.port, servername: 'localhost', ca: ca(), session, sessionTickets: false });
        const err = new Promise<Error & { alert?: string }>((r) => c2.on('error', r));
        const s2 = await hostile.next();
        const ch = await s2.readClientHello();
        expect(Buffer.from(ch.sessionId).equals(Buffer.from(decodeSessionState(session!).sessionId))).to.equal(true);
        s2.sendServerHello({
          sessionId: ch.sessionId,
          extensions: (d) => (originalEms ? d.filter(([t]) => t !== ExtensionType.extended_master_secret) : d),
        });
        const e = await err;
        expect(e.alert, e.message).to.equal('handshake_failure');
        expect(e.message).to.match(/RFC 7627/);
        const alert = await s2.conn.expectAlert();
        expect(alert.text).to.equal('fatal handshake_failure');
        s2.conn.destroy();
      }
    });
  });

  describe('openssl', () => {
    before(function () {
      requireOpenssl(this);
    });

    it('s_client -reconnect → qtls server reports Reused, with tickets and with session IDs (-no_ticket, or sessionTickets false)', async () => {
      const server = await startServer('qtls', { ...ECDSA_SERVER }, cleanup, { closeAfter: 6 });
      const noTickets = await startServer('qtls', { ...ECDSA_SERVER, sessionTickets: false }, cleanup, { closeAfter: 6 });
      for (const [srv, args] of [[server, []], [server, ['-no_ticket']], [noTickets, []]] as const) {
        const res = await runOpensslClient({ port: srv.port, input: 'hello\n', args: ['-reconnect', ...args] });
        const why = `${args.join(' ')}\n${res.diagnostics}\n${res.stdout}`;
        expect(res.exitCode, why).to.equal(0);
        expect(res.stdout, why).to.match(/^New, TLSv1\.2, Cipher is ECDHE-ECDSA-/m);
        expect(reusedCount(res.stdout), why).to.equal(5);
        const conns = srv.connections.splice(0);
        expect(conns.map((c) => c.reused), why).to.deep.equal([false, true, true, true, true, true]);
      }
    });

    it('s_client -sess_out, then -sess_in → qtls server: Reused', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'qtls-sess-'));
      cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
      const file = path.join(dir, 'sess.pem');
      const server = await startServer('qtls', { ...ECDSA_SERVER }, cleanup, { closeAfter: 6 });
      const first = await runOpensslClient({ port: server.port, input: 'hello\n', args: ['-sess_out', file] });
      expect(first.stdout, first.diagnostics).to.match(/^New, TLSv1\.2/m);
      const second = await runOpensslClient({ port: server.port, input: 'hello\n', args: ['-sess_in', file] });
      expect(second.stdout, second.diagnostics).to.match(/^Reused, TLSv1\.2/m);
      expect(second.data).to.equal('hello\n');
      expect((await server.next()).reused).to.equal(false);
      expect((await server.next()).reused).to.equal(true);
    });

    it('qtls client → s_server: resumes with tickets and with -no_ticket (session IDs)', async () => {
      for (const args of [[], ['-no_ticket']]) {
        const s = await startOpensslServer({ certs: [CERTS['ecdsa-p256']], args }, cleanup);
        const first = await runClient('qtls', s.port, { ca: ca() }, 'hello\n');
        expect(first.error, show(first)).to.equal(undefined);
        expect(decodeSessionState(first.session!).ticket.length > 0).to.equal(args.length === 0);
        let session = first.session;
        for (let i = 0; i < 3; i++) {
          const again = await runClient('qtls', s.port, { ca: ca(), session }, 'hello\n');
          expect(again.error, show(again)).to.equal(undefined);
          expect(again.reused, `${args} #${i}: ${show(again)}`).to.equal(true);
          expect(again.received.toString()).to.equal('olleh\n');
          session = again.session ?? session;
        }
      }
    });
  });

  describe('node:tls', () => {
    it('node client → qtls server: tickets and session IDs', async () => {
      for (const opts of [{}, { sessionTickets: false }]) {
        const server = await startServer('qtls', { ...ECDSA_SERVER, ...opts }, cleanup);
        const first = await runClient('node', server.port, { ca: ca(), servername: 'localhost' });
        expect(first.error, show(first)).to.equal(undefined);
        expect(first.session, 'node emitted a session').to.be.instanceOf(Buffer);
        const second = await runClient('node', server.port, { ca: ca(), servername: 'localhost', session: first.session });
        expect(second.error, show(second)).to.equal(undefined);
        expect(second.reused, `${JSON.stringify(opts)}: ${show(second)}`).to.equal(true);
        expect((await server.next()).reused).to.equal(false);
        expect((await server.next()).reused).to.equal(true);
      }
    });

    it('qtls client → node server: tickets, and session IDs (SSL_OP_NO_TICKET; node keeps those only through newSession/resumeSession)', async () => {
      for (const secureOptions of [0, cryptoConstants.SSL_OP_NO_TICKET]) {
        const server = await startServer('node', { ...ECDSA_SERVER, maxVersion: 'TLSv1.2', secureOptions }, cleanup);
        const store = new Map<string, Buffer>();
        server.server.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => (store.set(id.toString('hex'), data), cb()));
        server.server.on('resumeSession', (id: Buffer, cb: (e: Error | null, d: Buffer | null) => void) => cb(null, store.get(id.toString('hex')) ?? null));
        const [first, second] = await fullThenResume(server.port);
        expect(decodeSessionState(first.session!).ticket.length > 0).to.equal(secureOptions === 0);
        expect(second.error, show(second)).to.equal(undefined);
        expect(second.reused, show(second)).to.equal(true);
        expect((await server.next()).reused).to.equal(false);
        expect((await server.next()).reused).to.equal(true);
      }
    });
  });

  describe('cluster: two workers behind one port', () => {
    it('a session made on one worker resumes on the other — by ticket (shared ticketKeys) and by session ID (store in the primary over IPC)', async function () {
      this.timeout(30_000);
      const proc = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'helpers/cluster-server.ts')], { stdio: ['pipe', 'pipe', 'pipe'] });
      cleanup.defer(
        () =>
          new Promise<void>((resolve) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
            proc.once('exit', () => resolve());
            proc.kill('SIGTERM');
          }),
      );
      let out = '';
      proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      proc.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      const ready = await new Promise<RegExpExecArray | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 20_000);
        const check = () => {
          const m = /^READY (\d+) (\d+) (\d+)$/m.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          }
        };
        proc.stdout.on('data', check);
        proc.once('exit', () => resolve(null));
      });
      expect(ready, `the cluster did not start:\n${out}`).to.not.equal(null);
      const port = Number(ready![1]);
      const workers = [Number(ready![2]), Number(ready![3])];

      /** One connection: which worker answered, and did both ends see a resumption. */
      const visit = async (options: Parameters<typeof runClient>[2]) => {
        const c = await runClient('qtls', port, { ca: ca(), servername: 'localhost', ...options }, '');
        expect(c.error, show(c)).to.equal(undefined);
        const m = /^pid=(\d+) reused=(true|false)$/m.exec(c.received.toString());
        expect(m, `worker answer: ${c.received.toString()}`).to.not.equal(null);
        return { pid: Number(m![1]), serverReused: m![2] === 'true', clientReused: c.reused, session: c.session };
      };

      for (const sessionTickets of [true, false]) {
        const first = await visit({ sessionTickets });
        expect(workers).to.include(first.pid);
        expect(first.serverReused).to.equal(false);
        expect(decodeSessionState(first.session!).ticket.length > 0, 'ticket issued').to.equal(sessionTickets);
        // Round robin sends the next connection to the other worker; allow a few tries all the same.
        let other: Awaited<ReturnType<typeof visit>> | undefined;
        for (let i = 0; i < 4 && !other; i++) {
          const v = await visit({ sessionTickets, session: first.session });
          if (v.pid !== first.pid) other = v;
        }
        expect(other, `no connection reached the other worker (${workers})`).to.not.equal(undefined);
        expect(other!.serverReused, `${sessionTickets ? 'ticket' : 'session ID'}: resumed on worker ${other!.pid} (made on ${first.pid})`).to.equal(true);
        expect(other!.clientReused).to.equal(true);
      }
    });
  });
});
