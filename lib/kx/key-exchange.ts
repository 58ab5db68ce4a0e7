// The key-exchange seam (see docs/key-exchange.md). A TLS 1.2 key exchange is four asynchronous steps,
// modelled on Go's keyAgreement but async: a QKD key manager is a network round trip, and being able
// to await it inside one side's flight — without the other side waiting on us — is what removes the
// 2019 hackathon's deadlock. Signing and verifying the ServerKeyExchange belongs to the suite's
// authentication (the handshake does it), not to the exchange.
import type { Extensions } from '../handshake/extensions.js';
import type { CipherSuite } from '../suites.js';
import type { Reader } from '../wire/reader.js';

export interface KxContext {
  readonly role: 'client' | 'server';
  readonly suite: CipherSuite;
  readonly clientRandom: Uint8Array;
  readonly serverRandom: Uint8Array;
  /** supported_groups the client offered (what we offered, on the client side). */
  readonly clientGroups: readonly number[];
  /** Our own group preference, most preferred first. */
  readonly groups: readonly number[];
  /** Server: pick groups in the client's order (node: honorCipherOrder false) instead of ours. */
  readonly preferClientGroups?: boolean;
  /** Extensions of the ClientHello (server side: received; client side: sent). */
  readonly clientExtensions: Extensions;
  /** SNI host name, if any. */
  readonly servername?: string;
  /** The connection's options as the user gave them (exchanges read their own settings from it). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The TLSSocket this handshake belongs to (passed to user callbacks such as pskCallback). */
  readonly socket?: unknown;
  /** Aborted when the connection is torn down (the peer vanished, a timeout, a fatal alert). */
  readonly signal: AbortSignal;
  /**
   * Facts the exchange wants to report (group name, PSK identity, QKD key_ID, KME...). They appear in
   * getEphemeralKeyInfo(), in traces and in the demo summary. Never put secrets here.
   */
  readonly info: Record<string, unknown>;
}

export interface KeyExchange {
  // --- server side, in this order ---
  /** Parameters for ServerKeyExchange (the part that gets signed), or undefined to send none. */
  serverParams(ctx: KxContext): Promise<Uint8Array | undefined>;
  /** The premaster secret from the body of the client's ClientKeyExchange. */
  serverPremaster(ctx: KxContext, clientKeyExchange: Uint8Array): Promise<Uint8Array>;

  // --- client side, in this order ---
  /**
   * Consume exactly this exchange's params from the head of a ServerKeyExchange body (RFC 5246 §7.4.3:
   * the params are followed by a signature, so their length is only known to the exchange).
   */
  readServerParams(r: Reader): void;
  /** Process the ServerKeyExchange params, or undefined when the server sent no ServerKeyExchange. */
  processServerParams(ctx: KxContext, params: Uint8Array | undefined): Promise<void>;
  /** The ClientKeyExchange body and the premaster secret. */
  clientKeyExchange(ctx: KxContext): Promise<{ message: Uint8Array; premaster: Uint8Array }>;
}

/** What the suite table's `kx` names: creates one KeyExchange per handshake. */
export interface KeyExchangeProvider {
  readonly name: string;
  /**
   * Server side: can this exchange run for this client with this configuration (a common group, a
   * configured PSK callback, a KME)? Suites whose exchange can't run are skipped in suite selection.
   */
  serverCanUse(ctx: Pick<KxContext, 'clientGroups' | 'groups' | 'clientExtensions' | 'options' | 'suite'>): boolean;
  /** Client side: can we offer suites of this exchange with our configuration? */
  clientCanOffer(options: Readonly<Record<string, unknown>>): boolean;
  /** Client side: extensions this exchange adds to the ClientHello when its suites are offered. */
  clientHelloExtensions?(options: Readonly<Record<string, unknown>>): Array<[number, Uint8Array]>;
  /** The server may omit ServerKeyExchange (RFC 4279 §2: plain PSK without an identity hint). */
  readonly serverKeyExchangeOptional?: boolean;
  create(): KeyExchange;
}
