// The KME's ETSI GS QKD 004 semantics over its key store (docs/etsi-004-framing.md lists each status).
//   OPEN_CONNECT, NULL or new KSID: the caller owns a new stream; it is announced to the peer KME and the
//     answer is status 1 "peer not yet connected" AT ONCE — nobody ever waits for the other application.
//   OPEN_CONNECT, KSID announced by the peer KME: the caller joins as the stream's peer; status 0.
//   GET_KEY: chunk `index` (Key_chunk_size bytes). The stream owner's site allocates it (the same
//     reservation protocol as 014, docs/kme.md); each side gets it once; an index is never re-filled.
//   CLOSE: the caller leaves the stream and forfeits its undelivered chunks.
import { randomUUID } from 'node:crypto';
import { saeFromUri } from '../etsi004/app-uri.js';
import { NULL_KSID, type GetKeyRequest, type OpenConnectRequest, type Qos } from '../etsi004/codec.js';
import type { Etsi004Backend } from '../etsi004/server.js';
import { Status004 } from '../etsi004/status.js';
import { PeerUnreachableError } from './peer.js';
import { chunkKeyId, type KmeSite } from './site.js';

export class KmeBackend004 implements Etsi004Backend {
  constructor(private readonly site: KmeSite) {}

  accepts(caller: string): boolean {
    return this.site.localSaes.has(caller);
  }

  async openConnect(caller: string, req: OpenConnectRequest): Promise<{ status: number; qos: Qos; ksid: string }> {
    const site = this.site;
    const l = site.limits;
    const src = saeFromUri(req.source);
    const dst = saeFromUri(req.destination);
    const no = (status: number, qos: Qos = req.qos): { status: number; qos: Qos; ksid: string } => ({ status, qos, ksid: NULL_KSID });
    if (src !== caller || dst === undefined || !site.peerSaes.has(dst)) return no(Status004.NO_QKD_CONNECTION);
    // §6.1.3 QoS: what this KME can give; anything else gets a counter-proposal (status 7).
    const chunk = req.qos.keyChunkSize === 0 ? l.defaultChunkBytes : req.qos.keyChunkSize;
    const offer: Qos = { ...req.qos, keyChunkSize: Math.min(chunk, l.maxChunkBytes), metadataMimetype: 'application/json' };
    if (chunk > l.maxChunkBytes || req.qos.metadataMimetype !== 'application/json') return no(Status004.QOS_NOT_MET, offer);

    if (req.ksid !== NULL_KSID) {
      const s = site.store.stream(req.ksid);
      if (s) {
        const mineAsOwner = s.ownerSite === site.site && s.ownerApp === caller && s.peerApp === dst;
        const mineAsPeer = s.ownerSite !== site.site && s.peerApp === caller && s.ownerApp === dst;
        if ((!mineAsOwner && !mineAsPeer) || s.localOpen || (mineAsOwner && !s.announced)) return no(Status004.KSID_IN_USE);
        if (s.chunkBytes !== chunk) return no(Status004.QOS_NOT_MET, { ...offer, keyChunkSize: s.chunkBytes });
        site.store.setStreamFlags(s.ksid, { localOpen: true });
        return { status: mineAsPeer ? Status004.SUCCESS : Status004.PEER_NOT_CONNECTED, qos: offer, ksid: s.ksid };
      }
    }
    // A new stream owned here.
    const ksid = req.ksid === NULL_KSID ? randomUUID() : req.ksid.toLowerCase();
    const qosJson = JSON.stringify(offer);
    const added = site.store.addStream({
      ksid,
      ownerSite: site.site,
      ownerApp: caller,
      peerApp: dst,
      chunkBytes: chunk,
      announced: false,
      localOpen: true,
      qos: qosJson,
      createdMs: Date.now(),
    });
    if (!added) return no(Status004.KSID_IN_USE);
    const peer = site.peer;
    try {
      if (!peer) throw new PeerUnreachableError('no peer');
      const r = await peer.announceStream({ ksid, ownerApp: caller, peerApp: dst, chunkBytes: chunk, qos: qosJson });
      if (r === 'in-use') {
        site.store.deleteStream(ksid);
        return no(Status004.KSID_IN_USE);
      }
    } catch {
      site.store.deleteStream(ksid);
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
    const s = site.store.stream(req.ksid);
    const localApp = s && (s.ownerSite === site.site ? s.ownerApp : s.peerApp);
    if (!s || localApp !== caller || !s.localOpen || !s.announced) return fail(Status004.PEER_APP_NOT_CONNECTED);
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
    if (r.status === 'unknown-stream') return fail(Status004.PEER_APP_NOT_CONNECTED);
    if (r.status === 'peer-unreachable') return fail(Status004.TIMEOUT);
    const d = site.store.deliver([chunkKeyId(s.ksid, req.index)], caller, undefined);
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
    const s = this.site.store.stream(ksid);
    const localApp = s && (s.ownerSite === this.site.site ? s.ownerApp : s.peerApp);
    if (!s || localApp !== caller) return { status: Status004.PEER_APP_NOT_CONNECTED };
    this.site.store.setStreamFlags(ksid, { localOpen: false });
    this.site.store.forfeitStream(ksid, caller);
    return { status: Status004.SUCCESS };
  }
}
