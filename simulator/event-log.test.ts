import { describe, expect, it } from 'vitest';
import { createEventLog, NEWEST_GRADE23, NEWEST_STANDARD, type NewLogRecord } from './event-log.ts';

const rec = (code: number): NewLogRecord => ({ timeMs: 0, cls: 0, code, restore: false, partition: 1, source: code, object: 0, user: 0 });

describe('event log', () => {
  it('gives records increasing indices and reads FFFFFF as the newest', () => {
    const log = createEventLog({ size: 10 });
    expect(log.read(NEWEST_STANDARD)).toBeUndefined();
    const a = log.append(rec(1));
    const b = log.append(rec(2));
    expect([a.index, b.index]).toEqual([0, 1]);
    expect(log.read(NEWEST_STANDARD)?.code).toBe(2);
  });

  it('steps back to the older record when called with an answer index, and ends after the oldest', () => {
    const log = createEventLog({ size: 10 });
    for (let i = 1; i <= 3; i++) log.append(rec(i));
    const newest = log.read(NEWEST_STANDARD)!;
    const second = log.read(newest.index)!;
    const third = log.read(second.index)!;
    expect([newest.code, second.code, third.code]).toEqual([3, 2, 1]);
    expect(log.read(third.index)).toBeUndefined();
  });

  it('keeps only the last `size` records', () => {
    const log = createEventLog({ size: 3 });
    for (let i = 1; i <= 5; i++) log.append(rec(i));
    expect(log.length).toBe(3);
    expect(log.get(0)).toBeUndefined();
    expect(log.get(2)?.code).toBe(3);
    expect(log.recent(10).map((r) => r.code)).toEqual([5, 4, 3]);
    expect(log.read(2)).toBeUndefined(); // older than the oldest kept
  });

  it('never hands out the sentinel indices 00FFFF and FFFFFF, and wraps to 0 after FFFFFE', () => {
    const log = createEventLog({ size: 4, firstIndex: 0x00fffe });
    const a = log.append(rec(1));
    const b = log.append(rec(2));
    expect([a.index, b.index]).toEqual([0x00fffe, 0x010000]);
    expect(log.read(b.index)?.code).toBe(1);
    expect(log.read(NEWEST_GRADE23)).toBeUndefined();

    const end = createEventLog({ size: 4, firstIndex: 0xfffffe });
    const c = end.append(rec(3));
    const d = end.append(rec(4));
    expect([c.index, d.index]).toEqual([0xfffffe, 0]);
    expect(end.read(0)?.code).toBe(3);
  });

  it('keeps the trace of a generated record next to it and forgets it with the record', () => {
    const log = createEventLog({ size: 2 });
    const trace = { id: 'abc', sentAtMs: 42 };
    const r = log.append(rec(1), trace);
    log.append(rec(2));
    expect(log.traceOf(r.index)).toEqual(trace);
    expect(log.traceOf(1)).toBeUndefined();
    log.append(rec(3));
    expect(log.traceOf(r.index)).toBeUndefined();
  });
});
