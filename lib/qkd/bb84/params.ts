// Parameters of the simulated link and of the post-processing, their defaults, and validation. Validation
// runs before any work so that bad input fails fast with a clear message.
import { CASCADE_VARIANTS, type CascadeVariantName } from './cascade-variants.js';

export interface ChannelParams {
  /** Fibre length in km. */
  distanceKm: number;
  /** Fibre attenuation in dB/km (0.2 for standard SMF-28 at 1550 nm). */
  lossDbPerKm: number;
  /** Detector efficiency η_det (0..1], including Bob's optical losses. */
  detectorEfficiency: number;
  /** Dark-count probability per detector per gate. */
  darkCountProb: number;
  /** Intrinsic error: probability that misalignment / depolarisation flips an arriving photon's state. */
  misalignment: number;
  /** Fraction of pulses an intercept-resend eavesdropper measures and resends (0..1). */
  eveFraction: number;
}

export interface ProtocolParams {
  cascade: CascadeVariantName;
  /** Sifted bits per privacy-amplification block (the unit of finite-size analysis). */
  blockSize: number;
  /** Cascade frame length in bits. */
  frameSize: number;
  /** Fraction of each block disclosed for parameter estimation (at least `minSample` bits). */
  sampleFraction: number;
  minSample: number;
  /** Security parameter ε for parameter estimation and for privacy amplification. */
  epsilon: number;
  /** Frames reconciled concurrently (their queries share classical messages). */
  parallelFrames: number;
  /** Rounds of extra passes for a frame whose hash confirmation failed, before it is discarded. */
  maxRetries: number;
  /** Bytes of each final key moved into the authentication key pool. */
  authRefillBytes: number;
}

export type Bb84Params = ChannelParams & ProtocolParams;

export const DEFAULT_CHANNEL: Readonly<ChannelParams> = {
  distanceKm: 25,
  lossDbPerKm: 0.2,
  detectorEfficiency: 0.2,
  darkCountProb: 1e-6,
  misalignment: 0.02,
  eveFraction: 0,
};

export const DEFAULT_PROTOCOL: Readonly<ProtocolParams> = {
  cascade: 'yanetal',
  // 2^20: the finite-size cost keeps the key fraction within ~3% of r(Q, f) at the default QBER (2^18: ~5.5%).
  blockSize: 1 << 20,
  frameSize: 10_000,
  sampleFraction: 0.005,
  minSample: 2000,
  epsilon: 1e-10,
  parallelFrames: 16,
  maxRetries: 3,
  authRefillBytes: 32,
};

/** Smallest block the pipeline accepts: a parameter-estimation sample plus something to reconcile. */
export const MIN_BLOCK_BITS = 4096;

export class Bb84ParamError extends Error {
  override name = 'Bb84ParamError';
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new Bb84ParamError(msg);
}

const finite = (x: number): boolean => typeof x === 'number' && Number.isFinite(x);

export function validateChannel(p: ChannelParams): void {
  check(finite(p.distanceKm) && p.distanceKm >= 0, `distance must be a finite number of km >= 0 (got ${p.distanceKm})`);
  check(finite(p.lossDbPerKm) && p.lossDbPerKm >= 0, `fibre loss must be >= 0 dB/km (got ${p.lossDbPerKm})`);
  check(finite(p.detectorEfficiency) && p.detectorEfficiency > 0 && p.detectorEfficiency <= 1,
    `detector efficiency must be in (0, 1] (got ${p.detectorEfficiency})`);
  check(finite(p.darkCountProb) && p.darkCountProb >= 0 && p.darkCountProb < 0.5,
    `dark-count probability must be in [0, 0.5) (got ${p.darkCountProb})`);
  check(finite(p.misalignment) && p.misalignment >= 0 && p.misalignment <= 0.5,
    `intrinsic QBER (misalignment) must be in [0, 0.5] (got ${p.misalignment})`);
  check(finite(p.eveFraction) && p.eveFraction >= 0 && p.eveFraction <= 1,
    `eavesdropper fraction must be in [0, 1] (got ${p.eveFraction})`);
}

export function validateProtocol(p: ProtocolParams): void {
  check(p.cascade in CASCADE_VARIANTS,
    `unknown Cascade variant '${p.cascade}' (expected one of ${Object.keys(CASCADE_VARIANTS).join(', ')})`);
  check(Number.isInteger(p.frameSize) && p.frameSize >= 64 && p.frameSize <= 1 << 20,
    `frame size must be an integer in 64..2^20 (got ${p.frameSize})`);
  check(Number.isInteger(p.blockSize) && p.blockSize >= MIN_BLOCK_BITS && p.blockSize <= 1 << 21,
    `block size must be an integer in ${MIN_BLOCK_BITS}..2^21 sifted bits (got ${p.blockSize})`);
  check(finite(p.sampleFraction) && p.sampleFraction > 0 && p.sampleFraction < 0.5,
    `sample fraction must be in (0, 0.5) (got ${p.sampleFraction})`);
  check(Number.isInteger(p.minSample) && p.minSample >= 100, `minimum sample must be an integer >= 100 (got ${p.minSample})`);
  check(sampleSize(p.blockSize, p) * 2 <= p.blockSize,
    `block of ${p.blockSize} sifted bits is too small to estimate the QBER on a ${sampleSize(p.blockSize, p)}-bit sample`);
  check(finite(p.epsilon) && p.epsilon > 0 && p.epsilon < 0.01, `epsilon must be in (0, 0.01) (got ${p.epsilon})`);
  check(Number.isInteger(p.parallelFrames) && p.parallelFrames >= 1 && p.parallelFrames <= 1024,
    `parallel frames must be an integer in 1..1024 (got ${p.parallelFrames})`);
  check(Number.isInteger(p.maxRetries) && p.maxRetries >= 0 && p.maxRetries <= 10,
    `max retries must be an integer in 0..10 (got ${p.maxRetries})`);
  check(Number.isInteger(p.authRefillBytes) && p.authRefillBytes >= 32 && p.authRefillBytes <= 1024,
    `authentication refill must be an integer in 32..1024 bytes (got ${p.authRefillBytes})`);
}

/** Parameter-estimation sample size for a block of `n` sifted bits. */
export function sampleSize(n: number, p: Pick<ProtocolParams, 'sampleFraction' | 'minSample'>): number {
  return Math.max(p.minSample, Math.ceil(p.sampleFraction * n));
}

export function resolveParams(overrides: Partial<Bb84Params> = {}): Bb84Params {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const p = { ...DEFAULT_CHANNEL, ...DEFAULT_PROTOCOL, ...defined } as Bb84Params;
  validateChannel(p);
  validateProtocol(p);
  return p;
}
