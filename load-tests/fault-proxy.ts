import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * What the network between the driver and a panel does to the bytes:
 *  - pass: forwards them;
 *  - delay: forwards each chunk `ms` late, in order (a congested or satellite link);
 *  - fragment: forwards `bytes` at a time, `ms` apart (frames arrive in pieces);
 *  - stall: holds everything, both ways, without closing (a link that went silent); held bytes go on
 *    when the mode changes, as TCP would deliver them after the stall;
 *  - blackhole: new connections are accepted and never reach the panel (a NAT that lost its mapping).
 * `cut()` resets every open connection (a dropped link); new ones are made as the mode says.
 */
export type FaultMode =
  | { kind: 'pass' } | { kind: 'delay'; ms: number } | { kind: 'fragment'; bytes: number; ms: number } | { kind: 'stall' } | { kind: 'blackhole' };

export interface FaultProxy {
  port: number;
  set(mode: FaultMode): void;
  cut(): void;
  readonly stats: { connections: number; cut: number; bytes: number };
  close(): Promise<void>;
}

/** One direction of one connection: an ordered queue paced by the current mode. */
function pipeWithFaults(from: Socket, to: Socket, mode: () => FaultMode, counted: (n: number) => void) {
  const queue: { data: Buffer; due: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    timer = undefined;
    const m = mode();
    while (queue.length > 0 && m.kind !== 'stall' && !to.destroyed) {
      const head = queue[0]!;
      const wait = head.due - Date.now();
      if (wait > 0) { timer = setTimeout(pump, wait); return; }
      if (m.kind === 'fragment' && head.data.length > m.bytes) {
        to.write(head.data.subarray(0, m.bytes));
        counted(m.bytes);
        head.data = head.data.subarray(m.bytes);
        head.due = Date.now() + m.ms;
        continue;
      }
      queue.shift();
      to.write(head.data);
      counted(head.data.length);
    }
    if (queue.length > 0 && m.kind === 'stall') timer = setTimeout(pump, 20);
  };
  from.on('data', (data: Buffer) => {
    const m = mode();
    queue.push({ data, due: Date.now() + (m.kind === 'delay' ? m.ms : 0) });
    if (!timer) pump();
  });
  return { wake: () => { if (!timer) pump(); }, stop: () => clearTimeout(timer) };
}

export async function startFaultProxy(target: { host?: string; port: number }): Promise<FaultProxy> {
  let mode: FaultMode = { kind: 'pass' };
  const open = new Set<{ client: Socket; upstream?: Socket; wake(): void; stop(): void }>();
  const stats = { connections: 0, cut: 0, bytes: 0 };
  const server: Server = createServer((client) => {
    stats.connections++;
    client.on('error', () => undefined);
    if (mode.kind === 'blackhole') {
      const held = { client, wake: () => undefined, stop: () => undefined };
      open.add(held);
      client.resume();
      client.on('close', () => open.delete(held));
      return;
    }
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    upstream.on('error', () => client.destroy());
    const counted = (n: number) => { stats.bytes += n; };
    const up = pipeWithFaults(client, upstream, () => mode, counted);
    const down = pipeWithFaults(upstream, client, () => mode, counted);
    const conn = { client, upstream, wake: () => { up.wake(); down.wake(); }, stop: () => { up.stop(); down.stop(); } };
    open.add(conn);
    const end = () => { conn.stop(); open.delete(conn); client.destroy(); upstream.destroy(); };
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    stats,
    set(next) {
      mode = next;
      for (const c of open) c.wake();
    },
    cut() {
      for (const c of [...open]) {
        stats.cut++;
        c.stop();
        c.client.resetAndDestroy();
        c.upstream?.resetAndDestroy();
      }
      open.clear();
    },
    close: () => new Promise<void>((r) => {
      for (const c of open) { c.client.destroy(); c.upstream?.destroy(); }
      server.close(() => r());
    }),
  };
}
