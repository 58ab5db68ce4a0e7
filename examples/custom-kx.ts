// Adding a key exchange to qtls from your own code, without touching lib/: an X448 ECDHE exchange
// (RFC 7748 curve448, computed by node:crypto) in a private-use cipher suite authenticated by the
// server's ECDSA certificate. docs/key-exchange.md walks through it; spec/docs/custom-kx.spec.ts runs it.
//
//   node --import tsx examples/custom-kx.ts
//
// Everything comes from the package entry (in an application: `from 'qtls'`).
import { createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import {
  TLSError, connect, createServer, registerCipherSuite, registerKeyExchange, suiteByName,
  type KeyExchange, type KeyExchangeProvider, type KxContext, type Reader,
} from '../lib/index.js';

const X448_KEY_LENGTH = 56;

/** A fresh X448 key pair; the public key as the 56 raw bytes that go on the wire. */
function x448KeyPair(): { privateKey: KeyObject; raw: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('x448');
  return { privateKey, raw: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url') };
}

/** Z = X448(ours, theirs), refusing malformed keys and the all-zero output (RFC 7748 §6.2). */
function x448(privateKey: KeyObject, peerRaw: Uint8Array): Uint8Array {
  if (peerRaw.length !== X448_KEY_LENGTH) throw new TLSError('illegal_parameter', `X448 public key of ${peerRaw.length} bytes`);
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X448', x: Buffer.from(peerRaw).toString('base64url') }, format: 'jwk' });
  const z = diffieHellman({ privateKey, publicKey });
  if (z.every((b) => b === 0)) throw new TLSError('illegal_parameter', 'X448 shared secret is all zeros');
  return z;
}

/** Our wire format, for both ServerKeyExchange params and ClientKeyExchange: opaque public<1..2^8-1>. */
const encodePoint = (raw: Uint8Array): Uint8Array => Buffer.concat([Buffer.from([raw.length]), raw]);
function decodePoint(body: Uint8Array, what: string): Uint8Array {
  if (body.length < 1 || body[0] !== body.length - 1) throw new TLSError('decode_error', `malformed ${what}`);
  return body.subarray(1);
}

/** One handshake's worth of state: the four steps of the seam. */
class X448KeyExchange implements KeyExchange {
  private ours: KeyObject | undefined;
  private theirs: Uint8Array | undefined;

  // Server, step 1: our share, sent in ServerKeyExchange (the handshake signs it with the certificate).
  async serverParams(ctx: KxContext): Promise<Uint8Array> {
    const { privateKey, raw } = x448KeyPair();
    this.ours = privateKey;
    ctx.info.group = 'x448'; // reported by getKeyExchangeInfo() / getEphemeralKeyInfo()
    return encodePoint(raw);
  }

  // Server, step 2: the client's share from ClientKeyExchange → premaster secret.
  async serverPremaster(_ctx: KxContext, clientKeyExchange: Uint8Array): Promise<Uint8Array> {
    return x448(this.ours!, decodePoint(clientKeyExchange, 'ClientKeyExchange'));
  }

  // Client, before step 3: say where our params end (a signature follows them in ServerKeyExchange).
  readServerParams(r: Reader): void {
    r.vec8('x448 public', 1);
  }

  // Client, step 3: the server's (already signature-checked) params.
  async processServerParams(ctx: KxContext, params: Uint8Array | undefined): Promise<void> {
    if (!params) throw new TLSError('unexpected_message', 'X448 needs a ServerKeyExchange');
    this.theirs = decodePoint(params, 'ServerKeyExchange params');
    ctx.info.group = 'x448';
  }

  // Client, step 4: our share for ClientKeyExchange, and the premaster secret.
  async clientKeyExchange(): Promise<{ message: Uint8Array; premaster: Uint8Array }> {
    const { privateKey, raw } = x448KeyPair();
    return { message: encodePoint(raw), premaster: x448(privateKey, this.theirs!) };
  }
}

export const x448Provider: KeyExchangeProvider = {
  name: 'X448',
  serverCanUse: () => true, // no configuration needed; the suite itself names the curve
  clientCanOffer: () => true,
  create: () => new X448KeyExchange(),
};

/** Private-use suite value (RFC 5246 §12: first byte 0xFF). Both peers must agree on it. */
export const X448_SUITE = 'X448-ECDSA-AES128-GCM-SHA256';

/** Register the exchange and its suite (once per process). */
export function registerX448(): void {
  if (suiteByName(X448_SUITE)) return;
  registerKeyExchange(x448Provider);
  registerCipherSuite({
    id: 0xfff0, name: 'TLS_X448_ECDSA_WITH_AES_128_GCM_SHA256', opensslName: X448_SUITE,
    kx: 'X448', auth: 'ECDSA', aead: 'AES-128-GCM', prf: 'sha256',
  });
}

/** A server and a client on the custom suite (it must be named in `ciphers`: it is never a default). */
export async function demo(): Promise<{ suite: string | undefined; group: unknown; echoed: string }> {
  registerX448();
  const pki = (name: string) => readFileSync(new URL(`../fixtures/pki/${name}`, import.meta.url));
  const server = createServer({ cert: pki('ecdsa-p256-chain.pem'), key: pki('ecdsa-p256-key.pem'), ciphers: X448_SUITE }, (socket) => {
    socket.on('data', (d: Buffer) => socket.end(d));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  try {
    const port = (server.address() as AddressInfo).port;
    return await new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: pki('ca.pem'), ciphers: X448_SUITE });
      let echoed = '';
      socket.on('secureConnect', () => socket.write('hello over X448'));
      socket.on('data', (d: Buffer) => (echoed += d));
      socket.on('error', reject);
      socket.on('end', () => resolve({ suite: socket.getCipher()?.standardName, group: socket.getKeyExchangeInfo().group, echoed }));
    });
  } finally {
    server.close();
  }
}

// Run directly: print what happened.
if (import.meta.url === `file://${process.argv[1]}`) {
  demo().then(
    (r) => console.log(`${r.suite} group=${String(r.group)} echoed="${r.echoed}"`),
    (e: Error) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
