// The QKD flags shared by `qtls server` and `qtls client`:
//   --kme URL --sae-cert FILE --sae-key FILE --kme-ca FILE [--kme-api 014|004]
//   --qkd first-class|hybrid|psk|psk-hint    which QKD suites to offer (default hybrid)
//   --peer-sae ID                            the other SAE (PSK-compatible modes)
//   --qkd-max-pending N, --qkd-rate R[/B]    the server's key budget (docs/qkd-in-tls.md "Key budget")
// The SAE ID is the subject CN of --sae-cert.
import type { QkdOptions } from '../kx/qkd-options.js';
import { qkdPskClientOptions, qkdPskServerOptions } from '../kx/qkd-psk.js';
import { createKeyDelivery, saeIdFromCertificate } from '../qkd/delivery-factory.js';
import { readFileOption, UsageError } from './args.js';

export const QKD_FLAGS = {
  kme: { type: 'string' },
  'sae-cert': { type: 'string' },
  'sae-key': { type: 'string' },
  'kme-ca': { type: 'string' },
  'kme-api': { type: 'string' },
  qkd: { type: 'string' },
  'peer-sae': { type: 'string' },
  'kme-timeout': { type: 'string' },
  'qkd-max-pending': { type: 'string' },
  'qkd-rate': { type: 'string' },
} as const;

export const QKD_USAGE = `QKD: --kme URL --sae-cert FILE --sae-key FILE --kme-ca FILE [--kme-api 014|004]
     [--qkd first-class|hybrid|psk|psk-hint] [--peer-sae ID] [--kme-timeout MS]
     server: [--qkd-max-pending N] [--qkd-rate PER_SECOND[/BURST]]  (KME key requests in flight / per second)`;

type QkdFlagValues = Partial<Record<keyof typeof QKD_FLAGS, string>>;

const FIRST_CLASS = 'QKD-ECDSA-AES256-GCM-SHA384:QKD-ECDSA-CHACHA20-POLY1305:QKD-RSA-AES256-GCM-SHA384:QKD-RSA-CHACHA20-POLY1305';
const HYBRID = 'ECDHE-QKD-ECDSA-AES256-GCM-SHA384:ECDHE-QKD-ECDSA-CHACHA20-POLY1305:ECDHE-QKD-RSA-AES256-GCM-SHA384:ECDHE-QKD-RSA-CHACHA20-POLY1305';
const PSK_SUITES = 'ECDHE-PSK-AES256-GCM-SHA384:ECDHE-PSK-CHACHA20-POLY1305:PSK-AES256-GCM-SHA384:PSK-CHACHA20-POLY1305:PSK-AES128-GCM-SHA256:ECDHE-PSK-AES128-GCM-SHA256';

/**
 * TLS options for the QKD flags, or undefined when --kme is absent. `ciphers` is only set when the user
 * gave none, so an explicit --ciphers still wins.
 */
export function qkdTlsOptions(v: QkdFlagValues, role: 'client' | 'server', userCiphers: string | undefined): Record<string, unknown> | undefined {
  const anyQkd = v.qkd ?? v['sae-cert'] ?? v['sae-key'] ?? v['kme-ca'] ?? v['peer-sae'] ?? v['kme-api'] ?? v['qkd-max-pending'] ?? v['qkd-rate'];
  if (!v.kme) {
    if (anyQkd) throw new UsageError('--kme URL is required with the QKD flags');
    return undefined;
  }
  if (!v['sae-cert'] || !v['sae-key'] || !v['kme-ca']) throw new UsageError('--kme needs --sae-cert, --sae-key and --kme-ca (mutual TLS to the KME)');
  const api = v['kme-api'] ?? '014';
  if (api !== '014' && api !== '004') throw new UsageError(`--kme-api must be 014 or 004, got ${api}`);
  const mode = v.qkd ?? 'hybrid';
  if (!['first-class', 'hybrid', 'psk', 'psk-hint'].includes(mode)) throw new UsageError(`--qkd must be first-class, hybrid, psk or psk-hint, got ${mode}`);
  const timeoutMs = v['kme-timeout'] === undefined ? undefined : Number(v['kme-timeout']);
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new UsageError('--kme-timeout must be a positive number of milliseconds');
  const budget = keyBudget(v, role);

  const saeCert = readFileOption(v['sae-cert'], 'SAE certificate')!;
  const qkd: QkdOptions = {
    saeId: saeIdFromCertificate(saeCert),
    delivery: createKeyDelivery({ kme: v.kme, api, saeCert, saeKey: readFileOption(v['sae-key'], 'SAE key')!, kmeCa: readFileOption(v['kme-ca'], 'KME CA')!, timeoutMs }),
    timeoutMs,
    peerSaeId: v['peer-sae'],
    ...budget,
  };
  if (mode === 'psk' || mode === 'psk-hint') {
    if (!qkd.peerSaeId) throw new UsageError(`--qkd ${mode} needs --peer-sae ID (the other SAE)`);
    const psk = role === 'client' ? qkdPskClientOptions(qkd, mode) : qkdPskServerOptions(qkd, mode);
    return { ...psk, ...(userCiphers ? {} : { ciphers: PSK_SUITES }) };
  }
  return { qkd, ...(userCiphers ? {} : { ciphers: mode === 'hybrid' ? HYBRID : FIRST_CLASS }) };
}

/** --qkd-max-pending N and --qkd-rate PER_SECOND[/BURST] (burst default: one second's worth, at least 1). */
function keyBudget(v: QkdFlagValues, role: 'client' | 'server'): Pick<QkdOptions, 'maxPendingKeyRequests' | 'keyRequestRate'> {
  const max = v['qkd-max-pending'];
  const rate = v['qkd-rate'];
  if ((max !== undefined || rate !== undefined) && role !== 'server') throw new UsageError('--qkd-max-pending and --qkd-rate are server options');
  const out: Pick<QkdOptions, 'maxPendingKeyRequests' | 'keyRequestRate'> = {};
  if (max !== undefined) {
    const n = Number(max);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--qkd-max-pending must be a positive integer, got ${max}`);
    out.maxPendingKeyRequests = n;
  }
  if (rate !== undefined) {
    const m = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(rate);
    const perSecond = m ? Number(m[1]) : NaN;
    const burst = m?.[2] !== undefined ? Number(m[2]) : Math.max(1, Math.ceil(perSecond));
    if (!m || !(perSecond > 0) || !(burst >= 1)) throw new UsageError(`--qkd-rate must be PER_SECOND[/BURST] (e.g. 10 or 0.5/2), got ${rate}`);
    out.keyRequestRate = { perSecond, burst };
  }
  return out;
}
