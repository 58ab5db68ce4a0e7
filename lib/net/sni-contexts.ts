// server.addContext(hostname, context): per-name certificates, consulted as node's default SNICallback does.
import { loadCertifiedKeys, type CertifiedKey } from '../handshake/config.js';
import type { CommonOptions } from './options.js';
import { isForeignSecureContext, qtlsContextParts, type SecureContext } from './secure-context.js';

/**
 * What addContext accepts besides a createSecureContext() context: the `cert`/`key` options (any other
 * option is ignored).
 */
export interface SniContext {
  cert?: CommonOptions['cert'];
  key?: CommonOptions['key'];
  [other: string]: unknown;
}

/**
 * node's pattern for a servername: regex metacharacters escaped except `*`, which matches any run of
 * characters other than '.'; anchored; case-sensitive (node compares the SNI exactly as the client sent it).
 * The escaped set is node's own, so patterns match exactly what they match under node:tls.
 */
export function hostnamePattern(servername: string): RegExp {
  return new RegExp(`^${servername.replace(/([.^$+?\-\\[\]{}])/g, '\\$1').replaceAll('*', '[^.]*')}$`);
}

export class SniContexts {
  private readonly entries: Array<{ pattern: RegExp; hostname: string; certificates: CertifiedKey[] }> = [];

  add(hostname: string, context: SecureContext | SniContext | undefined): void {
    if (!hostname) throw Object.assign(new Error('"servername" is required parameter for Server.addContext'), { code: 'ERR_TLS_REQUIRED_SERVER_NAME' });
    const ctx = (context ?? {}) as SniContext;
    // A qtls context is used as it is (node too takes a SecureContext as it is, and options through
    // createSecureContext()).
    const parts = qtlsContextParts(ctx);
    // A node:tls SecureContext wraps OpenSSL objects qtls cannot read.
    if (!parts && ctx.cert === undefined && isForeignSecureContext(ctx))
      throw new TypeError('addContext needs { cert, key } options or a qtls createSecureContext() context (a node:tls SecureContext cannot be used by qtls)');
    // Parsed now, so bad PEM throws here (as node's createSecureContext does), not in a handshake.
    this.entries.push({ pattern: hostnamePattern(hostname), hostname, certificates: parts?.certificates ?? loadCertifiedKeys(ctx.cert, ctx.key) });
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * The certificates for a client's SNI: the most recently added matching context wins (node walks its
   * list backwards); undefined (the server's default certificate) when none matches or there is no SNI.
   */
  select(servername: string | undefined): CertifiedKey[] | undefined {
    if (servername === undefined) return undefined;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (!e.pattern.test(servername)) continue;
      // node fails such a handshake too (OpenSSL: SSL_use_certificate "passed a null parameter").
      if (e.certificates.length === 0) throw new Error(`the addContext("${e.hostname}") context has no certificate`);
      return e.certificates;
    }
    return undefined;
  }
}
