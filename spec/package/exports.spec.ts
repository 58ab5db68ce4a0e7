import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const probe = "import('qtls').then((m) => console.log([typeof m.connect, typeof m.createServer, typeof m.TLSSocket].join(',')))";

describe('package exports', function () {
  this.timeout(120_000);

  before(() => {
    // npm test builds dist/ first; the package entry points there.
    expect(existsSync(join(root, 'dist/index.js')), 'dist/index.js (run npm run build)').to.equal(true);
  });

  it("import { connect, createServer } from 'qtls' works inside the repository (self-reference)", () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).to.equal('function,function,function');
  });

  it("the QKD API is the subpath 'qtls/qkd' (and the main entry does not load SQLite)", () => {
    const probeQkd = "import('qtls/qkd').then((q) => console.log([typeof q.createKeyDelivery, typeof q.startKmeNetwork, typeof q.Bb84Link].join(',')))";
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probeQkd], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).to.equal('function,function,function');
    // Whether an entry pulls in the native SQLite binding (CommonJS, so it shows in the require cache).
    const loadsSqlite = (entry: string) =>
      execFileSync(process.execPath, ['--input-type=module', '-e',
        `import('${entry}').then(async () => { const { createRequire } = await import('node:module'); console.log(Object.keys(createRequire(process.cwd() + '/').cache).some((k) => k.includes('better-sqlite3'))); })`,
      ], { cwd: root, encoding: 'utf8' }).trim();
    expect(loadsSqlite('qtls')).to.equal('false');
    expect(loadsSqlite('qtls/qkd')).to.equal('true'); // the check can see it
  });

  it('works from another project that installs it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qtls-consumer-'));
    try {
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', '--ignore-scripts', root], { cwd: dir, stdio: 'pipe' });
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: dir, encoding: 'utf8' });
      expect(out.trim()).to.equal('function,function,function');
      const bin = execFileSync(join(dir, 'node_modules/.bin/qtls'), ['--help'], { encoding: 'utf8' });
      expect(bin).to.match(/usage: qtls <command>/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
