// PSK-compatible QKD (docs/qkd-in-tls.md): the standard PSK / ECDHE_PSK suites (RFC 4279, RFC 5489,
// RFC 8442) with an ETSI key_ID as the PSK identity, so that an unmodified peer (openssl s_client with
// a key it fetched from its KME) can join. Implemented purely with the node:tls-shaped pskCallback /
// pskIdentityHint options, so it is also an example of driving QKD from user code.
//
//   mode 'psk'       client = master SAE: fetches a key for the server's SAE, sends key_ID as psk_identity;
//                    server = slave SAE: fetches that key by ID from its own KME.
//   mode 'psk-hint'  server = master SAE: fetches a key for the client's SAE, sends key_ID as
//                    psk_identity_hint; client = slave SAE fetches it and echoes the ID as identity.
import { TLSError } from '../alert.js';
import { KeyDeliveryError } from '../qkd/key-delivery.js';
import type { ClientPskCallback, PskAnswer, ServerPskCallback } from './psk.js';
import { DEFAULT_QKD_KEY_BITS, checkKeySize, kmeCall, kmeName, type QkdOptions } from './qkd-options.js';
import { serverKmeCall } from './qkd-key-budget.js';

export type QkdPskMode = 'psk' | 'psk-hint';

function peer(q: QkdOptions): string {
  if (!q.peerSaeId) throw new TLSError('internal_error', 'PSK-compatible QKD needs qkd.peerSaeId (the other SAE)');
  return q.peerSaeId;
}

// pskCallback carries no abort signal (node's shape), so these KME calls are bounded by the timeout alone.
const signal = () => new AbortController().signal;

/** Client options for PSK-compatible QKD. */
export function qkdPskClientOptions(q: QkdOptions, mode: QkdPskMode): { pskCallback: ClientPskCallback } {
  const bits = q.keySizeBits ?? DEFAULT_QKD_KEY_BITS;
  return {
    pskCallback: async (hint): Promise<PskAnswer> => {
      if (mode === 'psk') {
        const k = await kmeCall(q, signal(), `enc_keys for ${peer(q)}`, (s) => q.delivery.getKey(peer(q), { sizeBits: bits, signal: s }));
        checkKeySize(k.key, bits, kmeName(q, k.kmeId));
        return { identity: k.keyId, psk: k.key };
      }
      if (!hint) throw new TLSError('handshake_failure', 'server sent no psk_identity_hint (expected a QKD key_ID)');
      const k = await kmeCall(q, signal(), `dec_keys for key ${hint}`, (s) => q.delivery.getKeyById(peer(q), hint, { sizeBits: bits, signal: s }));
      checkKeySize(k.key, bits, kmeName(q, k.kmeId));
      return { identity: hint, psk: k.key };
    },
  };
}

/** Server options for PSK-compatible QKD. */
export function qkdPskServerOptions(q: QkdOptions, mode: QkdPskMode): { pskCallback: ServerPskCallback; pskIdentityHint?: (socket: unknown) => Promise<string> } {
  const bits = q.keySizeBits ?? DEFAULT_QKD_KEY_BITS;
  if (mode === 'psk') {
    return {
      pskCallback: async (_socket, identity) => {
        try {
          // Any client can name a key_ID: the server's dec_keys is under the key budget too.
          const k = await serverKmeCall(q, signal(), `dec_keys for key ${identity}`, (s) => q.delivery.getKeyById(peer(q), identity, { sizeBits: bits, signal: s }));
          checkKeySize(k.key, bits, kmeName(q, k.kmeId));
          return k.key;
        } catch (e) {
          // A key_ID the KME doesn't know is an unknown identity (RFC 4279 §2), not a KME failure.
          if (e instanceof TLSError && e.cause instanceof KeyDeliveryError && e.cause.kind === 'not-found') return null;
          throw e;
        }
      },
    };
  }
  // psk-hint: the key fetched for the hint is remembered per connection until the identity comes back.
  const pending = new WeakMap<object, { keyId: string; key: Uint8Array }>();
  return {
    pskIdentityHint: async (socket) => {
      const k = await serverKmeCall(q, signal(), `enc_keys for ${peer(q)}`, (s) => q.delivery.getKey(peer(q), { sizeBits: bits, signal: s }));
      checkKeySize(k.key, bits, kmeName(q, k.kmeId));
      pending.set(socket as object, { keyId: k.keyId, key: k.key });
      return k.keyId;
    },
    pskCallback: async (socket, identity) => {
      const p = pending.get(socket as object);
      pending.delete(socket as object);
      return p && p.keyId === identity ? p.key : null;
    },
  };
}
