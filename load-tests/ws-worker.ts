/**
 * Worker thread of the operator clients: K WebSocket connections to the gateway, each logged in as its
 * operator, recording when every applied event arrives. It runs on its own thread so that arrival times
 * are not delayed by the load runner's other work (fetching traces, querying PostgreSQL). Arrivals go to
 * the main thread in batches; `stop` flushes them and the clients' statistics.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

export interface WorkerInput {
  gatewayUrl: string;
  creds: Array<{ username: string; password: string }>;
}

export interface ClientStats {
  client: number;
  username: string;
  messages: number;
  updates: number;
  events: number;
  disconnects: number;
  /** Stream positions skipped between consecutive messages (updates this client never got). */
  positionGaps: number;
  /** Messages whose position was not above the previous one (redelivered or reordered). */
  outOfOrder: number;
  /** `resync` snapshots received (the gateway could not replay what this client missed). */
  resyncs: number;
  closeReasons: string[];
}

/** [client, eventId, traceId | null, atMs] */
export type ArrivalRow = [number, string, string | null, number];

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'arrivals'; rows: ArrivalRow[] }
  | { type: 'stopped'; stats: ClientStats[] };

interface UpdateMessage {
  type: string;
  epoch?: string;
  position?: number;
  alarm?: { events?: Array<{ event_id: string; trace: { id: string } | null }> };
}

const input = workerData as WorkerInput;
const port = parentPort!;
let pending: ArrivalRow[] = [];
let stopping = false;

async function post<T>(path: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`${input.gatewayUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${path}: ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

function startClient(client: number, creds: { username: string; password: string }): { stats: ClientStats; ready: Promise<void>; close(): void } {
  const stats: ClientStats = { client, username: creds.username, messages: 0, updates: 0, events: 0, disconnects: 0, positionGaps: 0, outOfOrder: 0, resyncs: 0, closeReasons: [] };
  let token = '';
  let ws: WebSocket | undefined;
  let lastPosition = -1;
  let epoch: string | undefined;

  const connect = async (): Promise<void> => {
    if (!token) token = (await post<{ access_token: string }>('/api/auth/login', creds)).access_token;
    let ticket: string;
    try {
      ({ ticket } = await post<{ ticket: string }>('/api/ws-ticket', {}, token));
    } catch {
      token = (await post<{ access_token: string }>('/api/auth/login', creds)).access_token;
      ({ ticket } = await post<{ ticket: string }>('/api/ws-ticket', {}, token));
    }
    // After a disconnect, ask the gateway to replay what was missed (epoch + last position).
    const resume = epoch !== undefined && lastPosition >= 0 ? `&epoch=${encodeURIComponent(epoch)}&position=${lastPosition}` : '';
    const socket = new WebSocket(`${input.gatewayUrl.replace(/^http/, 'ws')}/ws?ticket=${encodeURIComponent(ticket)}${resume}`);
    ws = socket;
    await new Promise<void>((resolve, reject) => {
      socket.on('message', (data: Buffer) => {
        const at = Date.now();
        stats.messages++;
        const msg = JSON.parse(data.toString()) as UpdateMessage;
        if (msg.type === 'hello') { epoch ??= msg.epoch; resolve(); return; }
        // The first snapshot is how every fresh client starts; a later one means it could not be resumed.
        if (msg.type === 'resync' && lastPosition >= 0) stats.resyncs++;
        const isUpdate = msg.type === 'alarm.new' || msg.type === 'alarm.updated';
        if (!isUpdate && msg.type !== 'skip') return;
        if (isUpdate) stats.updates++;
        if (typeof msg.position === 'number') {
          if (lastPosition >= 0 && msg.position > lastPosition + 1) stats.positionGaps += msg.position - lastPosition - 1;
          if (msg.position <= lastPosition) stats.outOfOrder++;
          else lastPosition = msg.position;
        }
        for (const e of msg.alarm?.events ?? []) {
          stats.events++;
          pending.push([client, e.event_id, e.trace?.id ?? null, at]);
        }
      });
      socket.on('error', (err) => reject(err));
      socket.on('close', (code: number, reason: Buffer) => {
        if (stopping) return;
        stats.disconnects++;
        stats.closeReasons.push(`${code} ${reason.toString()}`.trim());
        // Keep watching: what was missed while away shows as lost (the gateway has no resume yet).
        setTimeout(() => void connect().catch((err: Error) => stats.closeReasons.push(`reconnect failed: ${err.message}`)), 250);
      });
    });
  };

  return { stats, ready: connect(), close: () => ws?.close() };
}

const clients = input.creds.map((c, i) => startClient(i, c));
const flush = (): void => {
  if (pending.length === 0) return;
  port.postMessage({ type: 'arrivals', rows: pending } satisfies WorkerMessage);
  pending = [];
};
const timer = setInterval(flush, 200);

Promise.all(clients.map((c) => c.ready)).then(
  () => port.postMessage({ type: 'ready' } satisfies WorkerMessage),
  (err: Error) => port.postMessage({ type: 'failed', message: err.message } satisfies WorkerMessage),
);

port.on('message', (m: { type: string }) => {
  if (m.type !== 'stop') return;
  stopping = true;
  clearInterval(timer);
  flush();
  for (const c of clients) c.close();
  port.postMessage({ type: 'stopped', stats: clients.map((c) => c.stats) } satisfies WorkerMessage);
});
