import WebSocket from 'ws';
import type { Kafka, Producer } from 'kafkajs';
import { createProducer } from '../../platform/index.ts';
import { codecFor, topicName, type AlarmUpdate } from '../../schemas/index.ts';

export interface Msg { type: string; epoch: string; position: number; alarm?: AlarmUpdate; alarms?: AlarmUpdate[]; reason?: string; resume?: string; [k: string]: unknown }

export interface StreamClient {
  ws: WebSocket;
  messages: Msg[];
  /** Alarm messages only, as "id:version". */
  updates(): string[];
  last(): { epoch: string; position: number };
  waitFor(match: (m: Msg) => boolean, timeoutMs?: number): Promise<Msg>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export async function ticketFor(base: string, token: string): Promise<string> {
  const res = await fetch(`${base}/api/ws-ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`ticket: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { ticket: string }).ticket;
}

/** A WebSocket client of /ws that records everything; `resume` gives the epoch and position to continue from. */
export async function connectStream(base: string, token: string, opts: { resume?: { epoch: string; position: number }; query?: string; ws?: WebSocket.ClientOptions } = {}): Promise<StreamClient> {
  const ticket = await ticketFor(base, token);
  const qs = new URLSearchParams({ ticket, ...(opts.resume ? { epoch: opts.resume.epoch, position: String(opts.resume.position) } : {}) });
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws?${qs.toString()}${opts.query ?? ''}`, opts.ws);
  const messages: Msg[] = [];
  const waiters: { match: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as Msg;
    messages.push(m);
    for (const w of [...waiters]) if (w.match(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  return {
    ws, messages, closed,
    updates: () => messages.filter((m) => m.alarm).map((m) => `${m.alarm!.alarm_id}:${m.alarm!.version}`),
    last() {
      const withPos = messages.filter((m) => m.type !== 'pong' && m.type !== 'error');
      const l = withPos[withPos.length - 1];
      if (!l) throw new Error('no message yet');
      return { epoch: l.epoch, position: l.position };
    },
    waitFor(match, timeoutMs = 30_000) {
      const seen = messages.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; ${messages.length} received, last: ${JSON.stringify(messages.slice(-2)).slice(0, 500)}`)), timeoutMs);
        waiters.push({ match, resolve: (m) => { clearTimeout(t); resolve(m); } });
      });
    },
    async close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
      await closed;
    },
  };
}

export function alarmUpdate(id: number, version: number, objectId: number, over: Partial<AlarmUpdate> = {}): AlarmUpdate {
  return {
    alarm_id: id, version, object_id: objectId, panel_id: null, source: 'satel', zone: 1, category: 'zone-violation', severity: 'WARNING',
    status: 'NEW', owner: null, event_count: version, restore_count: 0, first_event_at: Date.now(), last_event_at: Date.now(), test: false,
    service: false, flood: false, title: `alarm ${id}`, updated_at: Date.now(), events: [], ...over,
  };
}

/** Writes AlarmUpdates to the test's alarm.updates.v1 as the outbox relay would. */
export async function updatePublisher(kafka: Kafka, prefix: string): Promise<{ producer: Producer; publish(list: AlarmUpdate[]): Promise<void>; close(): Promise<void> }> {
  const producer = await createProducer(kafka);
  const topic = topicName('alarm.updates.v1', prefix);
  const codec = codecFor('AlarmUpdate');
  return {
    producer,
    async publish(list) {
      for (let i = 0; i < list.length; i += 200) {
        await producer.send({ topic, acks: -1, messages: list.slice(i, i + 200).map((u) => ({ key: String(u.alarm_id), value: codec.encode(u) })) });
      }
    },
    close: () => producer.disconnect(),
  };
}

/** `count` updates over `alarms` alarms (ids from `firstId`), versions rising per alarm, round-robin. */
export function updateSeries(firstId: number, alarms: number, count: number, objectOf: (id: number) => number, startVersion = 1): AlarmUpdate[] {
  const version = new Map<number, number>();
  return Array.from({ length: count }, (_, i) => {
    const id = firstId + (i % alarms);
    const v = (version.get(id) ?? startVersion - 1) + 1;
    version.set(id, v);
    return alarmUpdate(id, v, objectOf(id));
  });
}
