// Key exchanges by name. Built-in ones register themselves in lib/kx/index.ts; a user adds an exchange
// with registerKeyExchange() and a suite that names it with registerCipherSuite() — see
// docs/key-exchange.md for a worked example.
import type { KeyExchangeProvider } from './key-exchange.js';

const providers = new Map<string, KeyExchangeProvider>();

export function registerKeyExchange(provider: KeyExchangeProvider): void {
  if (providers.has(provider.name)) throw new Error(`key exchange ${provider.name} is already registered`);
  providers.set(provider.name, provider);
}

export function keyExchangeProvider(name: string): KeyExchangeProvider | undefined {
  return providers.get(name);
}
