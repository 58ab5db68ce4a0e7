// `openssl verify` as the reference for name-constraint verdicts: the same root (-CAfile), intermediates
// (-untrusted) and leaf, and its first error read back as OpenSSL's X509_V_ERR_* name.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NAME_CONSTRAINT_MESSAGES } from '../../lib/pki/name-constraints.js';

export interface OpensslVerdict {
  ok: boolean;
  /** X509_V_ERR_* name without the prefix (or the raw message when it is not a name-constraint error). */
  error?: string;
  depth?: number;
  out: string;
}

const BY_MESSAGE = new Map(Object.entries(NAME_CONSTRAINT_MESSAGES).map(([name, message]) => [message, name]));

/** Throws (so the test FAILS, never skips) when there is no usable openssl binary. */
export function assertOpenssl(): string {
  let version: string;
  try {
    version = execFileSync('openssl', ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    throw new Error(`these tests compare with "openssl verify", but the openssl binary is not usable: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!/^OpenSSL 3\./.test(version)) throw new Error(`these tests compare with OpenSSL 3's name-constraint checks; found: ${version}`);
  return version;
}

export function opensslVerify(pem: { root: string; intermediates: string[]; leaf: string }): OpensslVerdict {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qtls-nc-'));
  try {
    const file = (name: string, text: string) => {
      const p = path.join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    const args = ['verify', '-CAfile', file('root.pem', pem.root)];
    if (pem.intermediates.length) args.push('-untrusted', file('untrusted.pem', pem.intermediates.join('')));
    args.push(file('leaf.pem', pem.leaf));
    const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 30_000 });
    if (r.error) throw r.error;
    const out = `${r.stdout}${r.stderr}`;
    if (r.status === 0 && /: OK\s*$/.test(r.stdout)) return { ok: true, out };
    const m = /error (\d+) at (\d+) depth lookup: (.+)/.exec(out);
    if (!m) throw new Error(`openssl verify failed without an error line (exit ${r.status}):\n${out}`);
    return { ok: false, error: BY_MESSAGE.get(m[3]!.trim()) ?? m[3]!.trim(), depth: Number(m[2]), out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
