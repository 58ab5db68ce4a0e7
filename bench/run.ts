// `npm run bench`: every benchmark, one after the other. Speed is reported as ratios against node:tls
// (TLS) and as figures against the targets (BB84); never run as part of `npm test`.
import { runTlsBench } from './tls.js';

await runTlsBench();
console.log();
await import('./bb84.js');
