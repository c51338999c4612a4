/**
 * One panel's ETHM-1 integration port over real TCP: one client at a time (a second one gets
 * `Busy!\r\n` and is closed), the client is dropped after a silence, frames are parsed from any split of
 * the byte stream and corrupt ones ignored, optional integration encryption, monitoring mode pushes, and
 * fault injection (busy answers, hang, drop, corrupt frames, delays).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { crc16, encodeFrame, FrameParser, IntegrationCipher, type Message } from '../ingest/satel/protocol/index.ts';
import type { Logger } from '../platform/logger.ts';
import { counter, gauge } from '../platform/metrics.ts';
import type { LinkControl } from './actions.ts';
import type { Panel } from './panel.ts';

const BUSY = Buffer.from('Busy!\r\n', 'ascii');

const frames = counter('stam_simulator_frames_total', 'Frames on simulated panel links: in, out, bad (ignored), pushed, busy', ['direction']);
const clients = gauge('stam_simulator_clients', 'Clients connected to simulated panels');
const refused = counter('stam_simulator_refused_connections_total', 'Second clients refused with Busy!');
const MONITOR_REQUEST_BYTES = 12;

export type PanelServerOptions = {
  panel: Panel;
  /** Panel number (1-based), for logs. */
  number: number;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Drop the client after this long without a byte from it (default 25 s, as the ETHM-1 Plus). */
  idleTimeoutMs?: number;
  /** Integration key: when set, the link speaks ETHM-1 Plus integration encryption only. */
  encryptionKey?: string | undefined;
  /** What a second client gets: `busy` (plain ETHM-1) or `takeover` (it replaces the first). */
  secondClient?: 'busy' | 'takeover';
  log?: Logger | undefined;
};

export type PanelServerStats = {
  connections: number;
  refused: number;
  framesIn: number;
  framesOut: number;
  badFrames: number;
  pushed: number;
};

export type PanelServer = {
  readonly number: number;
  /** The bound port (valid after start). */
  readonly port: number;
  readonly connected: boolean;
  readonly monitoring: boolean;
  readonly stats: PanelServerStats;
  readonly link: LinkControl;
  start(): Promise<void>;
  stop(): Promise<void>;
};

/** A frame whose CRC is wrong on purpose (fault injection); stuffing is kept valid so only the CRC fails. */
function corruptFrame(cmd: number, data: Uint8Array): Buffer {
  const body = Buffer.concat([Uint8Array.of(cmd), data]);
  const crc = crc16(body) ^ 0x5a5a;
  const out: number[] = [0xfe, 0xfe];
  for (const b of [...body, crc >> 8, crc & 0xff]) {
    out.push(b);
    if (b === 0xfe) out.push(0xf0);
  }
  out.push(0xfe, 0x0d);
  return Buffer.from(out);
}

function monitorMask(data: Uint8Array): Set<number> {
  const cmds = new Set<number>();
  data.forEach((b, i) => {
    for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) cmds.add(i * 8 + bit);
  });
  return cmds;
}

export function createPanelServer(opts: PanelServerOptions): PanelServer {
  const { panel, number } = opts;
  const host = opts.host ?? '127.0.0.1';
  const idleTimeoutMs = opts.idleTimeoutMs ?? 25_000;
  const log = opts.log?.child({ panel: number });
  const stats: PanelServerStats = { connections: 0, refused: 0, framesIn: 0, framesOut: 0, badFrames: 0, pushed: 0 };
  const faults = { hang: false, busy: 0, corrupt: 0, delayMs: 0, ignored: new Set<number>() };
  let server: Server | undefined;
  let port = opts.port;
  let current: Session | undefined;
  const sockets = new Set<Socket>();

  type Session = { socket: Socket; monitor: Set<number> | undefined; close(): void };

  function openSession(socket: Socket): Session {
    const parser = new FrameParser();
    const cipher = opts.encryptionKey ? new IntegrationCipher(opts.encryptionKey) : undefined;
    let flushScheduled = false;
    const session: Session = { socket, monitor: undefined, close: () => socket.destroy() };

    const write = (bytes: Buffer): void => {
      if (!socket.destroyed) socket.write(cipher ? cipher.wrap(bytes) : bytes);
    };
    const sendAnswer = (a: Message): void => {
      stats.framesOut++;
      frames.inc({ direction: 'out' });
      if (faults.corrupt > 0) {
        faults.corrupt--;
        write(corruptFrame(a.cmd, a.data));
      } else {
        write(encodeFrame(a.cmd, a.data));
      }
    };
    const send = (answers: Message[]): void => {
      if (faults.delayMs > 0) setTimeout(() => answers.forEach(sendAnswer), faults.delayMs);
      else answers.forEach(sendAnswer);
    };

    const flushMonitored = (): void => {
      flushScheduled = false;
      if (!session.monitor || faults.hang || socket.destroyed) return;
      const pushed = panel.takeMonitored(session.monitor);
      stats.pushed += pushed.length;
      frames.inc({ direction: 'pushed' }, pushed.length);
      send(pushed);
    };
    const unsubscribe = panel.store.onChange((cmd) => {
      if (session.monitor?.has(cmd) && !flushScheduled) {
        flushScheduled = true;
        setImmediate(flushMonitored);
      }
    });

    const onFrame = (cmd: number, data: Buffer): void => {
      stats.framesIn++;
      frames.inc({ direction: 'in' });
      if (faults.ignored.has(cmd)) return; // read, never answered
      if (faults.busy > 0) {
        faults.busy--;
        frames.inc({ direction: 'busy' });
        write(BUSY);
        return;
      }
      const answers = panel.handle({ cmd, data });
      const first = answers[0];
      if (cmd === 0x7f && data.length === MONITOR_REQUEST_BYTES && first?.cmd === 0xef && first.data[0] === 0xff) {
        session.monitor = monitorMask(data);
        log?.info({ cmds: [...session.monitor] }, 'monitoring mode on');
      }
      send(answers);
    };

    /** A panel ignores what it cannot parse; the simulator counts and logs it. */
    const bad = (code: string, reason: string): void => {
      stats.badFrames++;
      frames.inc({ direction: 'bad' });
      log?.debug({ code, reason }, 'ignored bad input from client');
    };

    const idle = setTimeout(() => {
      log?.info({ idleTimeoutMs }, 'client silent, dropping it');
      socket.destroy();
    }, idleTimeoutMs);

    socket.on('data', (chunk: Buffer) => {
      idle.refresh();
      if (faults.hang) return;
      let chunks: Buffer[] = [chunk];
      if (cipher) {
        // A plaintext client (or a wrong key) gets no answer at all, as from a real module.
        const unwrapped = cipher.unwrap(chunk);
        for (const e of unwrapped.errors) bad(e.code, e.reason);
        chunks = unwrapped.frames;
      }
      for (const c of chunks) {
        for (const ev of parser.push(c)) {
          if (ev.type === 'frame') onFrame(ev.cmd, ev.data);
          else if (ev.type === 'error') bad(ev.code, ev.reason);
          else bad('E_SATEL_FRAME', 'Busy! from the client');
        }
      }
    });
    socket.on('error', (err) => log?.debug({ err: err.message }, 'client socket error'));
    socket.on('close', () => {
      clients.dec();
      clearTimeout(idle);
      unsubscribe();
      if (current === session) current = undefined;
      log?.info('client disconnected');
    });
    return session;
  }

  function onConnection(socket: Socket): void {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (current && !current.socket.destroyed) {
      if (opts.secondClient === 'takeover') {
        log?.info('second client takes over the link');
        current.close();
      } else {
        stats.refused++;
        refused.inc();
        socket.on('error', () => undefined);
        socket.end(BUSY);
        setTimeout(() => socket.destroy(), 1_000).unref();
        return;
      }
    }
    stats.connections++;
    clients.inc();
    log?.info({ remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` }, 'client connected');
    current = openSession(socket);
  }

  const link: LinkControl = {
    drop: () => current?.close(),
    hang: () => void (faults.hang = true),
    busy: (count) => void (faults.busy += count),
    corrupt: (count) => void (faults.corrupt += count),
    delay: (ms) => void (faults.delayMs = ms),
    ignore: (cmd) => void faults.ignored.add(cmd),
    restore() {
      Object.assign(faults, { hang: false, busy: 0, corrupt: 0, delayMs: 0, ignored: new Set<number>() });
    },
  };

  return {
    number,
    get port() {
      return port;
    },
    get connected() {
      return current !== undefined && !current.socket.destroyed;
    },
    get monitoring() {
      return current?.monitor !== undefined;
    },
    stats,
    link,
    start() {
      return new Promise((resolve, reject) => {
        const s = createServer(onConnection);
        s.once('error', reject);
        s.listen(opts.port, host, () => {
          s.off('error', reject);
          s.on('error', (err) => log?.error({ err: err.message }, 'panel listener error'));
          const addr = s.address();
          port = typeof addr === 'object' && addr ? addr.port : opts.port;
          server = s;
          resolve();
        });
      });
    },
    stop() {
      return new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server = undefined;
      });
    },
  };
}
