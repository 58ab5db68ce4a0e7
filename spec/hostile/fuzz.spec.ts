// Seeded mini-fuzz: a few hundred mutants (bit flips, truncations, length-field edits, insertions,
// deletions, re-fragmentation) of a valid ClientHello and of a valid server first flight, each fed to
// a fresh endpoint. Every case must end before its deadline with a TLSError whose alert is the one on
// the wire (or a completed handshake); never a hang, a non-TLS error, an internal_error, or an
// exception escaping. Reproduce a failure with the printed seed: FUZZ_SEED=<seed> npx mocha <this file>;
// go deeper with node --import tsx spec/hostile/fuzz-long.ts --iterations N.
import { expect } from 'chai';
import { Rng, bucket, clientCase, describeOutcome, problems, serverCase, type Outcome } from './helpers/fuzz.js';
import { useProcessGuard } from './helpers/guard.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed1e55);
const CASES = Number(process.env['FUZZ_CASES'] ?? 300);
/** Per case: generous for a loaded 2-core machine; a healthy case takes a few ms. */
const DEADLINE = 2000;

async function campaign(run: (rng: Rng, ms: number) => Promise<Outcome>, seed: number): Promise<Map<string, number>> {
  const rng = new Rng(seed);
  const tally = new Map<string, number>();
  const failures: string[] = [];
  for (let i = 0; i < CASES; i++) {
    const o = await run(rng, DEADLINE);
    tally.set(bucket(o), (tally.get(bucket(o)) ?? 0) + 1);
    const p = problems(o);
    if (p.length) failures.push(`case ${i} (seed ${seed}): ${p.join('; ')}\n  ${describeOutcome(o)}`);
  }
  expect(failures, failures.slice(0, 5).join('\n\n')).to.deep.equal([]);
  return tally;
}

describe('hostile/fuzz: seeded mutants of a ClientHello and of a server flight', function () {
  useProcessGuard();
  this.timeout(60_000);

  it(`${CASES} mutated ClientHellos → every one ends in a TLSError with the same alert on the wire`, async () => {
    const tally = await campaign(serverCase, SEED);
    // The mutator must reach past the first parse error: some mutants are accepted by the server.
    expect([...tally.keys()].length, `outcomes: ${JSON.stringify([...tally])}`).to.be.at.least(4);
    expect(tally.get('decode_error') ?? 0).to.be.greaterThan(0);
  });

  it(`${CASES} mutated server first flights → every one ends in a TLSError with the same alert on the wire`, async () => {
    const tally = await campaign(clientCase, SEED ^ 0x0f0f0f0f);
    expect([...tally.keys()].length, `outcomes: ${JSON.stringify([...tally])}`).to.be.at.least(4);
    expect(tally.get('decode_error') ?? 0).to.be.greaterThan(0);
  });
});
