// PeerApi over HTTPS with mutual TLS, for sites in separate processes. Both KMEs present their KME
// certificates (subject CN = KME ID); each checks the other's KME ID. Routes live next to the 014 API on
// the same listener, under /kme/v1/, and only the configured peer KME may call them.
//   POST /kme/v1/units     {units:[{seq, owner, bytes(base64)}], link?}  -> {}
//   POST /kme/v1/reserve   {txid, bindings:[...], createdMs}             -> {result:'ok'|'aborted'|'closed'}
//   POST /kme/v1/abort     {txid}                                        -> {result}
//   POST /kme/v1/confirm   {txid}                                        -> {}
//   POST /kme/v1/resolve   {txid}                                        -> {result}
//   POST /kme/v1/stream    {ksid, ownerApp, peerApp, chunkBytes, qos, ttlMs?, gen?} -> {result:'ok'|'in-use'}
//   POST /kme/v1/chunk     {ksid, index}                                 -> AllocateAnswer
// 409 = refused (PeerRefusedError), 503 = cannot now (PeerUnreachableError).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KeyDeliveryError } from '../key-delivery.js';
import type { LinkStats } from '../link.js';
import { HttpsClient } from '../etsi014/http1.js';
import { certCommonName, type Pem, type TlsConnect } from '../etsi014/tls-seam.js';
import { decodeBase64Strict, encodeBase64 } from '../etsi014/types.js';
import { identityOf } from './listener.js';
import { PeerRefusedError, PeerUnreachableError, type AllocateAnswer, type PeerApi, type PeerHandlers, type StreamAnnouncement } from './peer.js';
import type { KeyBinding, Site, UnitIn } from './store.js';

export interface HttpsPeerOptions {
  /** The peer KME's base URL, https://host:port */
  url: string;
  /** This site, as the peer knows it */
  from: Site;
  peerKmeId: string;
  cert: Pem;
  key: Pem;
  ca: Pem;
  tlsConnect: TlsConnect;
  timeoutMs?: number;
}

export function httpsPeer(o: HttpsPeerOptions): PeerApi & { close(): void } {
  const http = new HttpsClient(
    {
      url: o.url,
      cert: o.cert,
      key: o.key,
      ca: o.ca,
      tlsConnect: o.tlsConnect,
      verifyServer: (s) => {
        const cn = certCommonName(s.getPeerCertificate(false));
        if (cn !== o.peerKmeId) throw new PeerRefusedError(`peer presented ${String(cn)}, expected ${o.peerKmeId}`);
      },
    },
    { timeoutMs: o.timeoutMs ?? 5000 },
  );
  const call = async (op: string, body: unknown): Promise<Record<string, unknown>> => {
    let res;
    try {
      res = await http.request({ method: 'POST', path: `/kme/v1/${op}`, body: { from: o.from, ...(body as object) } });
    } catch (e) {
      if (e instanceof KeyDeliveryError) throw new PeerUnreachableError(e.message);
      throw e;
    }
    let json: unknown;
    try {
      json = JSON.parse(res.body.toString('utf8'));
    } catch {
      json = undefined;
    }
    const obj = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
    if (res.status === 200) return obj;
    const msg = typeof obj['message'] === 'string' ? obj['message'] : `HTTP ${res.status}`;
    if (res.status === 409) throw new PeerRefusedError(msg);
    throw new PeerUnreachableError(msg);
  };
  const result = <T extends string>(r: Record<string, unknown>, allowed: readonly T[]): T => {
    const v = r['result'];
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new PeerRefusedError('bad peer answer');
    return v as T;
  };
  return {
    storeUnits: async (units: UnitIn[], link?: LinkStats) => {
      await call('units', { units: units.map((u) => ({ seq: u.seq, owner: u.owner, bytes: encodeBase64(u.bytes) })), ...(link ? { link } : {}) });
    },
    reserve: async (txid, bindings, createdMs) => result(await call('reserve', { txid, bindings, createdMs }), ['ok', 'aborted', 'closed'] as const),
    abort: async (txid) => result(await call('abort', { txid }), ['aborted', 'unknown', 'confirmed'] as const),
    confirm: async (txid) => {
      await call('confirm', { txid });
    },
    resolve: async (txid) => result(await call('resolve', { txid }), ['pending', 'confirmed', 'aborted'] as const),
    announceStream: async (a) => result(await call('stream', a), ['ok', 'in-use'] as const),
    allocateChunk: async (ksid, index) => {
      const r = await call('chunk', { ksid, index });
      const status = r['status'];
      if (status === 'ok' && typeof r['txid'] === 'string') return { status: 'ok', txid: r['txid'] };
      if (status === 'empty' || status === 'unknown-stream') return { status } as AllocateAnswer;
      throw new PeerRefusedError('bad peer answer');
    },
    close: () => http.close(),
  };
}

// ---- server side -------------------------------------------------------------------------------

/** The /kme/v1/ routes, for the 014 listener's fallback. */
export function peerRoutes(handlers: PeerHandlers, peerKmeId: string, peerSite: Site) {
  return (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const op = /^\/kme\/v1\/([a-z]+)$/.exec(req.url ?? '')?.[1];
    if (!op || req.method !== 'POST') return send(res, 404, { message: 'not found' });
    if (identityOf(req.socket, 'cn') !== peerKmeId) {
      res.writeHead(401, { 'Content-Length': 0 });
      res.end();
      return;
    }
    let b: Record<string, unknown>;
    try {
      const v = JSON.parse(body.toString('utf8')) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      b = v as Record<string, unknown>;
      if (b['from'] !== peerSite) throw new Error('wrong site');
    } catch {
      return send(res, 400, { message: 'bad request' });
    }
    const from = peerSite;
    dispatch(handlers, from, op, b).then(
      (out) => send(res, 200, out),
      (e: unknown) => {
        const msg = e instanceof Error ? e.message : String(e);
        send(res, e instanceof PeerUnreachableError ? 503 : 409, { message: msg });
      },
    );
  };
}

async function dispatch(h: PeerHandlers, from: Site, op: string, b: Record<string, unknown>): Promise<Record<string, unknown>> {
  const txid = (): string => {
    const t = b['txid'];
    if (typeof t !== 'string' || !/^[0-9a-f-]{36}$/.test(t)) throw new PeerRefusedError('bad txid');
    return t;
  };
  switch (op) {
    case 'units': {
      const units = b['units'];
      if (!Array.isArray(units)) throw new PeerRefusedError('bad units');
      const parsed: UnitIn[] = units.map((u: unknown) => {
        const x = u as Record<string, unknown>;
        const bytes = typeof x['bytes'] === 'string' ? decodeBase64Strict(x['bytes']) : undefined;
        if (!Number.isSafeInteger(x['seq']) || (x['owner'] !== 'A' && x['owner'] !== 'B') || !bytes) throw new PeerRefusedError('bad unit');
        return { seq: x['seq'] as number, owner: x['owner'], bytes };
      });
      const link = b['link'];
      h.onStoreUnits(from, parsed, typeof link === 'object' && link !== null ? (link as LinkStats) : undefined);
      return {};
    }
    case 'reserve': {
      // The coordinator's timestamp is mandatory: without it a delayed copy could not be told from a fresh one.
      const createdMs = b['createdMs'];
      if (!Number.isSafeInteger(createdMs) || (createdMs as number) < 0) throw new PeerRefusedError('bad reservation: no createdMs');
      return { result: h.onReserve(from, txid(), parseBindings(b['bindings']), createdMs as number) };
    }
    case 'abort':
      return { result: h.onAbort(from, txid()) };
    case 'confirm':
      h.onConfirm(from, txid());
      return {};
    case 'resolve':
      return { result: h.onResolve(from, txid()) };
    case 'stream': {
      const a = b as unknown as StreamAnnouncement;
      if (
        typeof a.ksid !== 'string' ||
        typeof a.ownerApp !== 'string' ||
        typeof a.peerApp !== 'string' ||
        !Number.isSafeInteger(a.chunkBytes) ||
        typeof a.qos !== 'string' ||
        (a.ttlMs !== undefined && (!Number.isSafeInteger(a.ttlMs) || a.ttlMs < 0)) ||
        (a.gen !== undefined && typeof a.gen !== 'string')
      ) {
        throw new PeerRefusedError('bad stream');
      }
      const ann: StreamAnnouncement = { ksid: a.ksid, ownerApp: a.ownerApp, peerApp: a.peerApp, chunkBytes: a.chunkBytes, qos: a.qos };
      if (a.ttlMs !== undefined) ann.ttlMs = a.ttlMs;
      if (a.gen !== undefined) ann.gen = a.gen;
      return { result: h.onAnnounceStream(from, ann) };
    }
    case 'chunk': {
      if (typeof b['ksid'] !== 'string' || !Number.isSafeInteger(b['index'])) throw new PeerRefusedError('bad chunk');
      const r = await h.onAllocateChunk(from, b['ksid'], b['index'] as number);
      return { ...r };
    }
    default:
      throw new PeerRefusedError(`unknown operation ${op}`);
  }
}

function parseBindings(v: unknown): KeyBinding[] {
  if (!Array.isArray(v) || v.length === 0) throw new PeerRefusedError('bad bindings');
  return v.map((x: unknown) => {
    const o = x as Record<string, unknown>;
    const ok =
      typeof o['keyId'] === 'string' &&
      typeof o['master'] === 'string' &&
      Array.isArray(o['slaves']) &&
      (o['slaves'] as unknown[]).every((s) => typeof s === 'string') &&
      Number.isSafeInteger(o['sizeBits']) &&
      Array.isArray(o['seqs']) &&
      (o['seqs'] as unknown[]).every((s) => Number.isSafeInteger(s)) &&
      (o['ksid'] === undefined || typeof o['ksid'] === 'string') &&
      (o['index'] === undefined || Number.isSafeInteger(o['index']));
    if (!ok) throw new PeerRefusedError('bad binding');
    const b: KeyBinding = {
      keyId: o['keyId'] as string,
      master: o['master'] as string,
      slaves: o['slaves'] as string[],
      sizeBits: o['sizeBits'] as number,
      seqs: o['seqs'] as number[],
    };
    if (o['ksid'] !== undefined) b.ksid = o['ksid'] as string;
    if (o['index'] !== undefined) b.index = o['index'] as number;
    return b;
  });
}

function send(res: ServerResponse, status: number, v: unknown): void {
  const b = Buffer.from(JSON.stringify(v), 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': b.length });
  res.end(b);
}
