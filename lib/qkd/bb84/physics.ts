// Closed-form expectations of the channel model (single-photon source, two threshold detectors). Used for
// the theoretical curves, for sizing pulse batches and for checking that inputs can give any key at all —
// never to produce simulated data.
import { keyFraction } from './entropy.js';
import type { ChannelParams } from './params.js';

/** End-to-end transmittance: fibre 10^(−αL/10) times detector efficiency. */
export function transmittance(p: Pick<ChannelParams, 'distanceKm' | 'lossDbPerKm' | 'detectorEfficiency'>): number {
  return 10 ** (-(p.lossDbPerKm * p.distanceKm) / 10) * p.detectorEfficiency;
}

/** Probability that at least one of Bob's detectors clicks for one pulse. */
export function clickProbability(p: ChannelParams): number {
  const eta = transmittance(p);
  return 1 - (1 - eta) * (1 - p.darkCountProb) ** 2;
}

/**
 * Expected QBER of the sifted key: errors from misalignment e_d, from intercept-resend (an intercepted photon
 * arrives in Eve's basis; in the sifting basis it is wrong with probability 1/4 before misalignment), from
 * dark counts (random) and from double clicks (assigned at random).
 */
export function expectedQber(p: ChannelParams): number {
  const eta = transmittance(p);
  const d = p.darkCountProb;
  // Probability that an arriving photon, measured in Alice's basis, gives the wrong outcome.
  const eSignal = p.eveFraction * (0.25 + 0.5 * p.misalignment) + (1 - p.eveFraction) * p.misalignment;
  const wrongOnly = eta * eSignal * (1 - d) + (1 - eta) * d * (1 - d);
  const both = eta * d + (1 - eta) * d * d;
  return (wrongOnly + both / 2) / clickProbability(p);
}

/** Asymptotic secret key rate in bits per pulse: ½ (sifting) × P(click) × r(Q, f). Zero when r <= 0. */
export function asymptoticRatePerPulse(p: ChannelParams, f: number): number {
  const r = keyFraction(expectedQber(p), f);
  return r > 0 ? 0.5 * clickProbability(p) * r : 0;
}

/** Expected sifted bits per pulse. */
export function siftedPerPulse(p: ChannelParams): number {
  return 0.5 * clickProbability(p);
}
