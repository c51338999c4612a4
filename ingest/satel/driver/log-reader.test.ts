import { describe, expect, it } from 'vitest';
import { createPanel, type Panel } from '../../../simulator/index.ts';
import { decodeReadEventAnswer, encodeReadEventAnswer, type Message } from '../protocol/index.ts';
import { createLogWalk, EMPTY_LOG, logRecordKey, readLogSince, type LogCursor } from './log-reader.ts';

const opts = { panelId: 7, max: 1000, currentYear: new Date().getFullYear() };

/** The simulator's panel model answers 0x8C exactly as over TCP; this counts the requests. */
function panelLink(panel: Panel) {
  const link = { requests: 0, request: (msg: Message): Promise<Message> => { link.requests++; return Promise.resolve(panel.handle(msg)[0]!); } };
  return link;
}

const violate = (panel: Panel, n: number, firstZone = 1): number[] =>
  Array.from({ length: n }, (_, i) => panel.violateZone(((firstZone + i - 1) % 100) + 1)[0]!.index);

async function head(panel: Panel): Promise<LogCursor> {
  return (await readLogSince(panelLink(panel).request, undefined, opts)).head;
}

describe('reading the panel event log forward from a cursor (0x8C)', () => {
  it('on first sight returns no history and puts the cursor at the newest record', async () => {
    const panel = createPanel({ firstLogIndex: 500 });
    violate(panel, 3);
    const r = await readLogSince(panelLink(panel).request, undefined, opts);
    expect(r.entries).toEqual([]);
    expect(r.head.index).toBe(502);
    expect(r.head.key).toMatch(/^satel:7:log:502:/);
  });

  it('returns the records after the cursor oldest first, one 0x8C per record plus the newest', async () => {
    const panel = createPanel({ firstLogIndex: 500 });
    violate(panel, 2);
    const cursor = await head(panel);
    const made = violate(panel, 5, 10);
    const link = panelLink(panel);
    const r = await readLogSince(link.request, cursor, opts);
    expect(r.entries.map((e) => e.index)).toEqual(made);
    expect(r.entries.map((e) => e.record.source)).toEqual([10, 11, 12, 13, 14]);
    expect(r.head).toEqual({ index: made[4], key: r.entries[4]!.key });
    expect(r.gap).toBeUndefined();
    expect(link.requests).toBe(6);
  });

  it('with nothing new costs one request and keeps the cursor', async () => {
    const panel = createPanel();
    violate(panel, 4);
    const cursor = await head(panel);
    const link = panelLink(panel);
    expect(await readLogSince(link.request, cursor, opts)).toEqual({ entries: [], head: cursor });
    expect(link.requests).toBe(1);
  });

  it('an empty log seen first means every later record is new', async () => {
    const panel = createPanel();
    expect((await readLogSince(panelLink(panel).request, undefined, opts)).head).toEqual(EMPTY_LOG);
    const made = violate(panel, 3);
    const r = await readLogSince(panelLink(panel).request, EMPTY_LOG, opts);
    expect(r.entries.map((e) => e.index)).toEqual(made);
    expect(r.gap).toBeUndefined();
  });

  it('pages across the reserved index 0x00FFFF and the 24-bit wrap without missing or repeating a record', async () => {
    for (const first of [0xfffa, 0xfffff8]) {
      const panel = createPanel({ firstLogIndex: first });
      violate(panel, 1);
      const cursor = await head(panel);
      const made = violate(panel, 12);
      const r = await readLogSince(panelLink(panel).request, cursor, opts);
      expect(r.entries.map((e) => e.index)).toEqual(made);
      expect(new Set(r.entries.map((e) => e.key)).size).toBe(12);
      expect(made).not.toContain(0x00ffff);
      expect(made).not.toContain(0xffffff);
    }
  });

  it('reports a gap when the cursor was overwritten, and returns what the log still holds', async () => {
    const panel = createPanel({ logSize: 10 });
    violate(panel, 2);
    const cursor = await head(panel);
    const made = violate(panel, 15);
    const r = await readLogSince(panelLink(panel).request, cursor, opts);
    expect(r.entries.map((e) => e.index)).toEqual(made.slice(-10));
    expect(r.gap).toMatch(/not reached before the oldest record/);
  });

  it('stops after `max` records and reports the older ones as a gap', async () => {
    const panel = createPanel();
    violate(panel, 1);
    const cursor = await head(panel);
    const made = violate(panel, 8);
    const r = await readLogSince(panelLink(panel).request, cursor, { ...opts, max: 5 });
    expect(r.entries.map((e) => e.index)).toEqual(made.slice(-5));
    expect(r.gap).toMatch(/more than 5 records/);
  });

  it('notices that the record at the cursor changed (log replaced) and reads on', async () => {
    const panel = createPanel({ firstLogIndex: 100 });
    violate(panel, 3);
    const cursor = { ...(await head(panel)), key: 'satel:7:log:102:0000000000000000' };
    violate(panel, 2);
    const r = await readLogSince(panelLink(panel).request, cursor, opts);
    expect(r.gap).toMatch(/record at cursor 102 changed/);
    expect(r.entries.map((e) => e.index)).toEqual([100, 101, 102, 103, 104]);
  });

  it('can be read in steps of a few requests (a long catch-up interleaves with polling), with the same result', async () => {
    const panel = createPanel({ firstLogIndex: 300 });
    violate(panel, 1);
    const cursor = await head(panel);
    violate(panel, 9);
    const whole = await readLogSince(panelLink(panel).request, cursor, opts);
    const walk = createLogWalk(cursor, opts);
    const link = panelLink(panel);
    let steps = 0;
    while (!walk.done) {
      await walk.step(link.request, 3);
      steps++;
    }
    expect(steps).toBe(4);
    expect(walk.requests).toBe(10);
    expect(walk.result()).toEqual(whole);
  });

  it('never takes a late answer for another index as the record asked for', async () => {
    const panel = createPanel({ firstLogIndex: 100 });
    violate(panel, 3);
    const cursor: LogCursor = { index: 100, key: null };
    const lying = (msg: Message): Promise<Message> => {
      const a = panel.handle(msg)[0]!;
      if (msg.data.readUIntBE(0, 3) === 0xffffff) return Promise.resolve(a);
      const d = decodeReadEventAnswer(a, { currentYear: 2025 });
      return Promise.resolve(encodeReadEventAnswer({ record: d.record, eventIndex: d.eventIndex, calledIndex: 5 }));
    };
    await expect(readLogSince(lying, cursor, opts)).rejects.toMatchObject({ code: 'E_SATEL_PROTOCOL' });
  });
});

describe('the dedup key of a log record', () => {
  const raw = Buffer.from([0b01_1_1_10_01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
  it('is panel, index and record bytes', () => {
    expect(logRecordKey(3, 4711, raw)).toBe('satel:3:log:4711:7023456789abcdef');
    expect(logRecordKey(3, 4712, raw)).not.toBe(logRecordKey(3, 4711, raw));
    expect(logRecordKey(4, 4711, raw)).not.toBe(logRecordKey(3, 4711, raw));
  });
  it('ignores the S1/S2 monitoring-status bits the panel rewrites once the event was reported', () => {
    const reported = Buffer.from(raw);
    reported[0] = (reported[0]! & 0xf0) | 0b00_11;
    expect(logRecordKey(3, 4711, reported)).toBe(logRecordKey(3, 4711, raw));
    const otherYear = Buffer.from(raw);
    otherYear[0] = otherYear[0]! ^ 0x40;
    expect(logRecordKey(3, 4711, otherYear)).not.toBe(logRecordKey(3, 4711, raw));
  });
});
