// The KME's ETSI GS QKD 014 V1.1.1 endpoints (§5.1 API summary):
//   GET       /api/v1/keys/{slave_SAE_ID}/status     §5.2
//   POST|GET  /api/v1/keys/{slave_SAE_ID}/enc_keys   §5.3
//   POST|GET  /api/v1/keys/{master_SAE_ID}/dec_keys  §5.4
// The caller's SAE ID is its client certificate's (§4.3); an SAE not attached to this KME gets 401.
// Errors follow §6.5 (400/503 carry {"message", "details"}; 401 carries no body).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KEYS_NOT_FOUND } from '../etsi014/client.js';
import { encodeBase64, Etsi014FormatError, parseKeyIds, parseKeyRequest, UUID_RE, type KeyRequest, type Status } from '../etsi014/types.js';
import { identityOf, type IdentitySource } from './listener.js';
import type { KmeSite } from './site.js';
import type { DeliveredBytes } from './store.js';

const MAX_BODY = 64 * 1024;
const ROUTE = /^\/api\/v1\/keys\/([^/]+)\/(status|enc_keys|dec_keys)$/;

export interface Api014Options {
  site: KmeSite;
  identity: IdentitySource;
  /** Called for paths outside /api/v1/keys (the KME-to-KME routes); default 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;
}

export function api014Handler(o: Api014Options): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    readBody(req)
      .then((body) => route(o, req, res, body))
      .catch((e: unknown) => {
        if (e instanceof BodyTooLarge) return sendJson(res, 400, { message: 'request body too large' });
        if (!res.headersSent) sendJson(res, 503, { message: 'KME unavailable', details: [{ kme_error: 'internal' }] });
        else res.destroy();
      });
  };
}

async function route(o: Api014Options, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://kme.invalid');
  const m = ROUTE.exec(url.pathname);
  if (!m) {
    if (o.fallback) return o.fallback(req, res, body);
    return sendJson(res, 404, { message: 'not found' });
  }
  const site = o.site;
  let saeInPath: string;
  try {
    saeInPath = decodeURIComponent(m[1]!);
  } catch {
    return sendJson(res, 400, { message: 'bad SAE ID in path' });
  }
  const op = m[2]!;
  const method = req.method ?? '';
  const allowed = op === 'status' ? ['GET'] : ['GET', 'POST'];
  if (!allowed.includes(method)) {
    res.setHeader('Allow', allowed.join(', '));
    return sendJson(res, 405, { message: 'method not allowed' });
  }
  // §4.3 / §5: only SAEs attached to this KME, identified by their certificate.
  const caller = identityOf(req.socket, o.identity);
  if (caller === undefined || !site.localSaes.has(caller)) return sendUnauthorized(res);

  if (op === 'status') {
    if (url.search) return sendJson(res, 400, { message: 'status takes no parameters' });
    if (!site.peerSaes.has(saeInPath)) return sendJson(res, 400, { message: 'slave_SAE_ID is not known to KME' });
    return sendJson(res, 200, statusOf(site, caller, saeInPath));
  }
  if (op === 'enc_keys') return encKeys(site, caller, saeInPath, method, url, body, res);
  return decKeys(site, caller, saeInPath, method, url, body, res);
}

/** §6.1 Status, with real pool counts. */
export function statusOf(site: KmeSite, master: string, slave: string): Status {
  const l = site.limits;
  const s: Status = {
    source_KME_ID: site.kmeId,
    target_KME_ID: site.peerKmeId,
    master_SAE_ID: master,
    slave_SAE_ID: slave,
    key_size: l.keySize,
    stored_key_count: site.storedKeyCount(),
    max_key_count: l.maxKeyCount,
    max_key_per_request: l.maxKeyPerRequest,
    max_key_size: l.maxKeySize,
    min_key_size: l.minKeySize,
    max_SAE_ID_count: l.maxSaeIdCount,
  };
  // key_lifetime_s: how long this KME keeps a key for the SAEs attached here that have not fetched it
  // (limits.maxKeyAgeS; not an ETSI field). qkd_link: every figure the link reports (BB84: raw, sifted,
  // QBER, f, final bits, secret key rate ...).
  s.status_extension = { key_lifetime_s: l.maxKeyAgeS, ...(site.linkStats ? { qkd_link: { ...site.linkStats } } : {}) };
  return s;
}

async function encKeys(
  site: KmeSite,
  master: string,
  slave: string,
  method: string,
  url: URL,
  body: Buffer,
  res: ServerResponse,
): Promise<void> {
  let req: KeyRequest;
  try {
    req = method === 'GET' ? keyRequestFromQuery(url) : keyRequestFromBody(url, body);
  } catch (e) {
    if (e instanceof Etsi014FormatError) return sendJson(res, 400, { message: e.message });
    throw e;
  }
  const l = site.limits;
  if (!site.peerSaes.has(slave)) return sendJson(res, 400, { message: 'slave_SAE_ID is not known to KME' });
  const number = req.number ?? 1;
  const size = req.size ?? l.keySize;
  if (number > l.maxKeyPerRequest) {
    return sendJson(res, 400, { message: 'number shall not exceed max_key_per_request', details: [{ max_key_per_request: l.maxKeyPerRequest }] });
  }
  // §6.2 size: "shall be a multiple of 8" (error example in §6.5 / Annex B).
  if (size % 8 !== 0) return sendJson(res, 400, { message: 'size shall be a multiple of 8' });
  if (size < l.minKeySize || size > l.maxKeySize) {
    return sendJson(res, 400, {
      message: 'size shall be between min_key_size and max_key_size',
      details: [{ min_key_size: l.minKeySize, max_key_size: l.maxKeySize }],
    });
  }
  const extra = req.additional_slave_SAE_IDs ?? [];
  if (extra.length > l.maxSaeIdCount) {
    return sendJson(res, 400, { message: 'additional_slave_SAE_IDs exceeds max_SAE_ID_count', details: [{ max_SAE_ID_count: l.maxSaeIdCount }] });
  }
  const slaves = [slave, ...extra];
  if (new Set(slaves).size !== slaves.length) return sendJson(res, 400, { message: 'additional_slave_SAE_IDs repeats an SAE ID' });
  const unknown = extra.filter((s) => !site.peerSaes.has(s));
  if (unknown.length > 0) {
    return sendJson(res, 400, { message: 'additional_slave_SAE_IDs names an SAE not known to KME', details: [{ unknown_SAE_IDs: unknown }] });
  }
  // §6.2 extension_mandatory: this KME supports no extension, so any is refused.
  const mandatory = req.extension_mandatory ?? [];
  if (mandatory.length > 0) {
    return sendJson(res, 400, {
      message: 'not all extension_mandatory parameters are supported',
      details: [{ extension_mandatory_unsupported: mandatory.flatMap((e) => Object.keys(e)) }],
    });
  }
  const r = await site.encKeys(master, slaves, number, size);
  if (r.status === 'ok') return sendKeys(res, r.keys);
  if (r.status === 'empty') {
    return sendJson(res, 503, {
      message: 'keys are exhausted: not enough key material on KME',
      details: [{ kme_error: 'insufficient_key', stored_key_count: r.stored, key_units_needed: r.needed }],
    });
  }
  return sendJson(res, 503, { message: 'peer KME is unreachable', details: [{ kme_error: 'peer_unreachable', reason: r.reason }] });
}

async function decKeys(
  site: KmeSite,
  slave: string,
  master: string,
  method: string,
  url: URL,
  body: Buffer,
  res: ServerResponse,
): Promise<void> {
  let ids: string[];
  try {
    if (method === 'GET') {
      const keys = [...url.searchParams.keys()];
      if (keys.length !== 1 || keys[0] !== 'key_ID') throw new Etsi014FormatError('GET dec_keys takes exactly one key_ID parameter');
      ids = [url.searchParams.get('key_ID')!];
    } else {
      if (url.search) throw new Etsi014FormatError('POST dec_keys takes no query parameters');
      ids = parseKeyIds(parseJsonBody(body)).key_IDs.map((k) => k.key_ID);
    }
  } catch (e) {
    if (e instanceof Etsi014FormatError) return sendJson(res, 400, { message: e.message });
    throw e;
  }
  if (ids.length > site.limits.maxKeyPerRequest) {
    return sendJson(res, 400, { message: 'number of key_IDs shall not exceed max_key_per_request' });
  }
  if (!site.peerSaes.has(master) || !ids.every((id) => UUID_RE.test(id))) return sendJson(res, 400, { message: KEYS_NOT_FOUND });
  const r = await site.decKeys(slave, master, ids.map((id) => id.toLowerCase()));
  switch (r.status) {
    case 'ok':
      return sendKeys(res, r.keys);
    case 'not-found':
      return sendJson(res, 400, { message: KEYS_NOT_FOUND });
    case 'unauthorized':
      return sendUnauthorized(res);
    case 'peer-unreachable':
      return sendJson(res, 503, { message: 'peer KME is unreachable', details: [{ kme_error: 'peer_unreachable', reason: r.reason }] });
  }
}

function keyRequestFromQuery(url: URL): KeyRequest {
  const r: KeyRequest = {};
  for (const [k, v] of url.searchParams) {
    if (k !== 'number' && k !== 'size') throw new Etsi014FormatError(`unknown parameter ${k}; GET enc_keys takes number and size`);
    if (url.searchParams.getAll(k).length !== 1) throw new Etsi014FormatError(`parameter ${k} repeated`);
    if (!/^[1-9]\d{0,8}$/.test(v)) throw new Etsi014FormatError(`${k} must be a positive integer`);
    r[k] = Number(v);
  }
  return r;
}

function keyRequestFromBody(url: URL, body: Buffer): KeyRequest {
  if (url.search) throw new Etsi014FormatError('POST enc_keys takes no query parameters');
  if (body.length === 0) return {};
  return parseKeyRequest(parseJsonBody(body));
}

function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new Etsi014FormatError('request body is not valid JSON');
  }
}

/** §6.3 Key container. */
function sendKeys(res: ServerResponse, keys: DeliveredBytes[]): void {
  const container = { keys: keys.map((k) => ({ key_ID: k.keyId, key: encodeBase64(k.bytes) })) };
  for (const k of keys) k.bytes.fill(0);
  sendJson(res, 200, container);
}

function sendJson(res: ServerResponse, status: number, v: unknown): void {
  const b = Buffer.from(JSON.stringify(v), 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': b.length, 'Cache-Control': 'no-store' });
  res.end(b);
}

function sendUnauthorized(res: ServerResponse): void {
  res.writeHead(401, { 'Content-Length': 0 });
  res.end();
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
      if (n > MAX_BODY) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}
