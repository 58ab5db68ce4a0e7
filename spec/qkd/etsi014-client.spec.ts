// The 014 client against a scripted KME that answers whatever each test says, byte for byte: the
// client must accept only answers that follow ETSI GS QKD 014 §6 and HTTP/1.1, bounded in size and time.
import { expect } from 'chai';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { Etsi014Client } from '../../lib/qkd/etsi014/client.js';
import { HttpParseError, ResponseParser } from '../../lib/qkd/etsi014/http1-parser.js';
import { decodeBase64Strict, parseKeyContainer, parseStatus } from '../../lib/qkd/etsi014/types.js';
import { KeyDeliveryError } from '../../lib/qkd/key-delivery.js';
import { createPki, type PkiFiles } from '../../lib/qkd/kme/pki.js';
import { tempDir } from './helpers.js';

const ID1 = '6e7f4c1a-9b2d-4c3e-8f10-1a2b3c4d5e6f';
const KEY32 = Buffer.alloc(32, 7).toString('base64');

function http(status: number, body: string, headers: Record<string, string> = {}): string {
  const h = { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), ...headers };
  return `HTTP/1.1 ${status} X\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`;
}

describe('ETSI 014 client: answers are validated', function () {
  let tmp: ReturnType<typeof tempDir>;
  let pki: PkiFiles;
  let server: tls.Server;
  let port: number;
  let reply: (request: string) => string | Buffer | undefined = () => undefined;
  let lastRequest = '';

  before(async function () {
    tmp = tempDir('014-client');
    pki = createPki(tmp.dir, { kmes: [{ id: 'kme-x', hosts: ['127.0.0.1'] }], saes: ['sae-a'] });
    server = tls.createServer(
      { cert: readFileSync(pki.kme['kme-x']!.cert), key: readFileSync(pki.kme['kme-x']!.key), ca: readFileSync(pki.ca), requestCert: true, rejectUnauthorized: true },
      (s) => {
        let buf = '';
        s.on('error', () => {});
        s.on('data', (d: Buffer) => {
          buf += d.toString('latin1');
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
          if (buf.length < end + 4 + len) return;
          lastRequest = buf;
          buf = '';
          const r = reply(lastRequest);
          if (r !== undefined) s.end(r);
        });
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });

  after(async function () {
    await new Promise((r) => server.close(r));
    tmp.remove();
  });

  function client(timeoutMs = 5000): Etsi014Client {
    return new Etsi014Client({
      url: `https://127.0.0.1:${port}`,
      cert: readFileSync(pki.sae['sae-a']!.cert),
      key: readFileSync(pki.sae['sae-a']!.key),
      ca: readFileSync(pki.ca),
      timeoutMs,
      idleMs: 0,
    });
  }

  async function failure(answer: string | Buffer | undefined, call: (c: Etsi014Client) => Promise<unknown>, timeoutMs?: number): Promise<KeyDeliveryError> {
    reply = () => answer;
    const c = client(timeoutMs);
    try {
      await call(c);
    } catch (e) {
      expect(e).to.be.instanceOf(KeyDeliveryError);
      return e as KeyDeliveryError;
    } finally {
      c.close();
    }
    throw new Error('expected a failure');
  }

  const getKey = (c: Etsi014Client) => c.getKey('sae-b', { number: 1, size: 256 });

  it('sends the §5.3 request: POST to /api/v1/keys/{slave}/enc_keys with a JSON key request', async function () {
    reply = () => http(200, JSON.stringify({ keys: [{ key_ID: ID1, key: KEY32 }] }));
    const c = client();
    const r = await c.getKey('sae b/x', { number: 1, size: 256, additional_slave_SAE_IDs: ['sae-c'] });
    c.close();
    expect(r.keys[0]!.keyId).to.equal(ID1);
    expect(lastRequest).to.match(/^POST \/api\/v1\/keys\/sae%20b%2Fx\/enc_keys HTTP\/1\.1\r\n/);
    expect(lastRequest).to.include('Content-Type: application/json');
    expect(JSON.parse(lastRequest.slice(lastRequest.indexOf('\r\n\r\n') + 4))).to.deep.equal({ number: 1, size: 256, additional_slave_SAE_IDs: ['sae-c'] });
  });

  it('accepts a chunked answer', async function () {
    const body = JSON.stringify({ keys: [{ key_ID: ID1, key: KEY32 }] });
    reply = () => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n${body.slice(0, 5)}\r\n${(body.length - 5).toString(16)};x=y\r\n${body.slice(5)}\r\n0\r\n\r\n`;
    const c = client();
    expect((await getKey(c)).keys).to.have.length(1);
    c.close();
  });

  const bad: [string, string][] = [
    ['a key_ID that is not a UUID', JSON.stringify({ keys: [{ key_ID: 'key-1', key: KEY32 }] })],
    ['a key of the wrong size', JSON.stringify({ keys: [{ key_ID: ID1, key: Buffer.alloc(16).toString('base64') }] })],
    ['non-canonical base64', JSON.stringify({ keys: [{ key_ID: ID1, key: KEY32.replace(/=$/, '') }] })],
    ['too many keys', JSON.stringify({ keys: [{ key_ID: ID1, key: KEY32 }, { key_ID: ID1.replace('6e', '7e'), key: KEY32 }] })],
    ['no keys array', JSON.stringify({ key: KEY32 })],
    ['not JSON', 'keys: yes'],
  ];
  for (const [what, body] of bad) {
    it(`refuses ${what} (bad-response)`, async function () {
      const e = await failure(http(200, body), getKey);
      expect(e.kind).to.equal('bad-response');
      expect(e.status).to.equal(200);
    });
  }

  it('dec_keys answers must carry exactly the requested key_IDs', async function () {
    const other = ID1.replace('6e', '7e');
    const e = await failure(http(200, JSON.stringify({ keys: [{ key_ID: other, key: KEY32 }] })), (c) => c.getKeyWithKeyIds('sae-b', [ID1]));
    expect(e.kind).to.equal('bad-response');
  });

  it('400 carries the KME message and details; 401 has no body; 503 is "empty"', async function () {
    const e400 = await failure(http(400, JSON.stringify({ message: 'size shall be a multiple of 8', details: [{ size: 7 }] })), getKey);
    expect(e400).to.include({ status: 400, kind: 'refused', reason: 'size shall be a multiple of 8', kme: `https://127.0.0.1:${port}` });
    expect(e400.details).to.deep.equal([{ size: 7 }]);
    const e401 = await failure('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n', getKey);
    expect(e401).to.include({ status: 401, kind: 'unauthorized' });
    const e503 = await failure(http(503, JSON.stringify({ message: 'keys are exhausted' })), getKey);
    expect(e503).to.include({ status: 503, kind: 'empty', reason: 'keys are exhausted' });
    const eNf = await failure(http(400, JSON.stringify({ message: 'one or more keys specified are not found on KME' })), (c) => c.getKeyWithKeyIds('sae-b', [ID1]));
    expect(eNf.kind).to.equal('not-found');
  });

  it('refuses ambiguous or oversized framing', async function () {
    const both = await failure('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', getKey);
    expect(both.kind).to.equal('bad-response');
    const huge = await failure('HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n', getKey);
    expect(huge.kind).to.equal('bad-response');
    const truncated = await failure('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"keys":', getKey);
    expect(truncated.kind).to.equal('bad-response');
    const garbage = await failure(Buffer.from([0x16, 0x03, 0x01, 0, 1, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]), getKey);
    expect(garbage.kind).to.equal('bad-response');
  });

  it('a silent KME is a timeout', async function () {
    const e = await failure(undefined, getKey, 300);
    expect(e.kind).to.equal('timeout');
  });

  it('a closed connection without an answer is unreachable', async function () {
    const e = await failure('', getKey);
    expect(e.kind).to.equal('unreachable');
  });
});

describe('ETSI 014 data formats and HTTP parsing (units)', function () {
  it('parseStatus wants every §6.1 field as the right type', function () {
    const ok = { source_KME_ID: 'a', target_KME_ID: 'b', master_SAE_ID: 'm', slave_SAE_ID: 's', key_size: 256, stored_key_count: 1, max_key_count: 2, max_key_per_request: 3, max_key_size: 1024, min_key_size: 64, max_SAE_ID_count: 0 };
    expect(parseStatus(ok).key_size).to.equal(256);
    expect(() => parseStatus({ ...ok, key_size: '256' })).to.throw(/key_size/);
    expect(() => parseStatus({ ...ok, source_KME_ID: undefined })).to.throw(/source_KME_ID/);
  });

  it('decodeBase64Strict refuses padding-less, whitespace and non-zero pad bits', function () {
    expect(decodeBase64Strict('AAEC')).to.deep.equal(Uint8Array.from([0, 1, 2]));
    expect(decodeBase64Strict('AAE=')).to.deep.equal(Uint8Array.from([0, 1]));
    expect(decodeBase64Strict('AAE')).to.equal(undefined);
    expect(decodeBase64Strict('AA E=')).to.equal(undefined);
    expect(decodeBase64Strict('AAF=')).to.equal(undefined);
  });

  it('parseKeyContainer refuses repeated key_IDs', function () {
    expect(() => parseKeyContainer({ keys: [{ key_ID: ID1, key: KEY32 }, { key_ID: ID1.toUpperCase(), key: KEY32 }] })).to.throw(/repeated/);
  });

  it('ResponseParser: byte-by-byte feeding, interim 100, obs-fold and bad chunk sizes', function () {
    const p = new ResponseParser({ maxHeaderBytes: 1024, maxBodyBytes: 1024 }, 'GET');
    const wire = Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc');
    let res;
    for (const b of wire) res = p.feed(Buffer.from([b])) ?? res;
    expect(res!.status).to.equal(200);
    expect(res!.body.toString()).to.equal('abc');
    const fold = new ResponseParser({ maxHeaderBytes: 1024, maxBodyBytes: 1024 }, 'GET');
    expect(() => fold.feed(Buffer.from('HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n'))).to.throw(HttpParseError);
    const chunk = new ResponseParser({ maxHeaderBytes: 1024, maxBodyBytes: 1024 }, 'GET');
    expect(() => chunk.feed(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'))).to.throw(HttpParseError);
    const big = new ResponseParser({ maxHeaderBytes: 64, maxBodyBytes: 1024 }, 'GET');
    expect(() => big.feed(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(100)}`))).to.throw(/too large/);
  });
});
