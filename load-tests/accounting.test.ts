import { describe, expect, it } from 'vitest';
import { account, matchPipelineEvents, type Arrival, type PipelineEvent, type SentEvent } from './accounting.ts';

const sent = (n: number, t0 = 1_000): SentEvent[] =>
  Array.from({ length: n }, (_, i) => ({ id: `t${i}`, sentAtMs: t0 + i * 10, panel: 1 + (i % 3), action: i % 2 ? 'restore' : 'violate', zone: 1 + (i % 8) }));

/** Every sent event arrives once at every client, `delay` ms after it was sent. */
const deliverAll = (events: SentEvent[], clients: number, delay = 50): Arrival[] =>
  events.flatMap((s) => Array.from({ length: clients }, (_, c) => ({ client: c, eventId: `e-${s.id}`, traceId: s.id, atMs: s.sentAtMs + delay + c })));

describe('account', () => {
  it('counts every event received once by every client as received, nothing lost or duplicated', () => {
    const s = sent(100);
    const a = account(s, deliverAll(s, 3), 3);
    expect(a).toMatchObject({ sent: 100, received: 100, lost: 0, duplicated: 0, unexpected: 0 });
    expect(a.latenciesMs).toHaveLength(300);
    expect(Math.min(...a.latenciesMs)).toBe(50);
    expect(Math.max(...a.latenciesMs)).toBe(52);
    expect(a.firstArrivalMs.get('t0')).toBe(1_050);
  });

  it('reports an event that never arrives as lost, and sent = received + lost', () => {
    const s = sent(10);
    const arrivals = deliverAll(s, 2).filter((x) => x.traceId !== 't4');
    const a = account(s, arrivals, 2);
    expect(a).toMatchObject({ sent: 10, received: 9, lost: 1, lostEverywhere: 1, lostOnSomeClients: 0, lostIds: ['t4'] });
    expect(a.received + a.lost).toBe(a.sent);
  });

  it('an event missing on one client only is lost for that operator, and its latency on the other still counts', () => {
    const s = sent(5);
    const arrivals = deliverAll(s, 2).filter((x) => !(x.traceId === 't2' && x.client === 1));
    const a = account(s, arrivals, 2);
    expect(a).toMatchObject({ received: 4, lost: 1, lostEverywhere: 0, lostOnSomeClients: 1, lostIds: ['t2'] });
    expect(a.latenciesMs).toHaveLength(9);
  });

  it('the same update delivered twice is a duplicate (redelivered), latency from the first arrival', () => {
    const s = sent(5);
    const arrivals = deliverAll(s, 1);
    arrivals.push({ ...arrivals[3]!, atMs: arrivals[3]!.atMs + 500 });
    const a = account(s, arrivals, 1);
    expect(a).toMatchObject({ received: 5, lost: 0, duplicated: 1, redelivered: 1, duplicateEvents: 0, duplicatedIds: ['t3'] });
    expect(a.latenciesMs).toEqual([50, 50, 50, 50, 50]);
  });

  it('one physical event recorded as two pipeline events is a duplicate event', () => {
    const s = sent(2);
    const arrivals = deliverAll(s, 1);
    arrivals.push({ client: 0, eventId: 'another-row', traceId: 't1', atMs: 2_000 });
    const a = account(s, arrivals, 1);
    expect(a).toMatchObject({ duplicated: 1, duplicateEvents: 1, redelivered: 0 });
  });

  it('arrivals that match no sent event are counted apart, once per event id, and change nothing else', () => {
    const s = sent(3);
    const arrivals = [...deliverAll(s, 1), { client: 0, eventId: 'x', traceId: null, atMs: 1 }, { client: 0, eventId: 'x', traceId: null, atMs: 2 },
      { client: 0, eventId: 'y', traceId: 'from-an-earlier-run', atMs: 3 }];
    expect(account(s, arrivals, 1)).toMatchObject({ sent: 3, received: 3, lost: 0, duplicated: 0, unexpected: 2 });
  });

  it('a sent list with a repeated trace id counts it once', () => {
    const s = sent(3);
    expect(account([...s, s[0]!], deliverAll(s, 1), 1).sent).toBe(3);
  });

  it('rejects arrivals from a client outside the declared range', () => {
    expect(() => account(sent(1), [{ client: 2, eventId: 'e', traceId: 't0', atMs: 1 }], 2)).toThrow(/client 2/);
  });
});

describe('matchPipelineEvents', () => {
  const ev = (over: Partial<PipelineEvent>): PipelineEvent => ({
    eventId: 'e', panel: 1, kind: 'ZONE_VIOLATION', zone: 3, logIndex: null, observedAtMs: 0, traceId: null, ...over,
  });

  it('uses the trace the event carries', () => {
    const m = matchPipelineEvents(sent(3), [ev({ eventId: 'a', traceId: 't2' }), ev({ eventId: 'b', traceId: 'unknown' })]);
    expect([...m.traceOf]).toEqual([['a', 't2']]);
    expect(m).toMatchObject({ byTrace: 1, unmatched: 1, inferred: 0 });
  });

  it('matches a panel log record by panel and log index', () => {
    const s: SentEvent[] = [{ id: 'x', sentAtMs: 1, panel: 2, action: 'violate', zone: 1, logIndex: 77 }];
    const m = matchPipelineEvents(s, [ev({ eventId: 'a', panel: 2, kind: 'LOG_RECORD', logIndex: 77, zone: 1 })]);
    expect(m.traceOf.get('a')).toBe('x');
    expect(m.byLogIndex).toBe(1);
  });

  it('without a trace, a sampled state change stands for the latest matching change sent before it was observed', () => {
    // Zone 3 of panel 1: violated at 100, restored at 200, violated again at 300; a poll at 1000 sees "violated".
    const s: SentEvent[] = [
      { id: 'v1', sentAtMs: 100, panel: 1, action: 'violate', zone: 3 },
      { id: 'r1', sentAtMs: 200, panel: 1, action: 'restore', zone: 3 },
      { id: 'v2', sentAtMs: 300, panel: 1, action: 'violate', zone: 3 },
      { id: 'v-later', sentAtMs: 5_000, panel: 1, action: 'violate', zone: 3 },
      { id: 'other-zone', sentAtMs: 150, panel: 1, action: 'violate', zone: 4 },
    ];
    const m = matchPipelineEvents(s, [ev({ eventId: 'seen', observedAtMs: 1_000 })]);
    expect([...m.traceOf]).toEqual([['seen', 'v2']]);
    expect(m).toMatchObject({ inferred: 1, unmatched: 0 });
  });

  it('never matches one sent event twice, and reports what it cannot match', () => {
    const s: SentEvent[] = [{ id: 'v1', sentAtMs: 100, panel: 1, action: 'violate', zone: 3 }];
    const m = matchPipelineEvents(s, [ev({ eventId: 'a', observedAtMs: 500 }), ev({ eventId: 'b', observedAtMs: 600 }), ev({ eventId: 'c', observedAtMs: 50 })]);
    expect([...m.traceOf]).toEqual([['a', 'v1']]);
    expect(m.unmatched).toBe(2);
  });

  it('a restore is matched to a restore, and events of unknown panels stay unmatched', () => {
    const s: SentEvent[] = [{ id: 'v', sentAtMs: 100, panel: 1, action: 'violate', zone: 3 }, { id: 'r', sentAtMs: 200, panel: 1, action: 'restore', zone: 3 }];
    const m = matchPipelineEvents(s, [ev({ eventId: 'a', kind: 'ZONE_RESTORE', observedAtMs: 900 }), ev({ eventId: 'b', panel: null, observedAtMs: 900 })]);
    expect([...m.traceOf]).toEqual([['a', 'r']]);
    expect(m.unmatched).toBe(1);
  });
});
