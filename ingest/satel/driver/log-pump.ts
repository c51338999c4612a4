import { performance } from 'node:perf_hooks';
import { keepsLink, type Logger } from '../../../platform/index.ts';
import type { SatelEvent, Trace } from '../../../schemas/index.ts';
import type { PanelConnection } from './connection.ts';
import type { CursorStore } from './cursor.ts';
import { decodeEventTextAnswer, encodeEventTextRequest } from '../protocol/index.ts';
import { logEventOf } from './log-events.ts';
import { createLogWalk, type LogCursor, type LogEntry, type LogWalk } from './log-reader.ts';
import { metrics as m } from './metrics.ts';

interface LogPumpDeps {
  panelId: number;
  port: number;
  fencing: number;
  logCatchUpMax: number;
  /** Time a poll cycle may spend reading the log; a longer catch-up continues in the next cycles. */
  readBudgetMs: number;
  log: Logger;
  cursors: CursorStore;
  checkLease: () => void;
  produce: (events: SatelEvent[]) => Promise<void>;
  /** Event texts (0x8F) by language, code and restore flag, shared by all pollers. */
  texts: Map<string, string | null>;
  traces?: ((port: number, indices: readonly number[]) => Promise<(Trace | null)[]>) | undefined;
  onCursor: (c: LogCursor) => void;
  onGap: () => void;
}

const PRODUCE_CHUNK = 500;
const RETRY_MS = 1_000;

/**
 * The event-log pipeline of one panel, in two halves that run side by side: `read()` (on the poll cycle,
 * needs the link) takes the records after the last one read and turns them into events; the produce loop
 * (`kick()`, never awaited by the poll cycle) sends them in order and moves the cursor only after each
 * batch was acknowledged. So a slow or absent broker never slows the polling — the panel stays polled at
 * its interval and its live state fresh — while the cursor still never passes an unacknowledged event.
 * At most `logCatchUpMax` records wait; then reading pauses until the broker catches up.
 */
export function createLogPump(d: LogPumpDeps) {
  let cursor: LogCursor | undefined;
  let readHead: LogCursor | undefined;
  let walk: { w: LogWalk; from: LogCursor | undefined } | undefined;
  const pending: { entry: LogEntry; event: SatelEvent }[] = [];
  let inFlight: Promise<void> | undefined;
  let retryAt = 0;
  let stopped = false;
  let leaseLost: ((err: Error) => void) | undefined;

  async function textOf(c: PanelConnection, language: number, e: LogEntry): Promise<string | null> {
    const k = `${language}:${e.record.code}:${e.record.restore ? 1 : 0}`;
    if (d.texts.has(k)) return d.texts.get(k)!;
    let text: string | null = null;
    try {
      text = decodeEventTextAnswer(await c.request(encodeEventTextRequest({ code: e.record.code, restore: e.record.restore, long: true }))).text.trim();
    } catch (err) {
      // The link itself is fine (keepsLink): the event goes out without a text.
      if (!keepsLink(err)) throw err;
    }
    d.texts.set(k, text);
    return text;
  }

  async function produceLoop(): Promise<void> {
    while (pending.length > 0 && !stopped) {
      const chunk = pending.slice(0, PRODUCE_CHUNK);
      const events = chunk.map((p) => p.event);
      if (d.traces) {
        const traces = await d.traces(d.port, chunk.map((p) => p.entry.index)).catch(() => [] as (Trace | null)[]);
        events.forEach((e, i) => { e.trace = traces[i] ?? null; });
      }
      try {
        d.checkLease();
        await d.produce(events);
      } catch (err) {
        if ((err as { code?: string }).code === 'E_SATEL_LEASE') throw err;
        retryAt = performance.now() + RETRY_MS;
        d.log.warn({ err: (err as Error).message, records: pending.length }, 'broker did not acknowledge; the cursor stays and the records are sent again');
        return;
      }
      const ackedAt = Date.now();
      const kinds = new Map<string, number>();
      for (const e of events) {
        kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
        if (e.trace) m.tracedAge.observe((ackedAt - e.trace.origin_ms) / 1000);
      }
      for (const [kind, n] of kinds) m.events.inc({ kind }, n);
      pending.splice(0, chunk.length);
      const last = chunk[chunk.length - 1]!.entry;
      cursor = { index: last.index, key: last.key };
      d.onCursor(cursor);
      // Not awaited (cursor writes of all panels go out together); a newer driver's cursor ends this one.
      d.cursors.save(d.panelId, cursor, d.fencing).catch((err: Error) => leaseLost?.(err));
    }
  }

  return {
    get pendingRecords() { return pending.length; },

    /** Loads the stored cursor (a new link: anything read but unacknowledged before is read again). */
    async open(): Promise<void> {
      pending.length = 0;
      readHead = undefined;
      walk = undefined;
      stopped = false;
      cursor = await d.cursors.load(d.panelId);
      if (cursor) d.onCursor(cursor);
    },

    /** True while a catch-up is only partly read: the next cycle should go on reading. */
    get walking() { return walk !== undefined; },

    /**
     * Reads the records after the newest one read (or the cursor) and queues their events; a catch-up longer
     * than the read budget is continued on the next call.
     */
    async read(c: PanelConnection, language: number): Promise<void> {
      if (!walk) {
        if (pending.length >= d.logCatchUpMax) return;
        const from = pending.length > 0 || inFlight ? readHead ?? cursor : cursor;
        walk = { w: createLogWalk(from, { panelId: d.panelId, max: d.logCatchUpMax - pending.length, currentYear: new Date().getFullYear() }), from };
      }
      const until = performance.now() + d.readBudgetMs;
      const request = (msg: Parameters<PanelConnection['request']>[0]) => c.request(msg);
      do await walk.w.step(request, 1); while (!walk.w.done && performance.now() < until);
      if (!walk.w.done) return;
      const { from } = walk;
      const r = walk.w.result();
      walk = undefined;
      m.logRecords.inc(r.entries.length);
      if (r.gap) {
        d.onGap();
        m.logGaps.inc();
        d.log.warn({ gap: r.gap, read: r.entries.length }, 'event-log records may be missing');
      }
      if (from === undefined || (pending.length === 0 && !inFlight && r.entries.length === 0 && r.head.index !== cursor?.index)) {
        // First sight (history is not replayed as new alarms) or a cleared log: the cursor moves without events.
        d.checkLease();
        await d.cursors.save(d.panelId, r.head, d.fencing);
        cursor = r.head;
        readHead = r.head;
        d.onCursor(cursor);
        d.log.info({ index: cursor.index }, from === undefined ? 'event-log cursor set at the newest record (first sight)' : 'event-log cursor reset');
        return;
      }
      if (r.entries.length === 0) return;
      const observedAt = Date.now();
      for (const entry of r.entries) {
        const text = await textOf(c, language, entry);
        pending.push({ entry, event: logEventOf(entry, { panelId: d.panelId, fencing: d.fencing, observedAt, text }) });
      }
      readHead = r.head;
    },

    /** Starts the produce loop unless it runs, or waits out a broker failure. */
    kick(onLeaseLost: (err: Error) => void): void {
      leaseLost = onLeaseLost;
      if (inFlight || pending.length === 0 || performance.now() < retryAt) return;
      inFlight = produceLoop().catch((err: Error) => {
        if ((err as { code?: string }).code === 'E_SATEL_LEASE') onLeaseLost(err);
        else d.log.error({ err: err.message }, 'event-log produce loop failed');
      }).finally(() => { inFlight = undefined; });
    },

    /** Link gone: stop after the batch in flight (its ack still moves the cursor) and wait for it. */
    async close(): Promise<void> {
      stopped = true;
      await inFlight;
    },
  };
}

export type LogPump = ReturnType<typeof createLogPump>;
