// Public surface of the simulated BB84 link.
export { Bb84Link, type Bb84LinkOptions, type Bb84LinkStats } from './link.js';
export { Bb84Protocol, type BlockReport, type PulseCounters, type ProtocolOptions } from './protocol.js';
export {
  Bb84ParamError, DEFAULT_CHANNEL, DEFAULT_PROTOCOL, resolveParams, validateChannel, validateProtocol, sampleSize,
  type Bb84Params, type ChannelParams, type ProtocolParams,
} from './params.js';
export { CASCADE_VARIANTS, cascadeVariant, type CascadeVariant, type CascadeVariantName } from './cascade-variants.js';
export { binaryEntropy, keyFraction, qberThreshold } from './entropy.js';
export { asymptoticRatePerPulse, clickProbability, expectedQber, siftedPerPulse, transmittance } from './physics.js';
export { AuthenticationError, ClassicalWire, type Interceptor } from './classical-channel.js';
export { SeededRandom, CryptoRandom, type RandomSource } from './prng.js';
