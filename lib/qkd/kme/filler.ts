// Fills both sites' pools from a QkdLink (docs/kme.md "Filling"). Runs at the site that drives the link.
// Each block is cut into key_size units numbered by the shared sequence; each unit is given to the site
// (as allocation owner) whose ready pool is lower. Step 1: store here as `pending`; step 2: the peer
// stores the same seqs and bytes; step 3: `ready` here. Pending units are re-sent first after a crash.
import { timingSafeEqual } from '../../crypto/ct.js';
import type { QkdLink } from '../link.js';
import type { KmeSite } from './site.js';
import type { Site } from './store.js';

export interface FillerOptions {
  /** Pause when both pools are full, or after a failure. Default 250 ms. */
  idleMs?: number;
  log?: (line: string) => void;
}

export class Filler {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private mismatched = 0;

  constructor(
    private readonly site: KmeSite,
    private readonly link: QkdLink,
    private readonly opts: FillerOptions = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.site.linkStats = this.stats();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private stats(): ReturnType<QkdLink['stats']> {
    const s = this.link.stats();
    return this.mismatched > 0 ? { ...s, mismatchedBlocks: this.mismatched } : s;
  }

  private async run(): Promise<void> {
    const log = this.opts.log ?? (() => {});
    const idle = this.opts.idleMs ?? 250;
    const unitBytes = this.site.store.unitBytes;
    const max = this.site.limits.maxKeyCount;
    let failures = 0;
    let lastError = '';
    while (this.running) {
      try {
        const peer = this.site.peer;
        if (!peer) {
          await this.pause(idle);
          continue;
        }
        // Re-send units a crash (or an unreachable peer) left pending, before anything new.
        const pending = this.site.store.pendingUnits(256);
        if (pending.length > 0) {
          await peer.storeUnits(pending, this.stats());
          if (!this.running) break;
          this.site.store.markUnitsReady(pending.map((u) => u.seq));
          failures = 0;
          lastError = '';
          continue;
        }
        const c = this.site.store.counts();
        const level: Record<Site, number> = { A: c.A.ready + c.A.pending + c.A.held, B: c.B.ready + c.B.pending + c.B.held };
        if (level.A >= max && level.B >= max) {
          await this.pause(idle);
          continue;
        }
        const block = await this.link.nextBlock();
        if (!this.running) break;
        if (!block.ok) {
          this.site.linkStats = this.stats();
          continue;
        }
        if (!timingSafeEqual(block.alice, block.bob)) {
          // The two ends disagree: such a block would hand different bytes to the two SAEs. Drop it.
          this.mismatched++;
          log(`filler: link block of ${block.alice.length} bytes differs between the sites; dropped`);
          continue;
        }
        const units: { owner: Site; bytes: Uint8Array }[] = [];
        for (let at = 0; at + unitBytes <= block.alice.length; at += unitBytes) {
          const owner: Site = level.A <= level.B ? 'A' : 'B';
          if (level[owner] >= max) break;
          level[owner]++;
          units.push({ owner, bytes: block.alice.slice(at, at + unitBytes) });
        }
        block.alice.fill(0);
        block.bob.fill(0);
        if (units.length === 0) continue;
        const stored = this.site.store.addPendingUnits(units);
        this.site.linkStats = this.stats();
        await peer.storeUnits(stored, this.site.linkStats);
        for (const u of units) u.bytes.fill(0);
        if (!this.running) break;
        this.site.store.markUnitsReady(stored.map((u) => u.seq));
        failures = 0;
        lastError = '';
      } catch (e) {
        if (!this.running) break;
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== lastError) log(`filler: ${msg}`); // once per distinct failure, not every retry
        lastError = msg;
        failures++;
        await this.pause(Math.min(idle * 2 ** Math.min(failures, 6), 5000));
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }
}
