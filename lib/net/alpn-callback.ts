// node's ALPNCallback server option (node ≥ 20) → the handshake's selectAlpn hook.
import type { ServerConfig } from '../handshake/server.js';

/**
 * Picks one of the client's ALPN protocols, or returns undefined to refuse them all (the handshake then
 * fails with no_application_protocol). `servername` is the client's SNI, false without one (as node).
 */
export type ALPNCallback = (info: { servername: string | false; protocols: string[] }) => string | undefined;

/** Validates the option as node does and adapts it; undefined when the option is absent. */
export function alpnSelector(options: { ALPNCallback?: unknown; ALPNProtocols?: unknown }): ServerConfig['selectAlpn'] {
  const cb = options.ALPNCallback;
  if (cb === undefined || cb === null) return undefined;
  // node checks the type only when a client connects (and then crashes the process); we check up front.
  if (typeof cb !== 'function')
    throw Object.assign(new TypeError(`The "options.ALPNCallback" property must be of type function. Received type ${typeof cb}`), { code: 'ERR_INVALID_ARG_TYPE' });
  if (options.ALPNProtocols)
    throw Object.assign(new TypeError('The ALPNCallback and ALPNProtocols TLS options are mutually exclusive'), { code: 'ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS' });
  return (servername, protocols) => (cb as ALPNCallback)({ servername: servername ?? false, protocols: [...protocols] });
}
