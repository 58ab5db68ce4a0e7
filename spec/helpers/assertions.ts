// Assertions shared by the interop specs: "this connection negotiated exactly this, moved these bytes
// and closed cleanly", checked on every source of truth available for the endpoint.
import { expect } from 'chai';
import type { GroupFixture, SuiteFixture } from './fixtures.js';
import { describeReport, type EndpointReport } from './peers.js';
import { closingRecords, parseFlight, serverWireFacts, type TapConnection } from './wire.js';

const NSS_LINE = /^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/;

/** What an endpoint reports about the negotiated suite (and, where it can, the group). */
export function expectNegotiated(r: EndpointReport, suite: SuiteFixture, group: GroupFixture, ctx = ''): void {
  const why = `${ctx}\n${describeReport(r)}`;
  expect(r.error, why).to.equal(undefined);
  expect(r.secure, why).to.equal(true);
  expect(r.protocol, why).to.equal('TLSv1.2');
  expect(r.cipher, why).to.deep.include({ name: suite.openssl, standardName: suite.iana, version: 'TLSv1.2' });
  if (r.impl === 'node' && r.role === 'server') {
    // node:tls has no server-side getEphemeralKeyInfo(); the wire tap checks the group instead.
    expect(r.ephemeral, why).to.equal(null);
  } else {
    expect(r.ephemeral, why).to.deep.equal(group.ephemeral);
  }
}

/** Byte-exact data both ways and a close_notify each way, no error, on both endpoints. */
export function expectCleanEcho(client: EndpointReport, server: EndpointReport, payload: Buffer, ctx = ''): void {
  const why = `${ctx}\n${describeReport(client)}\n${describeReport(server)}`;
  expect(server.received.length, why).to.equal(payload.length);
  expect(server.received.equals(payload), `${why}\nserver received different bytes`).to.equal(true);
  expect(client.received.length, why).to.equal(payload.length);
  expect(client.received.equals(payload), `${why}\nclient received different bytes`).to.equal(true);
  for (const r of [client, server]) {
    expect(r.error, `${why}\n${r.impl} ${r.role} error`).to.equal(undefined);
    expect(r.ended, `${why}\n${r.impl} ${r.role} saw no end of stream`).to.equal(true);
    if (r.impl === 'qtls') {
      // qtls's trace decodes the alerts: exactly one close_notify each way, nothing else.
      expect(r.alertsIn, `${why}\n${r.impl} ${r.role} alerts received`).to.deep.equal(['close_notify']);
      expect(r.alertsOut, `${why}\n${r.impl} ${r.role} alerts sent`).to.deep.equal(['close_notify']);
    }
  }
}

/** Both ends logged the same single NSS key log line (same client random, same master secret). */
export function expectSameKeylog(client: EndpointReport, server: EndpointReport, ctx = ''): void {
  const why = `${ctx}\nclient keylog ${JSON.stringify(client.keylog)}\nserver keylog ${JSON.stringify(server.keylog)}`;
  expect(client.keylog, why).to.have.length(1);
  expect(server.keylog, why).to.have.length(1);
  expect(client.keylog[0], why).to.match(NSS_LINE);
  expect(server.keylog[0], why).to.equal(client.keylog[0]);
  // The event payloads themselves are identical: Buffers, newline-terminated (node's format).
  for (const r of [client, server]) expect(Buffer.isBuffer(r.keylogRaw[0]), `${why}\n${r.impl} keylog payload is not a Buffer`).to.equal(true);
  expect(client.keylogRaw[0]!.equals(server.keylogRaw[0]!), why).to.equal(true);
  expect(client.keylogRaw[0]!.toString('latin1').endsWith('\n'), why).to.equal(true);
}

/**
 * What the wire shows, independent of both endpoints: the server's ServerHello suite and
 * ServerKeyExchange group, and each direction ending with one alert record (the close_notify) as its
 * last record.
 */
export function expectWire(conn: TapConnection, suite: SuiteFixture, group: GroupFixture, ctx = ''): void {
  const s2c = parseFlight(conn.s2c);
  const c2s = parseFlight(conn.c2s);
  const facts = serverWireFacts(s2c);
  const why = `${ctx}\nwire: ${JSON.stringify(facts)}`;
  expect(facts.version, why).to.equal(0x0303);
  expect(facts.cipherSuite, why).to.equal(suite.id);
  expect(facts.namedCurve, why).to.equal(group.code);
  for (const [dir, flight] of [['client→server', c2s], ['server→client', s2c]] as const) {
    const closing = closingRecords(flight);
    expect(flight.trailing, `${why}\n${dir}: partial record at the end`).to.equal(0);
    expect(closing.appData, `${why}\n${dir}: application data records`).to.be.greaterThan(0);
    expect(closing.alerts, `${why}\n${dir}: encrypted alert records`).to.equal(1);
    expect(closing.alertIsLast, `${why}\n${dir}: the alert is the last record`).to.equal(true);
  }
}
