// Splitting the key of a block into Cascade frames, and the per-frame ledger both sides keep in step.

export interface FrameEntry {
  start: number;
  length: number;
  /** Hash confirmations sent for this frame (each leaks CONFIRM_LEAK_BITS). */
  confirmations: number;
  status: 'open' | 'ok' | 'discarded';
  /** Parities disclosed by Alice for this frame. */
  disclosed: number;
  errorsZ: number;
  errorsX: number;
  /** Whether the first confirmation failed (the classic Cascade frame error). */
  failedFirst: boolean;
}

/** Frames of (nearly) `frameSize` bits covering [0, n): ⌈n/frameSize⌉ frames of equal size ±1. */
export function splitFrames(n: number, frameSize: number): FrameEntry[] {
  const count = Math.max(1, Math.ceil(n / frameSize));
  const out: FrameEntry[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * n) / count);
    const end = Math.floor(((i + 1) * n) / count);
    out.push({ start, length: end - start, confirmations: 0, status: 'open', disclosed: 0, errorsZ: 0, errorsX: 0, failedFirst: false });
  }
  return out;
}
