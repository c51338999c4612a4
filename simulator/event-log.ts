/**
 * The panel's event log: a ring of the last `size` records with 24-bit indices that only ever increase
 * (modulo 2^24), and a side table of traces for records the simulator generated on request.
 *
 * Indices skip 0x00FFFF and 0xFFFFFF, the two values 0x8C reserves for "newest record" of the Grade 2/3
 * and the standard log, so a driver never confuses a real index with a sentinel even after 65,535 events.
 * Reading follows the 0x8C convention: `FFFFFF` gives the newest record, any other index gives the record
 * just before it (older), so a driver steps back by passing each answer's index to the next call.
 */
import type { EventClass } from './models.ts';

export type Trace = { id: string; sentAtMs: number };

export type LogRecord = {
  /** 24-bit event index. */
  index: number;
  /** Wall-clock time of the event (the record itself keeps minutes only). */
  timeMs: number;
  cls: EventClass;
  /** 10-bit event code. */
  code: number;
  restore: boolean;
  /** 1–32, 0 when the event belongs to no partition. */
  partition: number;
  /** Zone, user, module … number, per the code's kind of description. */
  source: number;
  /** Object number (SSS, 0–7). */
  object: number;
  /** User control number (0–31). */
  user: number;
};

export type NewLogRecord = Omit<LogRecord, 'index'>;

export const NEWEST_STANDARD = 0xffffff;
export const NEWEST_GRADE23 = 0x00ffff;
/** Usable indices: 2^24 minus the two sentinels. */
const INDEX_SPACE = 0x1000000 - 2;

function seqToIndex(seq: number): number {
  const k = seq % INDEX_SPACE;
  return k < NEWEST_GRADE23 ? k : k + 1;
}

function indexToK(index: number): number {
  return index < NEWEST_GRADE23 ? index : index - 1;
}

export type EventLog = {
  readonly size: number;
  /** Records kept (≤ size). */
  readonly length: number;
  append(rec: NewLogRecord, trace?: Trace): LogRecord;
  newest(): LogRecord | undefined;
  /** The record with exactly this index, if still in the ring. */
  get(index: number): LogRecord | undefined;
  /** 0x8C semantics: FFFFFF → newest; 00FFFF → undefined (no Grade 2/3 log); other → the record before it. */
  read(index: number): LogRecord | undefined;
  traceOf(index: number): Trace | undefined;
  /** Newest first, at most `limit`. */
  recent(limit: number): LogRecord[];
};

export function createEventLog(opts: { size?: number; firstIndex?: number } = {}): EventLog {
  const size = opts.size ?? 1000;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`event log size must be a positive integer, got ${String(size)}`);
  const records: Array<LogRecord | undefined> = new Array<LogRecord | undefined>(size);
  const traces: Array<Trace | undefined> = new Array<Trace | undefined>(size);
  /** Sequence number the next record gets; its index is seqToIndex(seq). */
  let nextSeq = indexToK(opts.firstIndex ?? 0);
  const firstSeq = nextSeq;

  const oldestSeq = (): number => Math.max(firstSeq, nextSeq - size);

  function seqOf(index: number): number | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= NEWEST_STANDARD || index === NEWEST_GRADE23) return undefined;
    if (nextSeq === firstSeq) return undefined;
    const newestSeq = nextSeq - 1;
    const back = (((newestSeq % INDEX_SPACE) - indexToK(index)) % INDEX_SPACE + INDEX_SPACE) % INDEX_SPACE;
    const seq = newestSeq - back;
    return seq >= oldestSeq() ? seq : undefined;
  }

  return {
    size,
    get length() {
      return nextSeq - oldestSeq();
    },
    append(rec, trace) {
      const seq = nextSeq++;
      const full: LogRecord = { ...rec, index: seqToIndex(seq) };
      records[seq % size] = full;
      traces[seq % size] = trace;
      return full;
    },
    newest() {
      return nextSeq === firstSeq ? undefined : records[(nextSeq - 1) % size];
    },
    get(index) {
      const seq = seqOf(index);
      return seq === undefined ? undefined : records[seq % size];
    },
    read(index) {
      if (index === NEWEST_STANDARD) return this.newest();
      const seq = seqOf(index);
      if (seq === undefined || seq - 1 < oldestSeq()) return undefined;
      return records[(seq - 1) % size];
    },
    traceOf(index) {
      const seq = seqOf(index);
      return seq === undefined ? undefined : traces[seq % size];
    },
    recent(limit) {
      const out: LogRecord[] = [];
      for (let seq = nextSeq - 1; seq >= oldestSeq() && out.length < limit; seq--) {
        const r = records[seq % size];
        if (r) out.push(r);
      }
      return out;
    },
  };
}
