// The KME's ETSI GS QKD 004 semantics over its key store (docs/etsi-004-framing.md lists each status).
//   OPEN_CONNECT, NULL or new KSID: the caller owns a new stream; it is announced to the peer KME and the
//     answer is status 1 "peer not yet connected" AT ONCE — nobody ever waits for the other application.
//     The stream lives QoS TTL seconds (TTL 0: the KME's maximum, limits.maxStreamTtlS; more than that
//     maximum: status 7 with the maximum as counter-proposal).
//   OPEN_CONNECT, KSID announced by the peer KME: the caller joins as the stream's peer; status 0.
//   GET_KEY: chunk `index` (Key_chunk_size bytes). The stream owner's site allocates it (the same
//     reservation protocol as 014, docs/kme.md); each side gets it once; an index is never re-filled.
//   CLOSE: the caller leaves the stream and forfeits its undelivered chunks.
// A stream closed at a site (CLOSE, or its TTL ran out there) is never reopened there; its rows are
// purged once nothing of it is left to deliver (docs/kme.md, "Key stream lifetime and cleanup").
import { randomUUID } from 'node:crypto';
import { saeFromUri } from '../etsi004/app-uri.js';
import { NULL_KSID, type GetKeyRequest, type OpenConnectRequest, type Qos } from '../etsi004/codec.js';
import type { Etsi004Backend } from '../etsi004/server.js';
import { Status004 } from '../etsi004/status.js';
import { PeerUnreachableError } from './peer.js';
import { announcementOf, chunkKeyId, type KmeSite } from './site.js';
import type { StreamRow } from './store.js';

export class KmeBackend004 implements Etsi004Backend {
  constructor(private readonly site: KmeSite) {}

  accepts(caller: string): boolean {
    return this.site.localSaes.has(caller);
  }

  async openConnect(caller: string, req: OpenConnectRequest): Promise<{ status: number; qos: Qos; ksid: string }> {
    const site = this.site;
    const l = site.limits;
    site.expireDue();
    const src = saeFromUri(req.source);
    const dst = saeFromUri(req.destination);
    const no = (status: number, qos: Qos = req.qos): { status: number; qos: Qos; ksid: string } => ({ status, qos, ksid: NULL_KSID });
    if (src !== caller || dst === undefined || !site.peerSaes.has(dst)) return no(Status004.NO_QKD_CONNECTION);
    // §6.1.3 QoS: what this KME can give; anything else gets a counter-proposal (status 7). TTL 0 asks
    // for no particular lifetime: the stream gets the KME's maximum, and the answer says so.
    const chunk = req.qos.keyChunkSize === 0 ? l.defaultChunkBytes : req.qos.keyChunkSize;
    const ttl = req.qos.ttl === 0 ? l.maxStreamTtlS : req.qos.ttl;
    const offer: Qos = {
      ...req.qos,
      keyChunkSize: Math.min(chunk, l.maxChunkBytes),
      ttl: Math.min(ttl, l.maxStreamTtlS),
      metadataMimetype: 'application/json',
    };
    if (chunk > l.maxChunkBytes || ttl > l.maxStreamTtlS || req.qos.metadataMimetype !== 'application/json') return no(Status004.QOS_NOT_MET, offer);
    // The cap on streams one application has open here. Status 4 "no QKD connection available": the KME
    // cannot give this application another key stream now. Not 7: no QoS value would make it fit, and a
    // counter-proposal would invite a pointless retry; not 5: the KSID is not the problem.
    const full = (): boolean => site.store.openStreamCount(caller) >= l.maxOpenStreamsPerApp;

    if (req.ksid !== NULL_KSID) {
      const s = site.store.stream(req.ksid);
      if (s) {
        // Only the peer application may open a known KSID, once: joining the stream its owner announced.
        // Everything else — the owner again, a closed or expired stream (never resurrected), another
        // pair's stream — is "KSID in use".
        const mineAsPeer = s.ownerSite !== site.site && s.peerApp === caller && s.ownerApp === dst;
        if (!mineAsPeer || s.localOpen || s.closed) return no(Status004.KSID_IN_USE);
        const streamQos: Qos = { ...offer, keyChunkSize: s.chunkBytes, ttl: ttlOf(s, l.maxStreamTtlS) };
        if (s.chunkBytes !== chunk) return no(Status004.QOS_NOT_MET, streamQos);
        if (full()) return no(Status004.NO_QKD_CONNECTION);
        site.store.setStreamFlags(s.ksid, { localOpen: true });
        return { status: Status004.SUCCESS, qos: streamQos, ksid: s.ksid };
      }
    }
    if (full()) return no(Status004.NO_QKD_CONNECTION);
    // A new stream owned here. A KSID reused after its stream was purged here is a new stream with new
    // chunks (fresh units); if the peer site still holds the old one, the announcement is refused below.
    const ksid = req.ksid === NULL_KSID ? randomUUID() : req.ksid.toLowerCase();
    const now = site.now();
    const added = site.store.addStream({
      ksid,
      ownerSite: site.site,
      ownerApp: caller,
      peerApp: dst,
      chunkBytes: chunk,
      announced: false,
      localOpen: true,
      qos: JSON.stringify(offer),
      createdMs: now,
      expiresMs: now + offer.ttl * 1000,
      gen: randomUUID(),
    });
    if (!added) return no(Status004.KSID_IN_USE);
    const peer = site.peer;
    const s = site.store.stream(ksid)!;
    try {
      if (!peer) throw new PeerUnreachableError('no peer');
      const r = await peer.announceStream(announcementOf(s, site.now()));
      if (r === 'in-use') {
        site.closeStream(ksid, 'close');
        return no(Status004.KSID_IN_USE);
      }
    } catch {
      site.closeStream(ksid, 'close');
      return no(Status004.NO_QKD_CONNECTION);
    }
    site.store.setStreamFlags(ksid, { announced: true });
    return { status: Status004.PEER_NOT_CONNECTED, qos: offer, ksid };
  }

  async getKey(
    caller: string,
    req: GetKeyRequest,
  ): Promise<{ status: number; index: number; key: Uint8Array; metadataSize: number; metadata: Uint8Array }> {
    const site = this.site;
    const none = new Uint8Array(0);
    const fail = (status: number, metadataSize = 0) => ({ status, index: req.index, key: none, metadataSize, metadata: none });
    site.expireDue();
    const s = site.store.stream(req.ksid);
    const localApp = s && (s.ownerSite === site.site ? s.ownerApp : s.peerApp);
    // Unknown, someone else's, not opened by the caller, closed or expired: status 3, as the code has
    // always answered for a KSID the caller has no open stream under.
    if (!s || localApp !== caller || !s.localOpen || s.closed || !s.announced) return fail(Status004.PEER_APP_NOT_CONNECTED);
    // Metadata (application/json): who delivered the chunk and from what kind of link. No key material.
    const link = site.linkStats;
    const metadata = Buffer.from(
      JSON.stringify({ kme_id: site.kmeId, key_stream_id: s.ksid, index: req.index, ...(link ? { link: link.kind, simulated: link.simulated } : {}) }),
      'utf8',
    );
    const withMeta = req.metadataSize > 0;
    if (withMeta && metadata.length > req.metadataSize) return fail(Status004.METADATA_TOO_SMALL, metadata.length);

    const r = await site.ensureChunk(s.ksid, req.index);
    if (r.status === 'empty') return fail(Status004.INSUFFICIENT_KEY);
    if (r.status === 'consumed') return fail(Status004.INSUFFICIENT_KEY);
    // The stream is closed (or gone) at the owner's site or, for a new chunk, at the peer's: the other
    // application left. Status 3, "peer application is not connected".
    if (r.status === 'unknown-stream') return fail(Status004.PEER_APP_NOT_CONNECTED);
    if (r.status === 'peer-unreachable') return fail(Status004.TIMEOUT);
    // The stream may have been closed (CLOSE on another connection) or have expired while the chunk was
    // being allocated; then the chunk is forfeited, not handed out. No await between this and deliver.
    site.expireDue();
    const after = site.store.stream(s.ksid);
    if (!after || after.closed) return fail(Status004.PEER_APP_NOT_CONNECTED);
    const d = site.store.deliver([chunkKeyId(s.ksid, req.index)], caller, undefined, site.now());
    if (d.status === 'ok') {
      const key = d.keys[0]!.bytes;
      return withMeta
        ? { status: Status004.SUCCESS, index: req.index, key, metadataSize: metadata.length, metadata }
        : { status: Status004.SUCCESS, index: req.index, key, metadataSize: 0, metadata: none };
    }
    // Already delivered to this application (or forfeited): no key left at that index for it.
    if (d.status === 'not-found') return fail(Status004.INSUFFICIENT_KEY);
    if (d.status === 'unauthorized') return fail(Status004.PEER_APP_NOT_CONNECTED);
    return fail(Status004.TIMEOUT);
  }

  async close(caller: string, ksid: string): Promise<{ status: number }> {
    const site = this.site;
    site.expireDue();
    const s = site.store.stream(ksid);
    const localApp = s && (s.ownerSite === site.site ? s.ownerApp : s.peerApp);
    // Only a stream the caller has open: an unknown, expired, already closed or never joined one is 3.
    if (!s || localApp !== caller || !s.localOpen || s.closed) return { status: Status004.PEER_APP_NOT_CONNECTED };
    site.closeStream(ksid, 'close');
    return { status: Status004.SUCCESS };
  }
}

/** The TTL a stream was opened with (from the owner's answered QoS), seconds. */
function ttlOf(s: StreamRow, fallback: number): number {
  try {
    const q = JSON.parse(s.qos) as { ttl?: unknown };
    if (typeof q.ttl === 'number' && Number.isSafeInteger(q.ttl) && q.ttl > 0) return q.ttl;
  } catch {
    /* an older or foreign qos string */
  }
  return fallback;
}
