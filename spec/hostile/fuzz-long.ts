// Long fuzz run (not part of `npm test`): the mutants of spec/hostile/fuzz.spec.ts, as many as asked.
//
//   node --import tsx spec/hostile/fuzz-long.ts --iterations 20000 [--seed 1234] [--side server|client|both]
//                                               [--deadline 5000] [--stop-on-first]
//
// Each iteration is one mutated ClientHello (server side) and/or one mutated server first flight
// (client side) against a fresh endpoint. Findings — hangs, non-TLS errors, internal_error, an alert on
// the wire that differs from the API error, unhandled rejections, uncaught exceptions — are printed
// with the seed, the iteration and the mutated bytes in hex. Exit status 1 if there was any.
import { parseArgs } from 'node:util';
import { Rng, bucket, clientCase, describeOutcome, problems, serverCase, type Outcome } from './helpers/fuzz.js';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '2000' },
    seed: { type: 'string' },
    side: { type: 'string', default: 'both' },
    deadline: { type: 'string', default: '5000' },
    'stop-on-first': { type: 'boolean', default: false },
  },
});
const iterations = Number(values.iterations);
const seed = values.seed !== undefined ? Number(values.seed) : (Date.now() ^ (process.pid << 16)) >>> 0;
const deadline = Number(values.deadline);
const sides = values.side === 'both' ? (['server', 'client'] as const) : ([values.side] as Array<'server' | 'client'>);
if (!Number.isFinite(iterations) || iterations < 1 || sides.some((s) => s !== 'server' && s !== 'client')) {
  console.error('usage: node --import tsx spec/hostile/fuzz-long.ts --iterations N [--seed S] [--side server|client|both] [--deadline ms] [--stop-on-first]');
  process.exit(2);
}

const escaped: string[] = [];
process.on('unhandledRejection', (r) => escaped.push(`unhandled rejection: ${(r as Error)?.stack ?? String(r)}`));
process.on('uncaughtException', (e) => escaped.push(`uncaught exception: ${e.stack ?? e.message}`));

const runners: Record<'server' | 'client', (rng: Rng, ms: number) => Promise<Outcome>> = { server: serverCase, client: clientCase };
let findings = 0;
const t0 = Date.now();
console.log(`qtls fuzz: seed ${seed}, ${iterations} iterations, sides ${sides.join('+')}, deadline ${deadline} ms`);

for (const side of sides) {
  // One stream per side, so `--side client --seed S` replays the client half of a `both` run.
  const rng = new Rng(side === 'server' ? seed : seed ^ 0x0f0f0f0f);
  const tally = new Map<string, number>();
  const start = Date.now();
  for (let i = 0; i < iterations; i++) {
    const before = escaped.length;
    const o = await runners[side](rng, deadline);
    tally.set(bucket(o), (tally.get(bucket(o)) ?? 0) + 1);
    const p = [...problems(o), ...escaped.slice(before)];
    if (p.length) {
      findings++;
      console.log(`\nFINDING ${side} iteration ${i} (seed ${seed}):\n  ${p.join('\n  ')}\n  ${describeOutcome(o)}`);
      if (values['stop-on-first']) break;
    }
    if ((i + 1) % 1000 === 0) console.log(`  ${side}: ${i + 1}/${iterations} (${((Date.now() - start) / (i + 1)).toFixed(1)} ms/case)`);
  }
  console.log(`${side}: ${[...tally].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (findings && values['stop-on-first']) break;
}
console.log(`${findings} finding(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s (seed ${seed})`);
process.exit(findings ? 1 : 0);
