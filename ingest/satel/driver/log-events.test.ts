import { describe, expect, it } from 'vitest';
import { createPanel } from '../../../simulator/index.ts';
import { eventIdOf, kindOf, logEventOf, panelTimeOf } from './log-events.ts';
import { readLogSince, type LogEntry } from './log-reader.ts';
import type { Message } from '../protocol/index.ts';

/** Makes things happen on a simulated panel and reads the records back as the driver does. */
async function recordsOf(act: (p: ReturnType<typeof createPanel>) => void): Promise<LogEntry[]> {
  const panel = createPanel({ firstLogIndex: 1000, exitDelayMs: 0 });
  const request = (m: Message): Promise<Message> => Promise.resolve(panel.handle(m)[0]!);
  const opts = { panelId: 1, max: 100, currentYear: new Date().getFullYear() };
  const { head } = await readLogSince(request, undefined, opts);
  act(panel);
  return (await readLogSince(request, head, opts)).entries;
}

describe('panel log records as SatelEvents', () => {
  it('a zone violation and its restore are ZONE_VIOLATION / ZONE_RESTORE of that zone', async () => {
    const [v, r] = await recordsOf((p) => { p.violateZone(3); p.restoreZone(3); });
    expect(kindOf(v!.record)).toEqual({ kind: 'ZONE_VIOLATION', objectNumber: 3 });
    expect(kindOf(r!.record)).toEqual({ kind: 'ZONE_RESTORE', objectNumber: 3 });
  });

  it('a violation in an armed partition is a ZONE_ALARM; arming and disarming are partition events', async () => {
    const recs = await recordsOf((p) => { p.arm([1]); p.violateZone(2); p.disarm([1]); });
    expect(recs.map((e) => kindOf(e.record))).toEqual([
      { kind: 'PARTITION_ARMED', objectNumber: 1 },
      { kind: 'ZONE_ALARM', objectNumber: 2 },
      { kind: 'PARTITION_DISARMED', objectNumber: 1 },
      { kind: 'LOG_RECORD', objectNumber: 1 }, // "alarm cleared" by user 1: classified by its class
    ]);
  });

  it('a tamper is ZONE_TAMPER; a code without a typed meaning stays LOG_RECORD with its class', async () => {
    const [t, ac] = await recordsOf((p) => { p.tamperZone(9); p.raiseTrouble('ac'); });
    expect(kindOf(t!.record)).toEqual({ kind: 'ZONE_TAMPER', objectNumber: 9 });
    expect(kindOf(ac!.record).kind).toBe('LOG_RECORD');
    expect(ac!.record.eventClass).toBe(5);
  });

  it('carries the raw record, the panel clock to the minute, and an id and key that are the same on every read', async () => {
    const before = Date.now();
    const [e] = await recordsOf((p) => p.violateZone(4));
    const after = Date.now();
    const ev = logEventOf(e!, { panelId: 1, fencing: 3, observedAt: 42, text: 'Zone violation' });
    expect(ev).toMatchObject({
      panel_id: 1, kind: 'ZONE_VIOLATION', object_number: 4, observed_at: 42, fencing: 3, dedup_key: e!.key,
      log: { log_index: 1000, class: 0, code: 99, restore: false, source: 4, partition: 1, user: 0, object: 0, text: 'Zone violation' },
      trace: null,
    });
    // Records hold minutes: the panel time is the whole minute the event happened in.
    expect(ev.panel_time! % 60_000).toBe(0);
    expect(ev.panel_time).toBeGreaterThanOrEqual(Math.floor(before / 60_000) * 60_000);
    expect(ev.panel_time).toBeLessThanOrEqual(after);
    expect(ev.event_id).toBe(eventIdOf(e!.key));
    expect(ev.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventIdOf(`${e!.key}x`)).not.toBe(ev.event_id);
  });

  it('gives no panel time for a record without a valid date', () => {
    expect(panelTimeOf({ month: 0, day: 1, minuteOfDay: 0, year: 2024 } as never)).toBeNull();
    expect(panelTimeOf({ month: 2, day: 29, minuteOfDay: 61, year: 2024 } as never)).toBe(new Date(2024, 1, 29, 1, 1).getTime());
  });
});
