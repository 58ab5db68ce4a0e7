// server.addContext(hostname, context): per-name contexts, consulted as node's default SNICallback does:
// the one selected supplies the certificate and the trust for client certificates.
import { loadCertifiedKeys } from '../handshake/config.js';
import type { SelectedContext } from '../handshake/server.js';
import { selectedContext, type CommonOptions } from './options.js';
import { caTrust, isForeignSecureContext, qtlsContextParts, type SecureContext } from './secure-context.js';

/**
 * What addContext accepts besides a createSecureContext() context: the `cert`/`key` options and `ca`
 * (node makes a context of them with createSecureContext(); of that context only the certificate and
 * the trust for client certificates apply to a connection, so other options are ignored).
 */
export interface SniContext {
  cert?: CommonOptions['cert'];
  key?: CommonOptions['key'];
  /** Trust anchors for client certificates on connections this context serves; without it the system store (not the server's `ca`), as node. */
  ca?: CommonOptions['ca'];
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
  private readonly entries: Array<{ pattern: RegExp; hostname: string; context: SelectedContext }> = [];

  add(hostname: string, context: SecureContext | SniContext | undefined): void {
    if (!hostname) throw Object.assign(new Error('"servername" is required parameter for Server.addContext'), { code: 'ERR_TLS_REQUIRED_SERVER_NAME' });
    const ctx = (context ?? {}) as SniContext;
    // A qtls context is used as it is (node too takes a SecureContext as it is, and options through
    // createSecureContext()).
    const parts = qtlsContextParts(ctx);
    // A node:tls SecureContext wraps OpenSSL objects qtls cannot read.
    if (!parts && ctx.cert === undefined && isForeignSecureContext(ctx))
      throw new TypeError('addContext needs { cert, key } options or a qtls createSecureContext() context (a node:tls SecureContext cannot be used by qtls)');
    // Parsed now, so bad PEM (certificates or ca) throws here (as node's createSecureContext does), not in a handshake.
    const selected = parts ? selectedContext(parts) : { certificates: loadCertifiedKeys(ctx.cert, ctx.key), ...caTrust(ctx.ca, true) };
    this.entries.push({ pattern: hostnamePattern(hostname), hostname, context: selected });
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * The context for a client's SNI: the most recently added matching one wins (node walks its list
   * backwards); undefined (the server's own context) when none matches or there is no SNI. Runs no user
   * code, so it may also be consulted on resumption.
   */
  select(servername: string | undefined): SelectedContext | undefined {
    if (servername === undefined) return undefined;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (!e.pattern.test(servername)) continue;
      // node fails such a handshake too (OpenSSL: SSL_use_certificate "passed a null parameter").
      if (e.context.certificates.length === 0) throw new Error(`the addContext("${e.hostname}") context has no certificate`);
      return e.context;
    }
    return undefined;
  }
}
