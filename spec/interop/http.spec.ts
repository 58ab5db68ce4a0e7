// A qtls server as the transport of node's http module: http.createServer() fed with
// httpServer.emit('connection', tlsSocket) from 'secureConnection'. Requested by node's https.request
// (node:tls underneath, verifying against fixtures/pki/ca.pem) and by node's http.request running over
// a qtls client connection (createConnection), plus a raw HTTP/1.1 exchange over a qtls socket.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as qtlsConnect, createServer as qtlsCreateServer, type TLSSocket } from '../../lib/index.js';
import { useCleanup } from '../helpers/cleanup.js';
import { CERTS, ca } from '../helpers/fixtures.js';
import { LOCALHOST, listenLocal } from '../helpers/ports.js';

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function collect(res: IncomingMessage): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (d: Buffer) => chunks.push(d));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    res.on('error', reject);
  });
}

/** The handler: GET /info describes the TLS connection; POST /echo returns the body and its SHA-256. */
function handler(req: IncomingMessage, res: ServerResponse): void {
  const tls = req.socket as unknown as TLSSocket;
  if (req.method === 'GET' && req.url === '/info') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ cipher: tls.getCipher(), protocol: tls.getProtocol(), ephemeral: tls.getEphemeralKeyInfo(), host: req.headers.host }));
    return;
  }
  if (req.method === 'POST' && req.url === '/echo') {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.setHeader('x-body-sha256', createHash('sha256').update(body).digest('hex'));
      res.setHeader('content-type', 'application/octet-stream');
      res.end(body);
    });
    return;
  }
  res.statusCode = 404;
  res.end('not found\n');
}

describe('interop: node:http served over a qtls server', function () {
  this.timeout(20_000);
  const cleanup = useCleanup();
  let port: number;
  let secureConnections: TLSSocket[];
  let serverAlertsOut: string[];

  beforeEach(async () => {
    secureConnections = [];
    serverAlertsOut = [];
    const http = createHttpServer(handler);
    const tls = qtlsCreateServer(
      {
        cert: CERTS['ecdsa-p256'].chain(),
        key: CERTS['ecdsa-p256'].key(),
        trace: (e: { direction: string; kind: string; name: string }) => {
          if (e.kind === 'alert' && e.direction === 'out') serverAlertsOut.push(e.name);
        },
      },
      (socket) => {
        secureConnections.push(socket);
        http.emit('connection', socket);
      },
    );
    port = await listenLocal(tls);
    cleanup.defer(
      () =>
        new Promise<void>((resolve) => {
          http.closeAllConnections();
          for (const s of secureConnections) s.destroy();
          tls.close(() => resolve());
        }),
    );
  });

  it('node https.request (keep-alive agent): GET and a 200 KB POST on one qtls connection', async () => {
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: ca(), servername: 'localhost' });
    cleanup.defer(() => agent.destroy());
    const get = await new Promise<Reply>((resolve, reject) => {
      const req = httpsRequest({ host: LOCALHOST, port, path: '/info', agent, headers: { host: 'localhost' } }, (res) => collect(res).then(resolve, reject));
      req.on('error', reject);
      req.end();
    });
    expect(get.status).to.equal(200);
    const info = JSON.parse(get.body.toString());
    expect(info.protocol).to.equal('TLSv1.2');
    expect(info.cipher.standardName).to.match(/^TLS_ECDHE_ECDSA_WITH_/);
    expect(info.host).to.equal('localhost');

    const body = randomBytes(200_000);
    let clientSocket: { getCipher(): { name: string }; authorized: boolean } | undefined;
    const post = await new Promise<Reply>((resolve, reject) => {
      const req = httpsRequest({ host: LOCALHOST, port, path: '/echo', method: 'POST', agent, headers: { 'content-length': body.length } }, (res) => {
        clientSocket = res.socket as never;
        collect(res).then(resolve, reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(post.status).to.equal(200);
    expect(post.body.equals(body), 'echoed body differs').to.equal(true);
    expect(post.headers['x-body-sha256']).to.equal(createHash('sha256').update(body).digest('hex'));
    // node's view of the same connection: verified, same suite as the server reported.
    expect(clientSocket!.authorized).to.equal(true);
    expect(clientSocket!.getCipher().name).to.equal(info.cipher.name);
    // Both requests went over the one TLS connection.
    expect(secureConnections).to.have.length(1);
  });

  it('node http.request over a qtls client connection (createConnection)', async () => {
    let socket: TLSSocket | undefined;
    const body = randomBytes(50_000);
    const post = await new Promise<Reply>((resolve, reject) => {
      const req = httpRequest(
        {
          host: 'localhost',
          port,
          path: '/echo',
          method: 'POST',
          headers: { 'content-length': body.length, connection: 'close' },
          createConnection: () => (socket = qtlsConnect({ host: LOCALHOST, port, servername: 'localhost', ca: ca() })) as never,
        },
        (res) => collect(res).then(resolve, reject),
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(post.status).to.equal(200);
    expect(post.body.equals(body), 'echoed body differs').to.equal(true);
    expect(post.headers['x-body-sha256']).to.equal(createHash('sha256').update(body).digest('hex'));
    expect(socket!.authorized).to.equal(true);
    expect(socket!.getCipher()?.standardName).to.equal(secureConnections[0]!.getCipher()?.standardName);
  });

  it('raw HTTP/1.1 over a qtls client: Connection: close ends with the server\'s close_notify', async () => {
    const alertsIn: string[] = [];
    const sock = qtlsConnect({
      host: LOCALHOST, port, servername: 'localhost', ca: ca(),
      trace: (e: { direction: string; kind: string; name: string }) => {
        if (e.kind === 'alert' && e.direction === 'in') alertsIn.push(e.name);
      },
    });
    cleanup.defer(() => sock.destroy());
    const chunks: Buffer[] = [];
    let error: Error | undefined;
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', (e) => (error = e));
    sock.once('secureConnect', () => sock.write('GET /info HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
    // http ends the response socket (our TLSSocket.end(): close_notify); our side answers in kind.
    await new Promise<void>((resolve) => sock.on('close', () => resolve()));
    expect(error).to.equal(undefined);
    const text = Buffer.concat(chunks).toString('latin1');
    expect(text).to.match(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).to.match(/\r\nconnection: close\r\n/i);
    const json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    expect(json.cipher.standardName).to.equal(sock.getCipher()?.standardName);
    expect(json.ephemeral).to.deep.equal(sock.getEphemeralKeyInfo());
    // The server's close_notify arrived (http destroys its side right after, as it does over node:tls,
    // so the client's answering close_notify may go unread).
    expect(alertsIn).to.deep.equal(['close_notify']);
    expect(serverAlertsOut).to.deep.equal(['close_notify']);
  });
});
