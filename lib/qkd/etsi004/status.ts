// ETSI GS QKD 004 V2.1.1 §6 status codes (returned by OPEN_CONNECT, GET_KEY and CLOSE), their names,
// and how a failing status maps to a KeyDeliveryError kind.
import { KeyDeliveryError, type KeyDeliveryErrorKind } from '../key-delivery.js';

export const Status004 = {
  SUCCESS: 0,
  /** OPEN_CONNECT succeeded; the peer application is not connected yet. */
  PEER_NOT_CONNECTED: 1,
  /** GET_KEY failed: insufficient key available. */
  INSUFFICIENT_KEY: 2,
  /** GET_KEY failed: peer application is not connected (qtls: stream not open for this application). */
  PEER_APP_NOT_CONNECTED: 3,
  /** No QKD connection available. */
  NO_QKD_CONNECTION: 4,
  /** OPEN_CONNECT failed: the KSID is already in use. */
  KSID_IN_USE: 5,
  /** The call failed because the specified TIMEOUT passed. */
  TIMEOUT: 6,
  /** OPEN_CONNECT failed: QoS could not be met; counter-proposal returned. */
  QOS_NOT_MET: 7,
  /** GET_KEY failed: metadata buffer too small; the needed size is returned. */
  METADATA_TOO_SMALL: 8,
} as const;

export type Status004Code = (typeof Status004)[keyof typeof Status004];

const NAMES: Record<number, string> = {
  0: 'successful',
  1: 'successful connection, but peer not connected',
  2: 'GET_KEY failed because insufficient key available',
  3: 'GET_KEY failed because peer application is not connected',
  4: 'no QKD connection available',
  5: 'OPEN_CONNECT failed because the KSID is already in use',
  6: 'the call failed because of a timeout',
  7: 'OPEN_CONNECT failed because requested QoS settings could not be met (counter proposal returned)',
  8: 'GET_KEY failed because metadata buffer is too small (needed size returned)',
};

export function statusName(code: number): string {
  return NAMES[code] ?? `unknown status ${code}`;
}

export function isKnownStatus(code: number): code is Status004Code {
  return Number.isInteger(code) && code >= 0 && code <= 8;
}

const KINDS: Record<number, KeyDeliveryErrorKind> = {
  1: 'refused',
  2: 'empty',
  3: 'not-found',
  4: 'unreachable',
  5: 'refused',
  6: 'timeout',
  7: 'refused',
  8: 'refused',
};

/** A KeyDeliveryError for a failing 004 status (`status` carries the code). */
export function statusError(kme: string, op: string, code: number): KeyDeliveryError {
  return new KeyDeliveryError(KINDS[code] ?? 'bad-response', { kme, status: code, reason: `${op}: ${statusName(code)}` });
}
