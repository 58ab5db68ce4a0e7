// Registers the built-in key exchanges. Importing this module is what makes their suites usable.
import { registerKeyExchange } from './registry.js';
import { ecdheProvider } from './ecdhe.js';
import { dheProvider } from './dhe.js';
import { dhePskProvider, ecdhePskProvider, pskProvider } from './psk.js';
import { qkdProvider } from './qkd.js';
import { hybridProvider } from './hybrid.js';

let done = false;
export function registerBuiltinKeyExchanges(): void {
  if (done) return;
  done = true;
  for (const p of [ecdheProvider, dheProvider, pskProvider, ecdhePskProvider, dhePskProvider, qkdProvider, hybridProvider]) registerKeyExchange(p);
}
registerBuiltinKeyExchanges();

export { registerKeyExchange, keyExchangeProvider } from './registry.js';
export type { KeyExchange, KeyExchangeProvider, KxContext } from './key-exchange.js';
