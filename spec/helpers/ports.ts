// Local ports for interop tests: everything binds 127.0.0.1 and lets the kernel pick the port.
import { createServer, type AddressInfo } from 'node:net';

export const LOCALHOST = '127.0.0.1';

interface Listenable {
  listen(port: number, host: string, cb: () => void): unknown;
  address(): AddressInfo | string | null;
  once(event: 'error', cb: (e: Error) => void): unknown;
}

/** Listen on 127.0.0.1 with a kernel-chosen port; resolves with the port. */
export function listenLocal(server: Listenable): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOCALHOST, () => {
      const a = server.address();
      if (!a || typeof a === 'string') return reject(new Error(`unexpected server address ${String(a)}`));
      resolve(a.port);
    });
  });
}

/**
 * A port that was free a moment ago (for peers that can't report the port they got). Prefer port 0:
 * another process may take this port before it is used.
 */
export async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listenLocal(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
