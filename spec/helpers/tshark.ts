// tshark as an independent observer of loopback traffic: a live capture to a pcapng file that is known
// to be running before the test sends anything (a canary TCP connection must show up in its packet
// summaries first), and readers for what tshark dissects from the file.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { LOCALHOST } from './ports.js';

const run = promisify(execFile);

export interface Capture {
  file: string;
  /** Stop capturing (SIGINT: tshark flushes the file) and wait for tshark to exit. */
  stop(): Promise<void>;
  /** tshark's stderr so far (for diagnostics). */
  readonly log: string;
}

/**
 * `tshark -i lo -f FILTER -w FILE -P -l`; resolves once tshark reports it is capturing AND has seen a
 * canary connection to `canaryPort` (so no packet of the test can be missed).
 */
export async function startCapture(file: string, filter: string, canaryPort: number, ms = 20_000): Promise<Capture> {
  const child: ChildProcess = spawn('tshark', ['-i', 'lo', '-f', filter, '-w', file, '-P', '-l'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  let exited = false;
  const exit = new Promise<void>((r) => child.on('exit', () => ((exited = true), r())));
  const cap: Capture = {
    file,
    get log() {
      return `${err}\n${out}`;
    },
    async stop() {
      if (!exited) {
        child.kill('SIGINT');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(t);
      }
    },
  };
  const deadline = Date.now() + ms;
  try {
    while (!/Capturing on/.test(err)) {
      if (exited) throw new Error(`tshark exited before capturing:\n${err}`);
      if (Date.now() > deadline) throw new Error(`tshark did not start capturing within ${ms} ms:\n${err}`);
      await sleep(20);
    }
    // Canary: TCP connections to the port until tshark prints a packet of one.
    while (out.trim() === '') {
      if (exited) throw new Error(`tshark exited:\n${err}`);
      if (Date.now() > deadline) throw new Error(`tshark saw no canary packet within ${ms} ms:\n${err}\n${out}`);
      await new Promise<void>((resolve) => {
        const s = connect(canaryPort, LOCALHOST, () => s.destroy());
        s.on('error', () => resolve());
        s.on('close', () => resolve());
      });
      await sleep(100);
    }
    return cap;
  } catch (e) {
    await cap.stop();
    throw e;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TlsFrame {
  frame: number;
  stream: number;
  srcPort: number;
  dstPort: number;
  /** tls.record.content_type of every record in the frame. */
  contentTypes: number[];
  /** tls.handshake.type of every handshake message tshark could read (not encrypted ones). */
  handshakeTypes: number[];
  payload: Buffer;
}

/** Per-frame TLS facts as tshark dissects them (frames with TCP data), the `tlsPorts` decoded as TLS. */
export async function readTlsFrames(file: string, tlsPorts: number[]): Promise<TlsFrame[]> {
  const { stdout } = await run(
    'tshark',
    ['-r', file, ...tlsPorts.flatMap((p) => ['-d', `tcp.port==${p},tls`]), '-Y', 'tcp.len > 0', '-T', 'fields',
      '-e', 'frame.number', '-e', 'tcp.stream', '-e', 'tcp.srcport', '-e', 'tcp.dstport',
      '-e', 'tls.record.content_type', '-e', 'tls.handshake.type', '-e', 'tcp.payload',
      '-E', 'occurrence=a', '-E', 'aggregator=,', '-E', 'separator=/t'],
    { maxBuffer: 64 * 1024 * 1024, timeout: 30_000 },
  );
  const nums = (s: string | undefined) => (s ? s.split(',').filter(Boolean).map(Number) : []);
  return stdout
    .split('\n')
    .filter((l) => /^\d+\t/.test(l))
    .map((l) => {
      const [frame, stream, src, dst, ct, hs, payload] = l.split('\t');
      return {
        frame: Number(frame),
        stream: Number(stream),
        srcPort: Number(src),
        dstPort: Number(dst),
        contentTypes: nums(ct),
        handshakeTypes: nums(hs),
        payload: Buffer.from((payload ?? '').replace(/[^0-9a-f]/gi, ''), 'hex'),
      };
    });
}
