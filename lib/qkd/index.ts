// Public API of the QKD side of qtls, as the package subpath 'qtls/qkd' (kept out of the main entry so
// that plain TLS users never load the KME's SQLite binding).
export { KeyDeliveryError, type DeliveredKey, type KeyDelivery, type KeyDeliveryErrorKind, type KeyRequestOptions } from './key-delivery.js';
export { createKeyDelivery, saeIdFromCertificate, type KmeClientSettings } from './delivery-factory.js';
export { Etsi014Client } from './etsi014/client.js';
export { Etsi014KeyDelivery } from './etsi014/key-delivery.js';
export { Etsi004Client } from './etsi004/client.js';
export { Etsi004KeyDelivery } from './etsi004/key-delivery.js';
export { startKmeNetwork, startKmeSite, type KmeNetworkOptions, type KmeSiteOptions, type RunningKmeNetwork, type RunningKmeSite } from './kme/network.js';
export { qtlsConnect, qtlsServerFactory } from './qtls-transport.js';
export { CsprngLink } from './csprng-link.js';
export type { QkdLink, LinkBlock, LinkStats } from './link.js';
export * from './bb84/index.js';
export { qkdPskClientOptions, qkdPskServerOptions, type QkdPskMode } from '../kx/qkd-psk.js';
export type { QkdOptions } from '../kx/qkd-options.js';
