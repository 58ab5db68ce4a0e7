// Keeps docs/key-exchange.md's worked example working: examples/custom-kx.ts (a user-defined X448
// exchange in a private-use suite, registered through the package entry only) runs as documented — a
// client and a server on the custom suite complete a handshake and exchange data — and every code block
// the page quotes from it is still verbatim in the file.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
// Type-only: puts the example under `npm run typecheck` without registering its suite in this process.
import type * as Example from '../../examples/custom-kx.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLE = path.join(ROOT, 'examples/custom-kx.ts');
const DOC = path.join(ROOT, 'docs/key-exchange.md');

describe('docs: key-exchange.md worked example (examples/custom-kx.ts)', function () {
  this.timeout(20_000);

  it('runs: client and server complete a handshake on the custom X448 suite and exchange data', async () => {
    // A child process, as the page shows it run: the example registers a suite, which must not leak
    // into the other specs' process.
    const proc = spawn(process.execPath, ['--import', 'tsx', EXAMPLE], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const code = await new Promise<number | null>((resolve) => proc.once('close', resolve));
    expect(code, `${out}\n${err}`).to.equal(0);
    expect(out.trim()).to.equal('TLS_X448_ECDSA_WITH_AES_128_GCM_SHA256 group=x448 echoed="hello over X448"');
    // ... which is what the page says it prints.
    expect(readFileSync(DOC, 'utf8')).to.include(out.trim());
  });

  it('every code block marked "from examples/custom-kx.ts" is verbatim in the file', () => {
    const doc = readFileSync(DOC, 'utf8');
    const source = readFileSync(EXAMPLE, 'utf8');
    const blocks = [...doc.matchAll(/<!-- from examples\/custom-kx\.ts -->\n```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length, 'quoted blocks').to.be.greaterThanOrEqual(5);
    for (const b of blocks) expect(source.includes(b), `not in examples/custom-kx.ts:\n${b}`).to.equal(true);
  });

  it('imports only from the package entry', () => {
    const source = readFileSync(EXAMPLE, 'utf8');
    const imports = [...source.matchAll(/^import [^;]*? from '([^']+)';/gms)].map((m) => m[1]);
    expect(imports.filter((i) => !i!.startsWith('node:'))).to.deep.equal(['../lib/index.js']);
    const names: Array<keyof typeof Example> = ['registerX448', 'x448Provider', 'X448_SUITE', 'demo'];
    expect(names).to.have.length(4);
  });
});
