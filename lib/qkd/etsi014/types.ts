// ETSI GS QKD 014 V1.1.1 §6 data formats, with validation for both sides (client: KME answers; KME:
// requests). Validators take `unknown` (parsed JSON) and throw Etsi014FormatError naming the field.

/** §6.1 Status data format (all sizes in bits). */
export interface Status {
  source_KME_ID: string;
  target_KME_ID: string;
  master_SAE_ID: string;
  slave_SAE_ID: string;
  key_size: number;
  stored_key_count: number;
  max_key_count: number;
  max_key_per_request: number;
  max_key_size: number;
  min_key_size: number;
  max_SAE_ID_count: number;
  status_extension?: unknown;
}

/** §6.2 Key request format (POST enc_keys body); every field optional. */
export interface KeyRequest {
  number?: number;
  size?: number;
  additional_slave_SAE_IDs?: string[];
  extension_mandatory?: Record<string, unknown>[];
  extension_optional?: Record<string, unknown>[];
}

/** §6.3 Key container, one entry. */
export interface KeyEntry {
  key_ID: string;
  key_ID_extension?: unknown;
  /** base64 (RFC 4648 §4) */
  key: string;
  key_extension?: unknown;
}

/** §6.3 Key container. */
export interface KeyContainer {
  keys: KeyEntry[];
  key_container_extension?: unknown;
}

/** §6.4 Key IDs (POST dec_keys body). */
export interface KeyIds {
  key_IDs: { key_ID: string; key_ID_extension?: unknown }[];
  key_IDs_extension?: unknown;
}

/** §6.5 Error format (400 and 503 bodies). */
export interface ErrorBody {
  message: string;
  details?: Record<string, unknown>[];
}

/** A key from a validated key container, decoded. `key` is secret. */
export interface DecodedKey {
  keyId: string;
  key: Uint8Array;
  keyIdExtension?: unknown;
  keyExtension?: unknown;
}

export class Etsi014FormatError extends Error {
  override readonly name = 'Etsi014FormatError';
}

/** RFC 4122 textual UUID (any version; the KME simulator issues version 4). */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Canonical base64 only (RFC 4648 §4, padding required, no whitespace, zero pad bits). */
export function decodeBase64Strict(s: string): Uint8Array | undefined {
  if (!B64_RE.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) return undefined;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function encodeBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(msg: string): never {
  throw new Etsi014FormatError(msg);
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length === 0) fail(`${k} must be a non-empty string`);
  return v;
}

function uint(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${k} must be a non-negative integer`);
  return v;
}

function objArray(v: unknown, k: string): Record<string, unknown>[] {
  if (!Array.isArray(v) || !v.every(isObject)) fail(`${k} must be an array of objects`);
  return v;
}

/** §6.1: a status answer. */
export function parseStatus(v: unknown): Status {
  if (!isObject(v)) fail('status must be a JSON object');
  const s: Status = {
    source_KME_ID: str(v, 'source_KME_ID'),
    target_KME_ID: str(v, 'target_KME_ID'),
    master_SAE_ID: str(v, 'master_SAE_ID'),
    slave_SAE_ID: str(v, 'slave_SAE_ID'),
    key_size: uint(v, 'key_size'),
    stored_key_count: uint(v, 'stored_key_count'),
    max_key_count: uint(v, 'max_key_count'),
    max_key_per_request: uint(v, 'max_key_per_request'),
    max_key_size: uint(v, 'max_key_size'),
    min_key_size: uint(v, 'min_key_size'),
    max_SAE_ID_count: uint(v, 'max_SAE_ID_count'),
  };
  if (v['status_extension'] !== undefined) s.status_extension = v['status_extension'];
  if (s.min_key_size > s.max_key_size) fail('min_key_size exceeds max_key_size');
  return s;
}

const KEY_REQUEST_FIELDS = new Set(['number', 'size', 'additional_slave_SAE_IDs', 'extension_mandatory', 'extension_optional']);

/** §6.2: a key request's shape (limits such as max_key_per_request are the KME's to check). */
export function parseKeyRequest(v: unknown): KeyRequest {
  if (!isObject(v)) fail('key request must be a JSON object');
  for (const k of Object.keys(v)) if (!KEY_REQUEST_FIELDS.has(k)) fail(`unknown field ${k} in key request`);
  const r: KeyRequest = {};
  if (v['number'] !== undefined) {
    const n = v['number'];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) fail('number must be a positive integer');
    r.number = n;
  }
  if (v['size'] !== undefined) {
    const n = v['size'];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) fail('size must be a positive integer');
    r.size = n;
  }
  if (v['additional_slave_SAE_IDs'] !== undefined) {
    const a = v['additional_slave_SAE_IDs'];
    if (!Array.isArray(a) || !a.every((x) => typeof x === 'string' && x.length > 0)) {
      fail('additional_slave_SAE_IDs must be an array of SAE IDs');
    }
    r.additional_slave_SAE_IDs = a as string[];
  }
  if (v['extension_mandatory'] !== undefined) r.extension_mandatory = objArray(v['extension_mandatory'], 'extension_mandatory');
  if (v['extension_optional'] !== undefined) r.extension_optional = objArray(v['extension_optional'], 'extension_optional');
  return r;
}

/** §6.4: a dec_keys body. */
export function parseKeyIds(v: unknown): KeyIds {
  if (!isObject(v)) fail('key IDs must be a JSON object');
  const ids = v['key_IDs'];
  if (!Array.isArray(ids) || ids.length === 0) fail('key_IDs must be a non-empty array');
  const out: KeyIds = { key_IDs: [] };
  for (const e of ids) {
    if (!isObject(e)) fail('key_IDs entries must be objects');
    const id = str(e, 'key_ID');
    out.key_IDs.push(e['key_ID_extension'] === undefined ? { key_ID: id } : { key_ID: id, key_ID_extension: e['key_ID_extension'] });
  }
  if (v['key_IDs_extension'] !== undefined) out.key_IDs_extension = v['key_IDs_extension'];
  return out;
}

export interface KeyContainerExpectation {
  /** exact number of keys */
  number?: number;
  /** exact key length in bits */
  sizeBits?: number;
  /** the keys must carry exactly these IDs, in this order (dec_keys) */
  keyIds?: string[];
}

/** §6.3: a key container, checked against what was asked for; keys decoded. */
export function parseKeyContainer(v: unknown, expect: KeyContainerExpectation = {}): { keys: DecodedKey[]; extension?: unknown } {
  if (!isObject(v)) fail('key container must be a JSON object');
  const keys = v['keys'];
  if (!Array.isArray(keys)) fail('keys must be an array');
  if (expect.number !== undefined && keys.length !== expect.number) fail(`expected ${expect.number} keys, got ${keys.length}`);
  if (expect.keyIds !== undefined && keys.length !== expect.keyIds.length) fail(`expected ${expect.keyIds.length} keys, got ${keys.length}`);
  const seen = new Set<string>();
  const out: DecodedKey[] = [];
  keys.forEach((e, i) => {
    if (!isObject(e)) fail(`keys[${i}] must be an object`);
    const id = str(e, 'key_ID');
    if (!UUID_RE.test(id)) fail(`keys[${i}].key_ID is not a UUID`);
    if (seen.has(id.toLowerCase())) fail(`keys[${i}].key_ID is repeated`);
    seen.add(id.toLowerCase());
    if (expect.keyIds !== undefined && expect.keyIds[i]!.toLowerCase() !== id.toLowerCase()) fail(`keys[${i}].key_ID is not the one requested`);
    const b64 = e['key'];
    if (typeof b64 !== 'string') fail(`keys[${i}].key must be a base64 string`);
    const key = decodeBase64Strict(b64);
    if (!key || key.length === 0) fail(`keys[${i}].key is not canonical base64`);
    if (expect.sizeBits !== undefined && key.length * 8 !== expect.sizeBits) {
      fail(`keys[${i}].key has ${key.length * 8} bits, expected ${expect.sizeBits}`);
    }
    const d: DecodedKey = { keyId: id, key };
    if (e['key_ID_extension'] !== undefined) d.keyIdExtension = e['key_ID_extension'];
    if (e['key_extension'] !== undefined) d.keyExtension = e['key_extension'];
    out.push(d);
  });
  return v['key_container_extension'] === undefined ? { keys: out } : { keys: out, extension: v['key_container_extension'] };
}

/** §6.5: an error body, if the value is one. */
export function parseErrorBody(v: unknown): ErrorBody | undefined {
  if (!isObject(v) || typeof v['message'] !== 'string') return undefined;
  const details = v['details'];
  if (Array.isArray(details) && details.every(isObject)) return { message: v['message'], details };
  return { message: v['message'] };
}
