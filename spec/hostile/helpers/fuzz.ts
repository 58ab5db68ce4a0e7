// A small, seeded, structure-aware mutation fuzzer for the two places a peer's bytes first meet a qtls
// endpoint: a ClientHello arriving at a server, and a server's first flight arriving at a client.
// Shared by spec/hostile/fuzz.spec.ts (a few hundred cases per run) and spec/hostile/fuzz-long.ts.
//
// Each case runs over an in-memory transport against a fresh endpoint and must end — within a
// deadline — with an Error (a TLSError whose alert, when ours, is also the one on the wire) or a
// completed handshake. A hang, a non-TLS error, an internal_error (an exception that escaped the
// parsers), or an alert on the wire that differs from the API error is a finding.
import { Duplex } from 'node:stream';
import { TLSError, alertName } from '../../../lib/alert.js';
import { EcdhGroup } from '../../../lib/crypto/ecdh.js';
import { connect, createServer, type Server, type TLSSocket } from '../../../lib/index.js';
import { ContentType } from '../../../lib/record/content-type.js';
import { HostileClient, clientHelloRecord, SUITE } from './hostile-client.js';
import { ServerScript } from './hostile-server.js';
import { CA, IDENTITIES, pem } from './fixtures.js';
import { RawConn, type AlertSeen } from './raw-conn.js';

// ---------- deterministic randomness ----------

/** sfc32: small, fast, good enough for choosing mutations; fully determined by the seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    const t = (this.a + this.b + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

// ---------- where the length fields are ----------

export interface LengthField {
  offset: number;
  size: 1 | 2 | 3;
  what: string;
}

/** A forgiving cursor: walking stops quietly at the first inconsistency. */
class Walk {
  constructor(readonly buf: Uint8Array, public pos: number, readonly end: number, readonly out: LengthField[]) {}
  ok(n: number): boolean {
    return this.pos + n <= this.end;
  }
  len(size: 1 | 2 | 3, what: string): number | undefined {
    if (!this.ok(size)) return undefined;
    let v = 0;
    for (let i = 0; i < size; i++) v = (v << 8) | this.buf[this.pos + i]!;
    this.out.push({ offset: this.pos, size, what });
    this.pos += size;
    return this.ok(v) ? v : undefined;
  }
  skip(n: number): boolean {
    if (!this.ok(n)) return false;
    this.pos += n;
    return true;
  }
  sub(size: 1 | 2 | 3, what: string): Walk | undefined {
    const n = this.len(size, what);
    if (n === undefined) return undefined;
    const w = new Walk(this.buf, this.pos, this.pos + n, this.out);
    this.pos += n;
    return w;
  }
}

function walkExtensions(w: Walk, role: 'client' | 'server'): void {
  const block = w.sub(2, 'extensions');
  while (block && block.ok(4)) {
    const type = (block.buf[block.pos]! << 8) | block.buf[block.pos + 1]!;
    block.skip(2);
    const data = block.sub(2, `extension ${type}`);
    if (!data) return;
    // Inner vectors of the extensions we know.
    if (type === 0 && role === 'client') {
      const list = data.sub(2, 'server_name_list');
      if (list && list.skip(1)) list.sub(2, 'host_name');
    } else if (type === 10 || type === 13) data.sub(2, type === 10 ? 'named_group_list' : 'supported_signature_algorithms');
    else if (type === 11 || type === 0xff01) data.sub(1, type === 11 ? 'ec_point_format_list' : 'renegotiated_connection');
    else if (type === 16) {
      const list = data.sub(2, 'protocol_name_list');
      if (list) list.sub(1, 'ProtocolName');
    }
  }
}

function walkHandshake(w: Walk, type: number): void {
  switch (type) {
    case 1: // ClientHello
      if (!w.skip(34)) return;
      if (!w.sub(1, 'session_id') || !w.sub(2, 'cipher_suites') || !w.sub(1, 'compression_methods')) return;
      walkExtensions(w, 'client');
      return;
    case 2: // ServerHello
      if (!w.skip(34) || !w.sub(1, 'session_id') || !w.skip(3)) return;
      walkExtensions(w, 'server');
      return;
    case 11: {
      // Certificate
      const list = w.sub(3, 'certificate_list');
      while (list && list.ok(3)) if (!list.sub(3, 'ASN.1Cert')) return;
      return;
    }
    case 12: // ServerKeyExchange (ECDHE): curve_type, named_curve, public<1..255>, scheme, signature<0..2^16-1>
      if (!w.skip(3) || !w.sub(1, 'ecdh public') || !w.skip(2)) return;
      w.sub(2, 'signature');
      return;
  }
}

/** Every length field of the records, handshake headers and the message bodies we understand. */
export function lengthFields(wire: Uint8Array): LengthField[] {
  const out: LengthField[] = [];
  const top = new Walk(wire, 0, wire.length, out);
  while (top.ok(5)) {
    const type = wire[top.pos]!;
    top.skip(3);
    const rec = top.sub(2, 'record length');
    if (!rec) break;
    if (type !== ContentType.handshake) continue;
    while (rec.ok(4)) {
      const hsType = wire[rec.pos]!;
      rec.skip(1);
      const msg = rec.sub(3, `handshake ${hsType} length`);
      if (!msg) break;
      walkHandshake(msg, hsType);
    }
  }
  return out;
}

// ---------- mutations ----------

export interface Mutation {
  bytes: Uint8Array;
  description: string;
}

function setLength(buf: Uint8Array, f: LengthField, v: number): void {
  const max = 2 ** (8 * f.size) - 1;
  v = Math.max(0, Math.min(max, v));
  for (let i = 0; i < f.size; i++) buf[f.offset + i] = (v >>> (8 * (f.size - 1 - i))) & 0xff;
}

function getLength(buf: Uint8Array, f: LengthField): number {
  let v = 0;
  for (let i = 0; i < f.size; i++) v = (v << 8) | buf[f.offset + i]!;
  return v;
}

/** Re-split the handshake bytes of a plaintext flight into records of random sizes (still valid). */
function refragment(rng: Rng, wire: Uint8Array): Uint8Array | undefined {
  const hs: number[] = [];
  let p = 0;
  while (p + 5 <= wire.length) {
    const len = (wire[p + 3]! << 8) | wire[p + 4]!;
    if (wire[p] !== ContentType.handshake || p + 5 + len > wire.length) return undefined;
    hs.push(...wire.subarray(p + 5, p + 5 + len));
    p += 5 + len;
  }
  const out: number[] = [];
  for (let o = 0; o < hs.length; ) {
    const n = 1 + rng.int(Math.min(hs.length - o, rng.pick([1, 7, 64, 512, 4096])));
    out.push(ContentType.handshake, 3, 3, n >> 8, n & 0xff, ...hs.slice(o, o + n));
    o += n;
  }
  return new Uint8Array(out);
}

const STRATEGIES = ['bitflip', 'byte', 'truncate', 'length', 'length', 'length', 'insert', 'delete', 'duplicate', 'refragment+bitflip'] as const;

/** One to three mutations of `wire`, described so a failing case can be reproduced by hand. */
export function mutate(rng: Rng, wire: Uint8Array): Mutation {
  let buf: Uint8Array = wire.slice();
  const steps: string[] = [];
  const rounds = 1 + (rng.int(4) === 0 ? 1 + rng.int(2) : 0);
  for (let r = 0; r < rounds; r++) {
    const s = rng.pick(STRATEGIES);
    switch (s) {
      case 'bitflip': {
        const n = 1 + rng.int(4);
        for (let i = 0; i < n; i++) {
          const at = rng.int(buf.length);
          const bit = rng.int(8);
          buf[at]! ^= 1 << bit;
          steps.push(`flip bit ${bit} of byte ${at}`);
        }
        break;
      }
      case 'byte': {
        const at = rng.int(buf.length);
        const v = rng.pick([0x00, 0xff, 0x7f, 0x80, rng.int(256)]);
        steps.push(`byte ${at}: ${buf[at]} → ${v}`);
        buf[at] = v;
        break;
      }
      case 'truncate': {
        const at = 1 + rng.int(buf.length - 1);
        steps.push(`truncate to ${at} of ${buf.length}`);
        buf = buf.slice(0, at);
        break;
      }
      case 'length': {
        const fields = lengthFields(buf);
        if (!fields.length) break;
        const f = rng.pick(fields);
        const old = getLength(buf, f);
        const v = rng.pick([old + 1, old - 1, old + 2, old - 2, old + 256, 0, 1, 2 ** (8 * f.size) - 1, rng.int(2 ** (8 * f.size))]);
        setLength(buf, f, v);
        steps.push(`${f.what} @${f.offset}: ${old} → ${getLength(buf, f)}`);
        break;
      }
      case 'insert': {
        const at = rng.int(buf.length + 1);
        const extra = rng.bytes(1 + rng.int(8));
        const next = new Uint8Array(buf.length + extra.length);
        next.set(buf.subarray(0, at));
        next.set(extra, at);
        next.set(buf.subarray(at), at + extra.length);
        steps.push(`insert ${extra.length} byte(s) at ${at}`);
        buf = next;
        break;
      }
      case 'delete': {
        const at = rng.int(buf.length);
        const n = 1 + rng.int(Math.min(16, buf.length - at));
        steps.push(`delete ${n} byte(s) at ${at}`);
        buf = new Uint8Array([...buf.subarray(0, at), ...buf.subarray(at + n)]);
        break;
      }
      case 'duplicate': {
        const at = rng.int(buf.length);
        const n = 1 + rng.int(Math.min(64, buf.length - at));
        steps.push(`duplicate ${n} byte(s) at ${at}`);
        buf = new Uint8Array([...buf.subarray(0, at + n), ...buf.subarray(at, at + n), ...buf.subarray(at + n)]);
        break;
      }
      case 'refragment+bitflip': {
        const re = refragment(rng, buf);
        if (re) {
          buf = re;
          steps.push('refragment');
        }
        if (rng.int(2)) {
          const at = rng.int(buf.length);
          buf[at]! ^= 1 << rng.int(8);
          steps.push(`flip a bit of byte ${at}`);
        }
        break;
      }
    }
  }
  return { bytes: buf, description: steps.join('; ') || 'none' };
}

// ---------- in-memory transport ----------

/** Two connected Duplexes (node 20 has no stream.duplexPair). Ending or destroying one ends the other. */
export function duplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        const p = peer();
        if (!p.destroyed && !p.readableEnded) p.push(chunk);
        cb();
      },
      final(cb) {
        const p = peer();
        if (!p.destroyed) p.push(null);
        cb();
      },
      destroy(err, cb) {
        const p = peer();
        if (!p.destroyed) p.push(null);
        cb(err);
      },
    });
  const a: Duplex = make(() => b);
  const b: Duplex = make(() => a);
  return [a, b];
}

/** Resolve after n turns of the event loop (not a timed sleep: in-memory I/O settles within one). */
function eventLoopTurns(n: number): Promise<void> {
  return new Promise((resolve) => {
    const step = (left: number) => (left === 0 ? resolve() : setImmediate(() => step(left - 1)));
    step(n);
  });
}

/** Split bytes into 1-3 writes at random points (TCP may deliver them any way). */
function writeInPieces(rng: Rng, conn: RawConn, bytes: Uint8Array): void {
  const n = 1 + rng.int(3);
  const cuts = [...new Set(Array.from({ length: n - 1 }, () => rng.int(bytes.length)))].sort((x, y) => x - y);
  let o = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c > o) conn.write(bytes.subarray(o, c));
    o = c;
  }
}

// ---------- cases ----------

export interface Outcome {
  side: 'server' | 'client';
  mutation: string;
  input: Uint8Array;
  result: 'error' | 'handshake' | 'hang';
  error?: Error;
  /** Alerts the qtls endpoint put on the wire. */
  alerts: AlertSeen[];
  /** The endpoint answered (sent handshake messages) before failing: the mutant was accepted so far. */
  answered: boolean;
  /**
   * An alert-sized record behind the endpoint's ChangeCipherSpec that the fuzz peer, which never
   * completes the key exchange, cannot decrypt: evidence of an encrypted alert (description unknown).
   */
  encryptedAlert: boolean;
}

/** 2 bytes of alert + AEAD overhead (AES-GCM: 8-byte explicit nonce + 16-byte tag; ChaCha20: tag only). */
const ENCRYPTED_ALERT_LENGTHS = [2 + 8 + 16, 2 + 16];
function encryptedAlertSeen(conn: RawConn): boolean {
  const h = conn.rawRecordHeaders();
  const ccs = h.findIndex((r) => r.type === ContentType.change_cipher_spec);
  return ccs >= 0 && h.slice(ccs + 1).some((r) => r.type === ContentType.alert && ENCRYPTED_ALERT_LENGTHS.includes(r.length));
}

function watch(sock: TLSSocket, ms: number): Promise<{ result: Outcome['result']; error?: Error }> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve({ result: 'hang' }), ms);
    sock.once('error', (error) => {
      clearTimeout(t);
      resolve({ result: 'error', error });
    });
    sock.once('secure', () => {
      clearTimeout(t);
      resolve({ result: 'handshake' });
    });
    sock.once('secureConnect', () => {
      clearTimeout(t);
      resolve({ result: 'handshake' });
    });
  });
}

function collectAlerts(conn: RawConn): AlertSeen[] {
  return conn.log
    .filter((r) => r.type === ContentType.alert && r.fragment.length === 2)
    .map((r) => ({ level: r.fragment[0]!, description: r.fragment[1]!, text: `${r.fragment[0] === 2 ? 'fatal' : 'warning'} ${alertName(r.fragment[1]!)}`, encrypted: r.encrypted }));
}

let fuzzServer: Server | undefined;
/** One server object for all server cases (its config is what a real server would reuse). */
function server(): Server {
  return (fuzzServer ??= createServer({ cert: pem(IDENTITIES.ecdsa.chain), key: pem(IDENTITIES.ecdsa.key) }));
}

/** A valid ClientHello record whose every byte is determined by the rng. */
export function seedClientHello(rng: Rng): Uint8Array {
  const groups = rng.pick([[EcdhGroup.x25519, EcdhGroup.secp256r1], [EcdhGroup.secp256r1], [EcdhGroup.secp384r1, EcdhGroup.x25519]]);
  return clientHelloRecord({
    random: rng.bytes(32),
    sessionId: rng.int(2) ? rng.bytes(32) : new Uint8Array(0),
    suites: rng.pick([[SUITE.ECDHE_ECDSA_AES128_GCM], [SUITE.ECDHE_ECDSA_CHACHA20, SUITE.ECDHE_ECDSA_AES128_GCM, 0x00ff]]),
    groups,
    extensions: (d) => {
      const out = [...d];
      if (rng.int(2)) out.push([16, new Uint8Array([0, 3, 2, 0x68, 0x32])]);
      // session_ticket (the server issues and accepts tickets by default): empty, or a forged ticket.
      if (rng.int(2)) out.push([35, rng.int(2) ? new Uint8Array(0) : rng.bytes(rng.pick([16, 44, 120, 300]))]);
      return out;
    },
  });
}

/** A fresh server-side connection receives a mutated ClientHello, then EOF. */
export async function serverCase(rng: Rng, ms: number): Promise<Outcome> {
  const { bytes, description } = mutate(rng, seedClientHello(rng));
  const [ours, theirs] = duplexPair();
  const sock = server().accept(theirs);
  sock.on('error', () => {}); // the server's own listener reports it; keep the emitter quiet
  const done = watch(sock, ms);
  const conn = new RawConn(ours);
  writeInPieces(rng, conn, bytes);
  // Let the server act on what it got before the EOF, which would otherwise pre-empt the parse.
  await Promise.race([done, eventLoopTurns(3)]);
  conn.end();
  const { result, error } = await done;
  if (result === 'hang') sock.destroy();
  await new Promise((r) => setImmediate(r));
  return {
    side: 'server', mutation: description, input: bytes, result, error, alerts: collectAlerts(conn),
    answered: conn.log.some((r) => r.type === ContentType.handshake), encryptedAlert: encryptedAlertSeen(conn),
  };
}

/** A fresh qtls client receives a mutated first flight from the hostile server, then EOF. */
export async function clientCase(rng: Rng, ms: number): Promise<Outcome> {
  const [ours, theirs] = duplexPair();
  const sock = connect({ socket: theirs, host: '127.0.0.1', servername: 'localhost', ca: CA() });
  const done = watch(sock, ms);
  const s = new ServerScript(new RawConn(ours), rng.int(4) === 0 ? 'rsa' : 'ecdsa');
  let mutation = 'none';
  let input: Uint8Array = new Uint8Array(0);
  try {
    await s.readClientHello();
    s.conn.hold();
    s.sendServerHello();
    s.sendCertificate();
    s.sendServerKeyExchange();
    s.sendServerHelloDone();
    const flight = new Uint8Array(s.conn.held!.reduce((n, b) => n + b.length, 0));
    let o = 0;
    for (const b of s.conn.held!.splice(0)) {
      flight.set(b, o);
      o += b.length;
    }
    s.conn.held = undefined;
    const m = mutate(rng, flight);
    mutation = m.description;
    input = m.bytes;
    writeInPieces(rng, s.conn, m.bytes);
    await Promise.race([done, eventLoopTurns(3)]);
    s.conn.end();
  } catch (e) {
    mutation = `(hostile server failed before mutating: ${(e as Error).message})`;
    s.conn.destroy();
  }
  const { result, error } = await done;
  if (result === 'hang') sock.destroy();
  await new Promise((r) => setImmediate(r));
  return { side: 'client', mutation, input, result, error, alerts: collectAlerts(s.conn), answered: s.conn.log.length > 1, encryptedAlert: encryptedAlertSeen(s.conn) };
}

/** What is wrong with an outcome (empty: fine). */
export function problems(o: Outcome): string[] {
  const out: string[] = [];
  if (o.result === 'hang') out.push('no error and no handshake before the deadline (hang)');
  if (o.result === 'error') {
    const e = o.error!;
    if (!(e instanceof TLSError)) out.push(`error is not a TLSError: ${e.name}: ${e.message}`);
    else {
      if (e.alert === 'internal_error') out.push(`internal_error (an exception escaped a parser?): ${e.message}\n${(e.cause as Error | undefined)?.stack ?? ''}`);
      const fatal = o.alerts.filter((a) => a.level === 2);
      if (e.origin === 'local' && e.alert !== 'close_notify') {
        const unreadable = fatal.length === 0 && o.encryptedAlert;
        if (!unreadable && (fatal.length !== 1 || fatal[0]!.text !== `fatal ${e.alert}`)) out.push(`API error ${e.alert} but on the wire: ${o.alerts.map((a) => a.text).join(', ') || 'no alert'}`);
      } else if (fatal.length) out.push(`a fatal alert on the wire (${fatal[0]!.text}) for a remote/EOF error ${e.alert}`);
    }
  }
  return out;
}

export function describeOutcome(o: Outcome): string {
  const e = o.error as TLSError | undefined;
  return `${o.side} case [${o.mutation}] → ${o.result}${e ? ` ${e.alert ?? e.name}: ${e.message}` : ''}; wire: ${o.alerts.map((a) => a.text).join(', ') || 'no alert'}\n  input: ${Buffer.from(o.input).toString('hex')}`;
}

/** Tally of how cases ended: 'decode_error', 'EOF after answer', ... */
export function bucket(o: Outcome): string {
  if (o.result !== 'error') return o.result;
  const e = o.error as TLSError;
  if (e.alert === 'close_notify') return o.answered ? 'accepted, then EOF' : 'EOF (waiting for more bytes)';
  return e.alert ?? e.name;
}

export { HostileClient };
