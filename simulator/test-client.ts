/**
 * A bare integration-protocol client for the simulator's tests: raw writes (to split frames anywhere),
 * and a queue of what came back (frames, `Busy!`, errors), optionally through integration encryption.
 */
import { connect, type Socket } from 'node:net';
import { encodeFrame, FrameParser, IntegrationCipher, type FrameEvent } from '../ingest/satel/protocol/index.ts';

export type TestClient = {
  readonly socket: Socket;
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>;
  /** Whether anything arrived that no next() has taken yet. */
  pending(): number;
  sendRaw(bytes: Uint8Array): void;
  send(cmd: number, data?: Uint8Array): void;
  /** The next event from the server, or rejects after timeoutMs. */
  next(timeoutMs?: number): Promise<FrameEvent>;
  /** Sends and waits for the answer frame. */
  request(cmd: number, data?: Uint8Array, timeoutMs?: number): Promise<{ cmd: number; data: Buffer }>;
  close(): void;
};

export async function connectClient(port: number, opts: { key?: string } = {}): Promise<TestClient> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.setNoDelay(true);
  const parser = new FrameParser();
  const cipher = opts.key !== undefined ? new IntegrationCipher(opts.key) : undefined;
  const queue: FrameEvent[] = [];
  const waiters: Array<(ev: FrameEvent) => void> = [];
  const deliver = (ev: FrameEvent): void => {
    const w = waiters.shift();
    if (w) w(ev);
    else queue.push(ev);
  };
  socket.on('data', (chunk: Buffer) => {
    const chunks = cipher ? cipher.unwrap(chunk).frames : [chunk];
    for (const c of chunks) for (const ev of parser.push(c)) deliver(ev);
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

  const client: TestClient = {
    socket,
    closed,
    pending: () => queue.length,
    sendRaw: (bytes) => void socket.write(bytes),
    send: (cmd, data) => client.sendRaw(cipher ? cipher.wrap(encodeFrame(cmd, data)) : encodeFrame(cmd, data)),
    next(timeoutMs = 2_000) {
      const ev = queue.shift();
      if (ev) return Promise.resolve(ev);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        const w = (e: FrameEvent): void => {
          clearTimeout(timer);
          resolve(e);
        };
        waiters.push(w);
      });
    },
    async request(cmd, data, timeoutMs) {
      client.send(cmd, data);
      const ev = await client.next(timeoutMs);
      if (ev.type !== 'frame') throw new Error(`expected a frame, got ${JSON.stringify(ev)}`);
      return { cmd: ev.cmd, data: ev.data };
    },
    close: () => void socket.destroy(),
  };
  return client;
}
