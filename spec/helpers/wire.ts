// A wire tap: a TCP relay on 127.0.0.1 that records every byte in both directions, and a reader for
// what TLS 1.2 leaves in clear (record headers; handshake messages before ChangeCipherSpec). It is an
// observer independent of both endpoints: it shows which suite and group a node:tls server really sent
// (node has no server-side getEphemeralKeyInfo()) and that each side ended with an alert record
// (close_notify) rather than a bare TCP FIN.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { LOCALHOST, listenLocal } from './ports.js';

export interface TapConnection {
  /** Client → server bytes. */
  c2s: Buffer[];
  /** Server → client bytes. */
  s2c: Buffer[];
  /** Resolves when both TCP connections are closed. */
  done: Promise<void>;
}

export interface Tap {
  port: number;
  connections: TapConnection[];
  close(): Promise<void>;
}

export interface TapOptions {
  /**
   * Forward at most this many bytes per write, yielding to the event loop between writes (with
   * TCP_NODELAY), so the receiver sees records and handshake messages split across many reads.
   */
  chunk?: number;
}

/** Relay 127.0.0.1:<tap.port> → 127.0.0.1:<targetPort>, recording traffic. Half-closes are forwarded. */
export async function startTap(targetPort: number, opts: TapOptions = {}): Promise<Tap> {
  const connections: TapConnection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (down) => {
    const up = connect({ host: LOCALHOST, port: targetPort, allowHalfOpen: true });
    sockets.add(down).add(up);
    const rec: TapConnection = { c2s: [], s2c: [], done: Promise.resolve() };
    let closed = 0;
    rec.done = new Promise<void>((resolve) => {
      const onClose = (s: Socket) => () => {
        sockets.delete(s);
        if (++closed === 2) resolve();
      };
      down.on('close', onClose(down));
      up.on('close', onClose(up));
    });
    connections.push(rec);
    relay(down, up, rec.c2s, opts.chunk);
    relay(up, down, rec.s2c, opts.chunk);
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
  });
  const port = await listenLocal(server);
  return {
    port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function relay(from: Socket, to: Socket, record: Buffer[], chunk: number | undefined): void {
  if (!chunk) {
    from.on('data', (d: Buffer) => {
      record.push(d);
      to.write(d);
    });
    from.on('end', () => to.end());
    return;
  }
  to.setNoDelay(true);
  const queue: Buffer[] = [];
  let pumping = false;
  let ended = false;
  const pump = () => {
    const head = queue[0];
    if (!head) {
      pumping = false;
      if (ended) to.end();
      return;
    }
    pumping = true;
    const piece = head.subarray(0, chunk);
    if (piece.length === head.length) queue.shift();
    else queue[0] = head.subarray(chunk);
    if (!to.destroyed) to.write(piece);
    setImmediate(pump);
  };
  from.on('data', (d: Buffer) => {
    record.push(d);
    queue.push(d);
    if (!pumping) pump();
  });
  from.on('end', () => {
    ended = true;
    if (!pumping) to.end();
  });
}

export interface WireRecord {
  type: number;
  length: number;
  /** After this direction's ChangeCipherSpec: the payload is ciphertext. */
  encrypted: boolean;
}

export interface WireFlight {
  records: WireRecord[];
  /** Clear handshake messages (type, body), in order, up to ChangeCipherSpec. */
  handshakes: Array<{ type: number; body: Buffer }>;
  /** Bytes that did not form a complete record. */
  trailing: number;
}

export const ContentType = { change_cipher_spec: 20, alert: 21, handshake: 22, application_data: 23 } as const;

/** Split one direction's bytes into records and the clear handshake messages. */
export function parseFlight(chunks: Buffer[]): WireFlight {
  const buf = Buffer.concat(chunks);
  const records: WireRecord[] = [];
  const hsBytes: Buffer[] = [];
  let encrypted = false;
  let off = 0;
  while (off + 5 <= buf.length) {
    const type = buf[off]!;
    const length = buf.readUInt16BE(off + 3);
    if (off + 5 + length > buf.length) break;
    records.push({ type, length, encrypted });
    if (type === ContentType.handshake && !encrypted) hsBytes.push(buf.subarray(off + 5, off + 5 + length));
    if (type === ContentType.change_cipher_spec) encrypted = true;
    off += 5 + length;
  }
  const hs = Buffer.concat(hsBytes);
  const handshakes: WireFlight['handshakes'] = [];
  for (let o = 0; o + 4 <= hs.length; ) {
    const len = hs.readUIntBE(o + 1, 3);
    if (o + 4 + len > hs.length) break;
    handshakes.push({ type: hs[o]!, body: hs.subarray(o + 4, o + 4 + len) });
    o += 4 + len;
  }
  return { records, handshakes, trailing: buf.length - off };
}

export interface ServerWireFacts {
  /** ServerHello.server_version. */
  version: number;
  /** ServerHello.cipher_suite. */
  cipherSuite: number;
  /** ServerKeyExchange ECParameters: named_curve (curve_type must be 3). */
  namedCurve: number | undefined;
}

/** What a server committed to on the wire: the suite in ServerHello and the group in ServerKeyExchange. */
export function serverWireFacts(flight: WireFlight): ServerWireFacts {
  const sh = flight.handshakes.find((h) => h.type === 2);
  if (!sh) throw new Error('no ServerHello on the wire');
  const version = sh.body.readUInt16BE(0);
  const sidLen = sh.body[34]!;
  const cipherSuite = sh.body.readUInt16BE(35 + sidLen);
  const ske = flight.handshakes.find((h) => h.type === 12);
  const namedCurve = ske && ske.body[0] === 3 ? ske.body.readUInt16BE(1) : undefined;
  return { version, cipherSuite, namedCurve };
}

/**
 * Records after the handshake, by type: a clean TLS 1.2 close is application data followed by exactly
 * one (encrypted) alert record, the close_notify, and nothing after it.
 */
export function closingRecords(flight: WireFlight): { appData: number; alerts: number; alertIsLast: boolean } {
  const enc = flight.records.filter((r) => r.encrypted);
  const alerts = enc.filter((r) => r.type === ContentType.alert).length;
  const last = enc[enc.length - 1];
  return { appData: enc.filter((r) => r.type === ContentType.application_data).length, alerts, alertIsLast: last?.type === ContentType.alert };
}
