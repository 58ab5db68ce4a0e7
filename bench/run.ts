// `npm run bench`: every benchmark, one after the other. Speed is reported as ratios against node:tls
// (TLS) and as figures against the targets (BB84); never run as part of `npm test`.
import { runBb84Bench } from './bb84.js';
import { runTlsBench } from './tls.js';

await runTlsBench();
console.log();
await runBb84Bench({ frames: 1000, pulses: 1 << 25, log: (l) => console.log(l) });
