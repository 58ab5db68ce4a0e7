// The server's QKD key budget (docs/qkd-in-tls.md "Key budget"): qkd.maxPendingKeyRequests bounds the
// KME key requests in flight for one server, qkd.keyRequestRate is a token bucket on them. A ClientHello
// over budget fails with handshake_failure BEFORE any KME call (no key is taken from the pool), the
// error is the server's 'tlsClientError', and every slot comes back when its request ends — on success,
// on a KME error, on timeout, and when the client goes away. Covers first-class, hybrid and both
// PSK-compatible server modes.
import { expect } from 'chai';
import type { DeliveredKey, KeyDelivery, KeyRequestOptions } from '../../lib/qkd/key-delivery.js';
import { KeyDeliveryError } from '../../lib/qkd/key-delivery.js';
import type { QkdOptions } from '../../lib/kx/qkd-options.js';
import { pendingKeyRequests, setKeyBudgetClock } from '../../lib/kx/qkd-key-budget.js';
import { qkdPskClientOptions, qkdPskServerOptions } from '../../lib/kx/qkd-psk.js';
import { startQtlsServer, type QtlsServer } from '../hostile/helpers/qtls.js';
import { GatedLink, expectEcho, expectTlsError, hangingDelivery, runClient, sleep, startQkdNet, until, type QkdTestNet } from '../helpers/qkd-tls.js';

const FIRST_CLASS = 'QKD-ECDSA-AES256-GCM-SHA384';
const BUDGET_PENDING = /QKD key budget exhausted: 2 requests in flight \(maxPendingKeyRequests 2\)/;
const BUDGET_RATE = /QKD key budget exhausted: rate limit .*\(keyRequestRate\)/;

/**
 * `inner` behind a gate: every call is counted, then waits until the test opens the gate, then asks the
 * real KME. `held` is the number of calls waiting at the gate.
 */
function heldDelivery(inner: KeyDelivery): KeyDelivery & { calls: number; held: number; openGate(): void } {
  let waiters: Array<() => void> = [];
  let open = false;
  const d = {
    api: inner.api,
    kme: inner.kme,
    calls: 0,
    held: 0,
    openGate() {
      open = true;
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
    },
    async getKey(slave: string, o: KeyRequestOptions): Promise<DeliveredKey> {
      await gate();
      return inner.getKey(slave, o);
    },
    async getKeyById(master: string, id: string, o: KeyRequestOptions): Promise<DeliveredKey> {
      await gate();
      return inner.getKeyById(master, id, o);
    },
    close: () => Promise.resolve(),
  };
  async function gate(): Promise<void> {
    d.calls++;
    if (open) return;
    d.held++;
    await new Promise<void>((r) => waiters.push(r));
    d.held--;
  }
  return d;
}

/** Counts the calls that reach `inner` (i.e. the KME). */
function countingDelivery(inner: KeyDelivery): KeyDelivery & { calls: number } {
  const d = {
    api: inner.api,
    kme: inner.kme,
    calls: 0,
    getKey: (s: string, o: KeyRequestOptions) => (d.calls++, inner.getKey(s, o)),
    getKeyById: (m: string, id: string, o: KeyRequestOptions) => (d.calls++, inner.getKeyById(m, id, o)),
    close: () => Promise.resolve(),
  };
  return d;
}

/** A KME that fails every call at once. */
function failingDelivery(inner: KeyDelivery): KeyDelivery {
  const fail = () => Promise.reject(new KeyDeliveryError('empty', { kme: inner.kme ?? 'test', reason: 'KME says no (test)' }));
  return { api: inner.api, kme: inner.kme ?? 'test', getKey: fail, getKeyById: fail, close: () => Promise.resolve() };
}

/** A KME call that never settles and ignores its abort signal. */
function deafDelivery(inner: KeyDelivery): KeyDelivery & { calls: number } {
  const d = {
    api: inner.api,
    kme: inner.kme ?? 'test',
    calls: 0,
    getKey: () => (d.calls++, new Promise<DeliveredKey>(() => {})),
    getKeyById: () => (d.calls++, new Promise<DeliveredKey>(() => {})),
    close: () => Promise.resolve(),
  };
  return d;
}

describe('QKD in TLS: the server key budget', function () {
  this.timeout(30_000);
  const link = new GatedLink();
  let q: QkdTestNet;
  let dA: KeyDelivery;
  let dB: KeyDelivery;
  const servers: QtlsServer[] = [];

  async function server(qkd: QkdOptions, ciphers?: string): Promise<QtlsServer> {
    const s = await startQtlsServer({ identity: 'ecdsa', options: { qkd, ...(ciphers ? { ciphers } : {}) } });
    servers.push(s);
    return s;
  }
  const client = (ciphers?: string) => ({ qkd: { saeId: 'sae-b', delivery: dB }, ...(ciphers ? { ciphers } : {}) });

  before(async function () {
    q = await startQkdNet({ link, limits: { maxKeyCount: 64 }, minKeys: 48 });
    dA = q.delivery('sae-a', '014');
    dB = q.delivery('sae-b', '014');
  });
  afterEach(async function () {
    setKeyBudgetClock();
    link.open = true;
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  after(async function () {
    await q?.close();
  });

  /** Site A's ready units once the (gated) link has stopped adding any. */
  async function stablePoolA(): Promise<number> {
    let last = q.net.sites.A.storedKeyCount();
    for (;;) {
      await sleep(150);
      const now = q.net.sites.A.storedKeyCount();
      if (now === last) return now;
      last = now;
    }
  }

  it('maxPendingKeyRequests 2, 3 concurrent first-class handshakes on a slow KME: one refused before any KME call, only 2 keys taken', async function () {
    const held = heldDelivery(dA);
    const sq: QkdOptions = { saeId: 'sae-a', delivery: held, maxPendingKeyRequests: 2 };
    const srv = await server(sq, FIRST_CLASS);
    link.open = false;
    const before = await stablePoolA();

    const runs = [0, 1, 2].map(() => runClient(srv.port, client(FIRST_CLASS), 'ping over QKD', 15_000));
    await until(() => held.held === 2 && srv.clientErrors.length === 1, 'two KME calls held and one refusal');
    expect(held.calls, 'KME calls').to.equal(2);
    expect(pendingKeyRequests(sq)).to.equal(2);
    expectTlsError(srv.clientErrors[0], 'handshake_failure', 'local', BUDGET_PENDING);

    held.openGate();
    const done = await Promise.all(runs);
    const ok = done.filter((r) => !r.error);
    const refused = done.filter((r) => r.error);
    expect(ok, 'successful handshakes').to.have.length(2);
    ok.forEach((r) => expectEcho(r));
    expect(refused, 'refused handshakes').to.have.length(1);
    expectTlsError(refused[0]!.error, 'handshake_failure', 'remote');
    expect(new Set(ok.map((r) => r.info.qkdKeyId)).size).to.equal(2);
    expect(held.calls, 'KME calls').to.equal(2);
    // 256-bit keys, one pool unit each: the refused handshake took nothing from the KME.
    expect(before - (await stablePoolA()), 'keys taken from KME A').to.equal(2);
    expect(srv.clientErrors, 'server errors').to.have.length(1);

    // Both slots are back: a new handshake (and then two at once) succeed.
    expect(pendingKeyRequests(sq)).to.equal(0);
    expectEcho(await runClient(srv.port, client(FIRST_CLASS)));
    const two = await Promise.all([runClient(srv.port, client(FIRST_CLASS)), runClient(srv.port, client(FIRST_CLASS))]);
    two.forEach((r) => expectEcho(r));
    expect(srv.clientErrors).to.have.length(1);
  });

  it('keyRequestRate { burst 3, perSecond 4 } on hybrid suites: the 4th immediate handshake is refused without a KME call, one more after 300 ms', async function () {
    let now = 1_000_000;
    setKeyBudgetClock(() => now);
    const counting = countingDelivery(dA);
    const sq: QkdOptions = { saeId: 'sae-a', delivery: counting, keyRequestRate: { burst: 3, perSecond: 4 } };
    const srv = await server(sq);
    for (let i = 0; i < 3; i++) {
      const r = await runClient(srv.port, client());
      expectEcho(r);
      expect(r.cipher?.name).to.match(/^ECDHE-QKD-/);
    }
    expect(counting.calls).to.equal(3);
    const errP = srv.nextError(10_000);
    const refused = await runClient(srv.port, client());
    expectTlsError(refused.error, 'handshake_failure', 'remote');
    expectTlsError(await errP, 'handshake_failure', 'local', BUDGET_RATE, /4 requests\/s \(burst 3\)/);
    expect(counting.calls, 'no KME call for the refused handshake').to.equal(3);
    expect(pendingKeyRequests(sq)).to.equal(0);

    now += 300; // 1.2 tokens
    expectEcho(await runClient(srv.port, client()));
    const again = await runClient(srv.port, client());
    expectTlsError(again.error, 'handshake_failure', 'remote');
    expect(counting.calls).to.equal(4);
    expect(srv.clientErrors).to.have.length(2);
    expectTlsError(srv.clientErrors[1], 'handshake_failure', 'local', BUDGET_RATE);
  });

  it('keyRequestRate on the real clock: refused at once, served again after a short wait', async function () {
    const sq: QkdOptions = { saeId: 'sae-a', delivery: dA, keyRequestRate: { burst: 1, perSecond: 2 } };
    const srv = await server(sq, FIRST_CLASS);
    expectEcho(await runClient(srv.port, client(FIRST_CLASS)));
    const refused = await runClient(srv.port, client(FIRST_CLASS));
    expectTlsError(refused.error, 'handshake_failure', 'remote');
    expectTlsError(srv.clientErrors[0], 'handshake_failure', 'local', BUDGET_RATE);
    await sleep(600);
    expectEcho(await runClient(srv.port, client(FIRST_CLASS)));
  });

  it('failures release their slots: KME errors, timeouts, a KME that ignores the abort, clients that go away', async function () {
    const hanging = hangingDelivery('014', dA.kme ?? 'test');
    const sq: QkdOptions = { saeId: 'sae-a', delivery: failingDelivery(dA), maxPendingKeyRequests: 2, timeoutMs: 300 };
    const srv = await server(sq, FIRST_CLASS);

    // A burst of KME errors, two at a time (a full budget each time).
    for (let i = 0; i < 3; i++) {
      const rs = await Promise.all([runClient(srv.port, client(FIRST_CLASS)), runClient(srv.port, client(FIRST_CLASS))]);
      rs.forEach((r) => expectTlsError(r.error, 'handshake_failure', 'remote'));
    }
    expect(srv.clientErrors.map((e) => e.message).filter((m) => /budget/.test(m)), 'no refusal').to.deep.equal([]);
    expect(pendingKeyRequests(sq)).to.equal(0);

    // Timeouts: two calls hang until timeoutMs, a third meanwhile is refused.
    sq.delivery = hanging;
    const slow = [runClient(srv.port, client(FIRST_CLASS)), runClient(srv.port, client(FIRST_CLASS))];
    await until(() => hanging.calls === 2, 'two hanging KME calls');
    const third = await runClient(srv.port, client(FIRST_CLASS));
    expectTlsError(third.error, 'handshake_failure', 'remote');
    (await Promise.all(slow)).forEach((r) => expectTlsError(r.error, 'handshake_failure', 'remote'));
    expect(hanging.calls, 'the refused handshake made no KME call').to.equal(2);
    expect(srv.clientErrors.filter((e) => BUDGET_PENDING.test(e.message))).to.have.length(1);
    expect(srv.clientErrors.filter((e) => /did not answer within 300 ms/.test(e.message))).to.have.length(2);
    expect(pendingKeyRequests(sq)).to.equal(0);

    // A KME that never answers and ignores the abort: the slot still comes back at timeoutMs.
    const deaf = deafDelivery(dA);
    sq.delivery = deaf;
    const deafRuns = [runClient(srv.port, client(FIRST_CLASS), 'x', 1500), runClient(srv.port, client(FIRST_CLASS), 'x', 1500)];
    await until(() => deaf.calls === 2, 'two deaf KME calls');
    expect(pendingKeyRequests(sq)).to.equal(2);
    await until(() => pendingKeyRequests(sq) === 0, 'slots back after timeoutMs', 3000);
    await Promise.all(deafRuns);

    // Clients that go away while the server waits for its KME: the abort releases the slot.
    sq.timeoutMs = 20_000;
    const h2 = hangingDelivery('014', dA.kme ?? 'test');
    sq.delivery = h2;
    const gone = [runClient(srv.port, client(FIRST_CLASS), 'x', 500), runClient(srv.port, client(FIRST_CLASS), 'x', 500)];
    (await Promise.all(gone)).forEach((r) => expect(r.error?.message).to.match(/timed out/));
    await until(() => pendingKeyRequests(sq) === 0, 'slots back after the clients left', 5000);
    expect(h2.aborted).to.equal(2);

    // The whole budget is available again: two concurrent handshakes on the real KME.
    sq.delivery = dA;
    sq.timeoutMs = 5000;
    const ok = await Promise.all([runClient(srv.port, client(FIRST_CLASS)), runClient(srv.port, client(FIRST_CLASS))]);
    ok.forEach((r) => expectEcho(r));
  });

  it('invalid budget options fail the handshake with internal_error, naming the option', async function () {
    const sq = { saeId: 'sae-a', delivery: dA, maxPendingKeyRequests: 0 } as QkdOptions;
    const srv = await server(sq, FIRST_CLASS);
    const r = await runClient(srv.port, client(FIRST_CLASS));
    expect(r.error).to.be.instanceOf(Error);
    expectTlsError(srv.clientErrors[0], 'internal_error', 'local', /maxPendingKeyRequests/);
  });

  describe('PSK-compatible modes', function () {
    const PSK = 'ECDHE-PSK-AES256-GCM-SHA384';

    it("mode 'psk': the server's dec_keys for a client-chosen key_ID is under maxPendingKeyRequests", async function () {
      const held = heldDelivery(dA);
      const sq: QkdOptions = { saeId: 'sae-a', delivery: held, peerSaeId: 'sae-b', maxPendingKeyRequests: 2 };
      const srv = await startQtlsServer({ identity: 'ecdsa', options: { ciphers: PSK, ...qkdPskServerOptions(sq, 'psk') } });
      servers.push(srv);
      const copts = { ciphers: PSK, ...qkdPskClientOptions({ saeId: 'sae-b', delivery: dB, peerSaeId: 'sae-a' }, 'psk') };
      const runs = [0, 1, 2].map(() => runClient(srv.port, copts, 'ping over QKD', 15_000));
      await until(() => held.held === 2 && srv.clientErrors.length === 1, 'two dec_keys held and one refusal');
      expectTlsError(srv.clientErrors[0], 'handshake_failure', 'local', BUDGET_PENDING);
      held.openGate();
      const done = await Promise.all(runs);
      expect(done.filter((r) => !r.error)).to.have.length(2);
      done.filter((r) => !r.error).forEach((r) => expectEcho(r));
      expect(held.calls, 'dec_keys calls').to.equal(2);
      expect(pendingKeyRequests(sq)).to.equal(0);
      expectEcho(await runClient(srv.port, copts));
      // An unknown key_ID (the KME answers not-found) still releases its slot.
      const bogus = { ciphers: PSK, pskCallback: () => ({ identity: '00000000-0000-4000-8000-000000000000', psk: Buffer.alloc(32, 1) }) };
      for (let i = 0; i < 3; i++) expectTlsError((await runClient(srv.port, bogus)).error, 'unknown_psk_identity', 'remote');
      expect(pendingKeyRequests(sq)).to.equal(0);
    });

    it("mode 'psk-hint': the server's enc_keys for the hint is under keyRequestRate", async function () {
      let now = 5_000;
      setKeyBudgetClock(() => now);
      const counting = countingDelivery(dA);
      const sq: QkdOptions = { saeId: 'sae-a', delivery: counting, peerSaeId: 'sae-b', keyRequestRate: { burst: 1, perSecond: 1 } };
      const srv = await startQtlsServer({ identity: 'ecdsa', options: { ciphers: PSK, ...qkdPskServerOptions(sq, 'psk-hint') } });
      servers.push(srv);
      const copts = { ciphers: PSK, ...qkdPskClientOptions({ saeId: 'sae-b', delivery: dB, peerSaeId: 'sae-a' }, 'psk-hint') };
      expectEcho(await runClient(srv.port, copts));
      const refused = await runClient(srv.port, copts);
      expectTlsError(refused.error, 'handshake_failure', 'remote');
      expectTlsError(srv.clientErrors[0], 'handshake_failure', 'local', BUDGET_RATE);
      expect(counting.calls, 'enc_keys calls').to.equal(1);
      now += 1000;
      expectEcho(await runClient(srv.port, copts));
      expect(counting.calls).to.equal(2);
    });
  });
});
