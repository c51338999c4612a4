/**
 * Reading a panel's event log forward from a cursor with 0x8C. The protocol only walks backwards:
 * `8C FFFFFF` gives the newest record, `8C i` the one before record i, Z = 0 ends the log. So a catch-up
 * reads newest → cursor and hands the records back oldest first, which is the order they are produced in.
 */
import { decodeReadEventAnswer, encodeReadEvent, EVENT_LOG_NEWEST, isEndOfLog, protocolError, type EventRecord, type Message } from '../protocol/index.ts';

/**
 * Where reading resumes: the newest record the broker acknowledged. `index` -1 means the log was empty
 * when first seen, so every record is new. `key` is that record's dedup key (detects a replaced log).
 */
export interface LogCursor { index: number; key: string | null }

export const EMPTY_LOG: LogCursor = { index: -1, key: null };

export interface LogEntry {
  index: number;
  record: EventRecord;
  /** The 8 record bytes as read. */
  raw: Buffer;
  /** Deterministic: the same record read again (reconnect, restart, another driver) gives the same key. */
  key: string;
}

interface LogRead {
  /** New records, oldest first. */
  entries: LogEntry[];
  /** The cursor once every entry is acknowledged (the newest record, or the old cursor when nothing is new). */
  head: LogCursor;
  /** Set when records may have been missed: the cursor was not reached (log overwritten or cleared, or more than `max` new). */
  gap?: string;
}

interface LogReadOptions {
  panelId: number;
  /** Most records read back in one call; older ones are reported as a gap. */
  max: number;
  currentYear: number;
}

/**
 * The dedup key of a log record: panel, index and the record bytes, with the S1/S2 monitoring-status bits
 * of byte 0 masked out, because the panel updates them in place once the event was reported to a
 * monitoring station — the same physical record must keep its key when those bits change.
 */
export function logRecordKey(panelId: number, index: number, raw: Uint8Array): string {
  const b = Buffer.from(raw.subarray(0, 8));
  b[0] = b[0]! & 0xf0;
  return `satel:${panelId}:log:${index}:${b.toString('hex')}`;
}

type Request = (msg: Message) => Promise<Message>;

/**
 * A read of the records after `since` that can be done in several steps, so a long catch-up (thousands of
 * records after an outage, one round trip each) can interleave with the poll cycle instead of holding it
 * up: `step(request, n)` sends at most n requests; once `done`, `result()` has the records oldest first.
 * Without a cursor (a panel never seen) nothing is returned and the head is the newest record: history
 * from before the centre knew the panel is not replayed as new alarms.
 */
export interface LogWalk {
  readonly done: boolean;
  /** Requests sent so far. */
  readonly requests: number;
  step(request: Request, maxRequests: number): Promise<void>;
  result(): LogRead;
}

export function createLogWalk(since: LogCursor | undefined, opts: LogReadOptions): LogWalk {
  let requests = 0;
  let done = false;
  /** Index to send next: the newest first, then each record's own index to get the one before it. */
  let next = EVENT_LOG_NEWEST;
  let target: LogCursor | undefined = since;
  let gap: string | undefined;
  let result: LogRead | undefined;
  const newestFirst: LogEntry[] = [];
  const seen = new Set<number>();

  const finish = (r?: LogRead): void => {
    done = true;
    if (r) { result = r; return; }
    const entries = newestFirst.reverse();
    const last = entries[entries.length - 1];
    result = { entries, head: last ? { index: last.index, key: last.key } : since!, ...(gap !== undefined ? { gap } : {}) };
  };

  async function one(request: Request): Promise<void> {
    const index = next;
    const msg = await request(encodeReadEvent(index));
    requests++;
    const answer = decodeReadEventAnswer(msg, { currentYear: opts.currentYear });
    // A late answer to an earlier request must never be taken for this one.
    if (answer.calledIndex !== index) throw protocolError(`0x8C answer for index ${answer.calledIndex} while ${index} was asked`);
    const raw = Buffer.from(msg.data.subarray(0, 8));
    if (isEndOfLog(answer)) {
      if (index === EVENT_LOG_NEWEST) {
        const cleared = since !== undefined && since.index >= 0;
        finish({ entries: [], head: EMPTY_LOG, ...(cleared ? { gap: `the log is empty although the cursor is at ${since.index} (log cleared?)` } : {}) });
        return;
      }
      if (target && target.index >= 0) gap ??= `cursor ${target.index} not reached before the oldest record (log overwritten or cleared)`;
      finish();
      return;
    }
    const entry: LogEntry = { index: answer.eventIndex, record: answer.record, raw, key: logRecordKey(opts.panelId, answer.eventIndex, raw) };
    if (since === undefined) { finish({ entries: [], head: { index: entry.index, key: entry.key } }); return; }
    if (target && entry.index === target.index) {
      if (target.key === null || target.key === entry.key) { finish(); return; }
      // The cursor's index now holds another record: the log was replaced. Read on; keys make re-reads harmless.
      gap = `the record at cursor ${target.index} changed (log cleared or panel replaced)`;
      target = undefined;
    }
    if (seen.has(entry.index)) throw protocolError(`0x8C walk returned index ${entry.index} twice`);
    seen.add(entry.index);
    newestFirst.push(entry);
    if (newestFirst.length >= opts.max) {
      gap ??= `more than ${opts.max} records since cursor ${since.index}; older ones were not read`;
      finish();
      return;
    }
    next = entry.index;
  }

  return {
    get done() { return done; },
    get requests() { return requests; },
    async step(request, maxRequests) {
      for (let n = 0; n < maxRequests && !done; n++) await one(request);
    },
    result() {
      if (!result) throw new Error('log walk not finished');
      return result;
    },
  };
}

/** Reads the records after `since` in one go (see createLogWalk). */
export async function readLogSince(request: Request, since: LogCursor | undefined, opts: LogReadOptions): Promise<LogRead> {
  const walk = createLogWalk(since, opts);
  await walk.step(request, Infinity);
  return walk.result();
}
