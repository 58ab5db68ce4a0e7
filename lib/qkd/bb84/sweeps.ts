// Parameter sweeps behind the CLI plots: simulated key fraction against QBER, and key rate against
// distance, each next to the closed-form curve.
import { keyFraction } from './entropy.js';
import { MIN_BLOCK_BITS, resolveParams, type Bb84Params } from './params.js';
import { asymptoticRatePerPulse, expectedQber, siftedPerPulse } from './physics.js';
import { Bb84Protocol } from './protocol.js';

export interface FractionPoint {
  intrinsic: number;
  qber: number;
  keyFraction: number;
  efficiency: number;
  aborted: boolean;
}

/** One block per intrinsic error rate on a lossless channel (loss does not change the key fraction). */
export function keyFractionSweep(base: Bb84Params, seed: string | number | undefined, intrinsics: number[], blockSize: number): FractionPoint[] {
  return intrinsics.map((e) => {
    const p = resolveParams({ ...base, misalignment: e, distanceKm: 0, detectorEfficiency: 1, blockSize });
    const proto = new Bb84Protocol(p, { seed: seed === undefined ? undefined : `${seed}/fraction/${e}` });
    proto.runPulses(Math.ceil(blockSize / siftedPerPulse(p) * 1.02) + 4096);
    const r = proto.distill(Math.min(blockSize, proto.siftedAvailable));
    return { intrinsic: e, qber: r.qber, keyFraction: r.keyFraction, efficiency: r.efficiency, aborted: !r.ok };
  });
}

export function theoryFractionCurve(f: number, qMax = 0.12, steps = 120): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i <= steps; i++) {
    const q = (qMax * i) / steps;
    out.push([q * 100, Math.max(0, keyFraction(q, f))]);
  }
  return out;
}

export interface DistancePoint {
  distanceKm: number;
  pulses: number;
  qber: number;
  bitsPerPulse: number;
  aborted: boolean;
}

/** Simulated points where a block of `blockSize` sifted bits needs at most `pulseBudget` pulses. */
export function distanceSweep(base: Bb84Params, seed: string | number | undefined, distances: number[], blockSize: number, pulseBudget: number): DistancePoint[] {
  const out: DistancePoint[] = [];
  for (const d of distances) {
    const p = resolveParams({ ...base, distanceKm: d, blockSize: Math.max(MIN_BLOCK_BITS, blockSize) });
    const pulses = Math.ceil((p.blockSize / siftedPerPulse(p)) * 1.02) + 4096;
    if (pulses > pulseBudget) continue;
    const proto = new Bb84Protocol(p, { seed: seed === undefined ? undefined : `${seed}/distance/${d}` });
    proto.runPulses(pulses);
    const r = proto.distill(Math.min(p.blockSize, proto.siftedAvailable));
    out.push({ distanceKm: d, pulses, qber: r.qber, bitsPerPulse: r.finalBits / pulses, aborted: !r.ok });
  }
  return out;
}

export function theoryRateCurve(base: Bb84Params, f: number, maxKm: number, steps = 200): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i <= steps; i++) {
    const d = (maxKm * i) / steps;
    out.push([d, asymptoticRatePerPulse({ ...base, distanceKm: d }, f)]);
  }
  return out;
}

/** The distance where the asymptotic rate reaches zero (dark counts push the QBER over the threshold). */
export function cutoffDistance(base: Bb84Params, f: number): number {
  let lo = 0;
  let hi = 1000;
  if (keyFraction(expectedQber({ ...base, distanceKm: hi }), f) > 0) return hi;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (keyFraction(expectedQber({ ...base, distanceKm: mid }), f) > 0) lo = mid;
    else hi = mid;
  }
  return lo;
}
