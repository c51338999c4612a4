import type { AlarmUpdate } from '../schemas/index.ts';
import { isAlarmMessage, type Recorded, type StreamEvent, type StreamMessage } from './messages.ts';

export interface SocketLike {
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

/** Close codes a client acts on: both mean "reconnect and resume with your last epoch and position". */
export const CLOSE_RESTART = 1012;
export const CLOSE_TOO_SLOW = 1013;

/** Heartbeats without progress after which a session that is not live is closed. */
const STALLED_BEATS = 2;

export interface SessionOptions {
  socket: SocketLike;
  epoch: string;
  visible: (m: StreamMessage) => boolean;
  /** Socket backlog above which live updates are coalesced and a catch-up pauses. */
  slowBytes: number;
  /** Socket backlog above which the client is disconnected. */
  maxBytes: number;
  /** Distinct coalesced entries above which the client is disconnected. */
  maxCoalesced: number;
  /**
   * The session needs a fresh snapshot: the live stream jumped a position this instance did not record
   * (`gap`), or a catch-up fell too far behind the live stream (`overflow`). The caller calls `resync`.
   */
  onResyncNeeded: (reason: 'gap' | 'overflow') => void;
  /** The client was disconnected for reading too slowly. */
  onTooSlow?: () => void;
  /** The client was disconnected because its session made no progress for two heartbeats (state it was in). */
  onStalled?: (state: string) => void;
  /** Events held while catching up (and while a snapshot is read) before giving up on the catch-up. */
  maxQueued?: number;
  maxVersions?: number;
  drainCheckMs?: number;
}

type State = 'starting' | 'catching-up' | 'live' | 'coalescing' | 'closed';

/** An alarm message is the same for every client that sees it: serialized once, not once per socket. */
const texts = new WeakMap<object, string>();
function serialized(msg: StreamMessage): string {
  let t = texts.get(msg);
  if (t === undefined) { t = JSON.stringify(msg); texts.set(msg, t); }
  return t;
}

/**
 * One WebSocket client's view of the stream. Positions are processed strictly in order: `observed` is
 * the last stream position this session has seen (visible to the client or not), `cursor` the position
 * the client has reached (everything visible up to it was sent, or superseded by a newer version that
 * was).
 *  - starting: the live stream is held while the caller reads a replay or a snapshot;
 *  - catching-up: the replay, then what arrived meanwhile, sent as fast as the socket drains;
 *  - live: sent as it comes; a reader that falls behind is coalesced (latest version per alarm, latest
 *    state per panel) and disconnected when even that grows too large or its socket backlog does.
 * Every queue is bounded, so the memory a client can hold is bounded.
 */
export class StreamSession {
  private state: State = 'starting';
  private queue: StreamEvent[] = [];
  private head = 0; // index of the next queued event (shift() would be O(n))
  private coalesced = new Map<string, StreamMessage>();
  private versions = new Map<number, number>();
  private observed = -1;
  private cursor = -1;
  private timer: NodeJS.Timeout | undefined;
  private beatCursor = -1;
  private stalledBeats = 0;
  private readonly maxQueued: number;
  private readonly maxVersions: number;

  constructor(private readonly o: SessionOptions) {
    this.maxQueued = o.maxQueued ?? 20_000;
    this.maxVersions = o.maxVersions ?? 5_000;
  }

  get position(): number { return this.cursor; }
  get mode(): State { return this.state; }
  get queued(): number { return this.queue.length - this.head + this.coalesced.size; }

  /** Live stream input. */
  push(ev: StreamEvent): void {
    if (this.state === 'closed') return;
    if (this.state === 'starting' || this.state === 'catching-up') {
      this.queue.push(ev);
      if (this.queue.length - this.head <= this.maxQueued) { if (this.state === 'catching-up') this.pump(); return; }
      if (this.state === 'starting') { this.closeSlow(); return; }
      // The catch-up cannot keep pace with the live stream: drop it and start again from a snapshot.
      this.suspend();
      this.o.onResyncNeeded('overflow');
      return;
    }
    this.handle(ev);
  }

  /** Starts delivery: `cursor` is where the client is, `observed` where this session's stream view starts; replayed positions first. */
  begin(start: { cursor: number; observed: number; hello: Record<string, unknown> }, replay: readonly Recorded[] = []): void {
    if (this.state === 'closed') return;
    this.cursor = start.cursor;
    this.observed = start.observed;
    this.sendRaw({ type: 'hello', epoch: this.o.epoch, position: this.cursor, ...start.hello });
    const held = this.queue.slice(this.head);
    this.queue = [...replay.map((r): StreamEvent => r.msg ?? { type: 'skip', epoch: this.o.epoch, position: r.position }), ...held];
    this.head = 0;
    this.catchUp();
  }

  /** Replaces the client's view with a snapshot of open alarms at stream position `head`. */
  resync(snapshot: { alarms: AlarmUpdate[]; truncated: boolean }, head: number, reason: string, hello?: Record<string, unknown>): void {
    if (this.state === 'closed') return;
    this.cursor = head;
    this.observed = head;
    this.coalesced.clear();
    this.versions.clear();
    for (const a of snapshot.alarms.slice(-this.maxVersions)) this.versions.set(a.alarm_id, a.version);
    if (hello) this.sendRaw({ type: 'hello', epoch: this.o.epoch, position: head, ...hello });
    this.sendRaw({ type: 'resync', epoch: this.o.epoch, position: head, reason, truncated: snapshot.truncated, alarms: snapshot.alarms });
    this.catchUp();
  }

  /**
   * Called every ping interval. A live session gets a heartbeat; any other state must show progress (its
   * cursor moving) between two calls, else the client is told to reconnect: a catch-up or a coalesced
   * backlog that no longer drains, or a snapshot read that never came back, does not hold memory forever.
   */
  heartbeat(): void {
    if (this.state === 'closed') return;
    if (this.state === 'live') {
      this.stalledBeats = 0;
      this.sendRaw({ type: 'heartbeat', epoch: this.o.epoch, position: this.cursor });
      return;
    }
    if (this.cursor !== this.beatCursor) {
      this.beatCursor = this.cursor;
      this.stalledBeats = 0;
      return;
    }
    if (++this.stalledBeats < STALLED_BEATS) return;
    this.o.onStalled?.(this.state);
    this.hangUp('no progress: reconnect and resume');
  }

  /**
   * An answer to the client (pong, error). It counts against the same backlog limit as the stream, and is
   * left out while the socket is backed up: a client that pings without reading cannot grow the buffer.
   */
  reply(msg: object): void {
    if (this.o.socket.bufferedAmount > this.o.slowBytes) return;
    this.sendRaw(msg);
  }

  close(): void {
    this.state = 'closed';
    this.stopTimer();
    this.queue = [];
    this.head = 0;
    this.coalesced.clear();
    this.versions.clear();
  }

  /** Holds the live stream again (while the caller prepares a resync); what was queued is dropped. */
  private suspend(): void {
    this.stopTimer();
    this.coalesced.clear();
    this.queue = [];
    this.head = 0;
    this.state = 'starting';
  }

  private catchUp(): void {
    if (this.state === 'closed') return;
    this.state = 'catching-up';
    this.pump();
  }

  /** Sends queued events while the socket keeps up; resumes on the drain timer; goes live when empty. */
  private pump(): void {
    while (this.state === 'catching-up' && this.head < this.queue.length) {
      if (this.o.socket.bufferedAmount > this.o.slowBytes) { this.startTimer(); return; }
      this.handle(this.queue[this.head++]!);
    }
    if (this.state !== 'catching-up') return;
    this.queue = [];
    this.head = 0;
    this.stopTimer();
    this.state = 'live';
  }

  private handle(ev: StreamEvent): void {
    if (ev.type === 'panel.state' || ev.type === 'command.result') {
      if (this.o.visible(ev)) this.deliver(ev);
      return;
    }
    if (ev.position <= this.observed) return; // already seen (replay/live overlap, or a second writer)
    if (ev.position > this.observed + 1) {
      this.suspend();
      this.queue.push(ev);
      this.o.onResyncNeeded('gap');
      return;
    }
    this.observed = ev.position;
    if (ev.type === 'skip' || ev.position <= this.cursor || !this.o.visible(ev)) { this.advance(ev.position); return; }
    const { alarm_id: id, version } = ev.alarm;
    if ((this.versions.get(id) ?? 0) >= version) { this.advance(ev.position); return; } // duplicate or stale version
    this.versions.delete(id);
    this.versions.set(id, version);
    if (this.versions.size > this.maxVersions) this.versions.delete(this.versions.keys().next().value!);
    this.deliver(ev);
  }

  private advance(position: number): void {
    if ((this.state === 'live' || this.state === 'catching-up') && position > this.cursor) this.cursor = position;
  }

  private deliver(msg: StreamMessage): void {
    if (this.state === 'coalescing' || (this.state === 'live' && this.o.socket.bufferedAmount > this.o.slowBytes)) {
      this.coalesce(msg);
      return;
    }
    this.send(msg);
  }

  private send(msg: StreamMessage): void {
    if (isAlarmMessage(msg)) {
      this.cursor = Math.max(this.cursor, msg.position);
      this.sendText(serialized(msg));
    } else {
      this.sendRaw({ ...msg, epoch: this.o.epoch, position: this.cursor });
    }
  }

  private sendRaw(msg: object): void {
    this.sendText(JSON.stringify(msg));
  }

  private sendText(text: string): void {
    if (this.state === 'closed') return;
    this.o.socket.send(text);
    if (this.o.socket.bufferedAmount > this.o.maxBytes) this.closeSlow();
  }

  private coalesce(msg: StreamMessage): void {
    if (this.state !== 'coalescing') {
      this.state = 'coalescing';
      this.startTimer();
    }
    const key = isAlarmMessage(msg) ? `a${msg.alarm.alarm_id}` : msg.type === 'panel.state' ? `p${msg.panel_id}` : `c${msg.result.command_id}`;
    this.coalesced.delete(key);
    this.coalesced.set(key, msg);
    if (this.coalesced.size > this.o.maxCoalesced) this.closeSlow();
  }

  private onTick(): void {
    if (this.o.socket.bufferedAmount > this.o.slowBytes / 2) return;
    if (this.state === 'catching-up') { this.pump(); return; }
    if (this.state !== 'coalescing') { this.stopTimer(); return; }
    // Drained: what was coalesced goes out, alarms in position order, then the rest.
    this.stopTimer();
    const all = [...this.coalesced.values()];
    this.coalesced.clear();
    this.state = 'live';
    const alarms = all.filter(isAlarmMessage).sort((a, b) => a.position - b.position);
    for (const msg of [...alarms, ...all.filter((x) => !isAlarmMessage(x))]) this.send(msg);
    // Positions the client was not shown (invisible, skipped) while coalescing are covered too.
    this.advance(this.observed);
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.onTick(), this.o.drainCheckMs ?? 20);
    this.timer.unref?.();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private closeSlow(): void {
    if (this.state === 'closed') return;
    this.o.onTooSlow?.();
    this.hangUp('too slow: reconnect and resume');
  }

  /** Closes with 1013 (reconnect and resume); a client that does not even read the close frame is cut after 5 s. */
  private hangUp(reason: string): void {
    this.close();
    this.o.socket.close(CLOSE_TOO_SLOW, reason);
    setTimeout(() => this.o.socket.terminate(), 5_000).unref?.();
  }
}
