// NSS key log format (https://firefox-source-docs.mozilla.org/security/nss/legacy/key_log_format/):
// `CLIENT_RANDOM <client_random hex> <master_secret hex>` for TLS 1.2. Written only when the user asks,
// through SSLKEYLOGFILE or a 'keylog' listener, so Wireshark/tshark can decrypt a capture.
import { appendFileSync } from 'node:fs';
import { toHex } from '../wire/bytes.js';

/** The NSS key-log line for a TLS 1.2 session. */
export function keylogLine(clientRandom: Uint8Array, masterSecret: Uint8Array): string {
  return `CLIENT_RANDOM ${toHex(clientRandom)} ${toHex(masterSecret)}\n`;
}

/** Append a line to $SSLKEYLOGFILE, if set. Read per call so tests and long-running servers can toggle it. */
export function writeKeylogFile(line: string): void {
  const file = process.env.SSLKEYLOGFILE;
  if (!file) return;
  try {
    appendFileSync(file, line, { mode: 0o600 });
  } catch {
    /* a key log that can't be written must never break the connection */
  }
}
