import { describe, expect, it, vi } from 'vitest';
import type { AlarmUpdate } from '../schemas/index.ts';
import { isAlarmMessage, type AlarmMessage, type StreamMessage } from './messages.ts';
import { CLOSE_TOO_SLOW, StreamSession } from './session.ts';

const EPOCH = 'e1';

function alarm(id: number, version: number, objectId = 1): AlarmUpdate {
  return {
    alarm_id: id, version, object_id: objectId, panel_id: 1, source: 'satel', zone: 1, category: 'zone-violation', severity: 'WARNING',
    status: 'NEW', owner: null, event_count: 1, restore_count: 0, first_event_at: 0, last_event_at: 0, test: false, service: false,
    flood: false, title: 't', updated_at: 0, events: [],
  };
}
const msg = (position: number, id: number, version: number, objectId = 1): AlarmMessage =>
  ({ type: version === 1 ? 'alarm.new' : 'alarm.updated', epoch: EPOCH, position, alarm: alarm(id, version, objectId) });

type Sent = { type: string; position: number; alarm: { alarm_id: number; version: number } } & Record<string, unknown>;

function fakeSocket() {
  return {
    bufferedAmount: 0,
    sent: [] as Sent[],
    closed: undefined as { code: number; reason: string } | undefined,
    send(data: string) { this.sent.push(JSON.parse(data) as Sent); },
    close(code: number, reason: string) { this.closed = { code, reason }; },
    terminate() { /* not needed */ },
  };
}

function session(opts: { visible?: (m: StreamMessage) => boolean; onResyncNeeded?: (r: string) => void; maxCoalesced?: number; maxQueued?: number } = {}) {
  const socket = fakeSocket();
  const s = new StreamSession({
    socket, epoch: EPOCH, visible: opts.visible ?? (() => true), slowBytes: 1000, maxBytes: 10_000,
    maxCoalesced: opts.maxCoalesced ?? 100, onResyncNeeded: opts.onResyncNeeded ?? (() => undefined), maxQueued: opts.maxQueued ?? 1000, drainCheckMs: 5,
  });
  const alarms = () => socket.sent.filter((m) => m.type === 'alarm.new' || m.type === 'alarm.updated').map((m) => `${m.alarm.alarm_id}v${m.alarm.version}@${m.position}`);
  return { s, socket, alarms };
}

describe('stream session', () => {
  it('sends live updates in order, after a hello with the epoch and position', () => {
    const { s, socket, alarms } = session();
    s.begin({ cursor: 9, observed: 9, hello: { resume: 'live' } });
    s.push(msg(10, 1, 1));
    s.push(msg(11, 1, 2));
    expect(socket.sent[0]).toEqual({ type: 'hello', epoch: EPOCH, position: 9, resume: 'live' });
    expect(alarms()).toEqual(['1v1@10', '1v2@11']);
    expect(s.position).toBe(11);
  });

  it('joins a replay and the live stream that arrived meanwhile: every position once, in order', () => {
    const { s, alarms } = session();
    // Live updates arrive while the buffer is being read; the buffer overlaps them.
    s.push(msg(13, 3, 1));
    s.push(msg(14, 1, 3));
    s.begin({ cursor: 10, observed: 10, hello: {} }, [11, 12, 13].map((p, i) => ({ position: p, msg: msg(p, [1, 2, 3][i]!, [2, 1, 1][i]!) })));
    s.push(msg(15, 2, 2));
    expect(alarms()).toEqual(['1v2@11', '2v1@12', '3v1@13', '1v3@14', '2v2@15']);
  });

  it('a version already sent (the relay published it twice) is not sent again, but its position counts', () => {
    const { s, alarms } = session();
    s.begin({ cursor: 0, observed: 0, hello: {} });
    s.push(msg(1, 1, 1));
    s.push(msg(2, 1, 1));
    s.push({ type: 'skip', epoch: EPOCH, position: 3 });
    expect(alarms()).toEqual(['1v1@1']);
    s.heartbeat();
    expect(s.position).toBe(3);
  });

  it('invisible updates (another object, test alarms) are not sent; the position still advances', () => {
    const { s, socket, alarms } = session({ visible: (m) => (isAlarmMessage(m) ? m.alarm.object_id : m.object_id) === 1 });
    s.begin({ cursor: 0, observed: 0, hello: {} });
    s.push(msg(1, 1, 1, 1));
    s.push(msg(2, 2, 1, 2));
    s.push({ type: 'panel.state', epoch: EPOCH, position: 0, panel_id: 5, object_id: 2, state: {}, link: 'up', last_seen: 1 });
    s.push({ type: 'panel.state', epoch: EPOCH, position: 0, panel_id: 4, object_id: 1, state: {}, link: 'up', last_seen: 1 });
    expect(alarms()).toEqual(['1v1@1']);
    expect(s.position).toBe(2);
    // Panel states carry the position the client has reached, not a stream position of their own.
    expect(socket.sent.filter((m) => m.type === 'panel.state')).toEqual([expect.objectContaining({ panel_id: 4, position: 2, epoch: EPOCH })]);
  });

  it('a client that was ahead of this instance gets only positions beyond its own', () => {
    const { s, alarms } = session();
    s.begin({ cursor: 12, observed: 10, hello: {} });
    s.push(msg(11, 1, 1));
    s.push(msg(12, 1, 2));
    s.push(msg(13, 1, 3));
    expect(alarms()).toEqual(['1v3@13']);
  });

  it('a hole in the live stream is never passed over: the session stops and asks for a resync', () => {
    const onResyncNeeded = vi.fn();
    const { s, socket, alarms } = session({ onResyncNeeded });
    s.begin({ cursor: 0, observed: 0, hello: {} });
    s.push(msg(1, 1, 1));
    s.push(msg(3, 2, 1));
    expect(onResyncNeeded).toHaveBeenCalledExactlyOnceWith('gap');
    expect(s.mode).toBe('starting');
    s.push(msg(4, 2, 2));
    s.resync({ alarms: [alarm(1, 1), alarm(2, 1)], truncated: false }, 3, 'gap');
    expect(socket.sent.at(-2)).toMatchObject({ type: 'resync', position: 3, reason: 'gap', alarms: [{ alarm_id: 1 }, { alarm_id: 2 }] });
    expect(alarms()).toEqual(['1v1@1', '2v2@4']);
  });

  it('a slow reader is coalesced: once drained it gets the latest version of each alarm in position order', async () => {
    const { s, socket, alarms } = session();
    s.begin({ cursor: 0, observed: 0, hello: {} });
    s.push(msg(1, 1, 1));
    socket.bufferedAmount = 5000; // above slowBytes
    s.push(msg(2, 2, 1));
    s.push(msg(3, 1, 2));
    s.push(msg(4, 2, 2));
    s.push(msg(5, 1, 3));
    expect(s.mode).toBe('coalescing');
    expect(alarms()).toEqual(['1v1@1']);
    socket.bufferedAmount = 0;
    await vi.waitFor(() => expect(s.mode).toBe('live'));
    expect(alarms()).toEqual(['1v1@1', '2v2@4', '1v3@5']);
    expect(s.position).toBe(5);
  });

  it('a reader that stays slow is disconnected with "reconnect and resume", and its queue is freed', () => {
    const { s, socket } = session({ maxCoalesced: 10 });
    s.begin({ cursor: 0, observed: 0, hello: {} });
    socket.bufferedAmount = 5000;
    for (let i = 1; i <= 11; i++) s.push(msg(i, i, 1));
    expect(socket.closed).toEqual({ code: CLOSE_TOO_SLOW, reason: 'too slow: reconnect and resume' });
    expect(s.queued).toBe(0);
    s.push(msg(12, 12, 1));
    expect(s.queued).toBe(0);
  });

  it('a socket backlog above the hard limit disconnects at once', () => {
    const { s, socket } = session();
    s.begin({ cursor: 0, observed: 0, hello: {} });
    Object.defineProperty(socket, 'bufferedAmount', { get: () => (socket.sent.length > 1 ? 20_000 : 0) });
    s.push(msg(1, 1, 1));
    expect(socket.closed?.code).toBe(CLOSE_TOO_SLOW);
  });

  it('the queue held while a snapshot or replay is read is bounded', () => {
    const { s, socket } = session({ maxQueued: 5 });
    for (let i = 1; i <= 6; i++) s.push(msg(i, i, 1));
    expect(socket.closed?.code).toBe(CLOSE_TOO_SLOW);
    expect(s.queued).toBe(0);
  });

  it('a replay is paced by the socket: it pauses while the client reads, never coalesces or disconnects, and loses nothing', async () => {
    const { s, socket, alarms } = session({ maxCoalesced: 2 });
    let budget = 3; // the socket accepts three messages, then looks full until the test drains it
    Object.defineProperty(socket, 'bufferedAmount', { get: () => (budget > 0 ? 0 : 5000) });
    const send = socket.send.bind(socket);
    socket.send = (d: string) => { budget--; send(d); };
    s.begin({ cursor: 0, observed: 0, hello: {} }, Array.from({ length: 10 }, (_, i) => ({ position: i + 1, msg: msg(i + 1, i + 1, 1) })));
    expect(s.mode).toBe('catching-up');
    s.push(msg(11, 11, 1)); // live meanwhile
    expect(alarms()).toHaveLength(2);
    for (let round = 0; round < 10 && s.mode !== 'live'; round++) {
      budget = 3;
      await new Promise((r) => setTimeout(r, 15));
    }
    expect(s.mode).toBe('live');
    expect(socket.closed).toBeUndefined();
    expect(alarms()).toEqual(Array.from({ length: 11 }, (_, i) => `${i + 1}v1@${i + 1}`));
  });

  it('a catch-up that falls too far behind the live stream asks for a snapshot instead', () => {
    const onResyncNeeded = vi.fn();
    const { s, socket } = session({ onResyncNeeded, maxQueued: 5 });
    Object.defineProperty(socket, 'bufferedAmount', { get: () => 5000 });
    s.begin({ cursor: 0, observed: 0, hello: {} }, [{ position: 1, msg: msg(1, 1, 1) }]);
    for (let i = 2; i <= 7; i++) s.push(msg(i, i, 1));
    expect(onResyncNeeded).toHaveBeenCalledExactlyOnceWith('overflow');
    expect(s.mode).toBe('starting');
    expect(socket.closed).toBeUndefined();
  });

  it('a session that is not live must progress between heartbeats: a snapshot that never comes, or a backlog that never drains, ends it', () => {
    // Waiting for a snapshot read: two heartbeats without progress, then "reconnect and resume".
    const waiting = session();
    waiting.s.heartbeat();
    expect(waiting.socket.closed).toBeUndefined();
    waiting.s.heartbeat();
    expect(waiting.socket.closed).toEqual({ code: CLOSE_TOO_SLOW, reason: 'no progress: reconnect and resume' });
    expect(waiting.s.mode).toBe('closed');

    // Coalescing: the socket never drains below the slow mark.
    const stuck = session();
    stuck.s.begin({ cursor: 0, observed: 0, hello: {} });
    Object.defineProperty(stuck.socket, 'bufferedAmount', { get: () => 5000 });
    stuck.s.push(msg(1, 1, 1));
    expect(stuck.s.mode).toBe('coalescing');
    stuck.s.heartbeat(); // records where it is
    stuck.s.heartbeat();
    expect(stuck.socket.closed).toBeUndefined();
    stuck.s.heartbeat();
    expect(stuck.socket.closed?.code).toBe(CLOSE_TOO_SLOW);
  });

  it('a catch-up that is slow but moving is left alone; a live session gets heartbeats and is never cut by them', async () => {
    const { s, socket } = session();
    let drained = 0; // the client reads 1200 bytes per heartbeat interval; every message is 600
    Object.defineProperty(socket, 'bufferedAmount', { get: () => Math.max(0, socket.sent.length * 600 - drained) });
    s.begin({ cursor: 0, observed: 0, hello: {} }, Array.from({ length: 10 }, (_, i) => ({ position: i + 1, msg: msg(i + 1, i + 1, 1) })));
    let beats = 0;
    while (s.mode !== 'live' && beats < 50) {
      drained += 1200;
      await new Promise((r) => setTimeout(r, 15));
      s.heartbeat();
      beats++;
      expect(socket.closed).toBeUndefined();
    }
    expect(beats).toBeGreaterThan(3);
    expect(s.mode).toBe('live');
    const before = socket.sent.filter((m) => m.type === 'heartbeat').length;
    for (let beat = 0; beat < 5; beat++) s.heartbeat();
    expect(socket.closed).toBeUndefined();
    expect(socket.sent.filter((m) => m.type === 'heartbeat').length - before).toBe(5);
  });

  it('answers to the client are left out while its socket is backed up, and count against the hard limit', () => {
    const { s, socket } = session();
    s.begin({ cursor: 0, observed: 0, hello: {} });
    s.reply({ type: 'pong' });
    let backlog = 2000;
    Object.defineProperty(socket, 'bufferedAmount', { get: () => backlog });
    s.reply({ type: 'pong' });
    expect(socket.sent.filter((m) => m.type === 'pong')).toHaveLength(1);
    backlog = 900; // under the slow mark: answered, but a send that takes it over the hard limit ends the session
    Object.defineProperty(socket, 'bufferedAmount', { get: () => (socket.sent.length > 3 ? 20_000 : backlog) });
    s.reply({ type: 'pong' });
    s.reply({ type: 'pong' });
    expect(socket.closed?.code).toBe(CLOSE_TOO_SLOW);
  });
});
