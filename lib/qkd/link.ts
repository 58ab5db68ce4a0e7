// The seam between a QKD link (what produces identical key material at two sites) and the KMEs that
// store it. The CSPRNG link stands in until BB84 does the job; both implement this interface.

/** One distilled block: the same bytes at both ends, or an abort that leaves the pools untouched. */
export type LinkBlock =
  | { ok: true; /** key bytes at site A */ alice: Uint8Array; /** key bytes at site B */ bob: Uint8Array }
  | { ok: false; reason: string };

/** Figures a link reports through the KME status (numbers are cumulative since the link started). */
export interface LinkStats {
  kind: 'csprng' | 'bb84' | string;
  /** True when the material does NOT come from a quantum process (the CSPRNG stand-in says so). */
  simulated: boolean;
  blocks: number;
  abortedBlocks: number;
  finalBits: number;
  lastAbortReason?: string;
  [extra: string]: unknown;
}

export interface QkdLink {
  readonly kind: string;
  /** Run the link until it produces the next block (or aborts it). */
  nextBlock(): Promise<LinkBlock>;
  stats(): LinkStats;
}
