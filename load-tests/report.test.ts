import { describe, expect, it } from 'vitest';
import { account, type Arrival, type SentEvent } from './accounting.ts';
import { renderHtml } from './html.ts';
import { parseStat } from './processes.ts';
import { progressLine } from './progress.ts';
import { buildReport, summaryText, type ReportContext } from './report.ts';
import type { Targets } from './scenario.ts';
import { lossBreakdown, stageLatencies } from './stages.ts';

const T0 = 1_800_000_000_000;
const sent: SentEvent[] = Array.from({ length: 10 }, (_, i) => ({ id: `t${i}`, sentAtMs: T0 + i * 100, panel: 1, action: 'violate', zone: 1 + i }));
const arrivals: Arrival[] = sent.slice(0, 9).map((s, i) => ({ client: 0, eventId: `e${i}`, traceId: s.id, atMs: s.sentAtMs + 100 + i * 10 }));

function context(targets: Targets, extra: Partial<ReportContext> = {}): ReportContext {
  return {
    scenario: 'unit', description: 'ten events', mode: 'self-contained', startedAtMs: T0, finishedAtMs: T0 + 3_000, command: 'npx stam load --scenario unit',
    commit: 'abc', machine: { cpus: 2 }, parameters: { panels: 1 }, settings: {}, sent, accounting: account(sent, arrivals, 1), matching: null,
    lossBreakdown: null, stages: null, clients: [], operators: null, targets, notes: ['a note'],
    samples: [
      { t: T0, lag: 0, backlog: 0, metricLag: 0, metricBacklog: 0, generated: 0, driverRead: 0, driverProduced: 0, backingOff: 0, reconnects: 0, received: 0, procs: { gateway: { cpuPct: 0, rssMb: 100 } } },
      { t: T0 + 1_000, lag: 7, backlog: 2, metricLag: 7, metricBacklog: 2, generated: 10, driverRead: 10, driverProduced: 10, backingOff: 0, reconnects: 0, received: 9, procs: { gateway: { cpuPct: 40, rssMb: 120 } } },
    ],
    baseline: { records: 1000, recordBytes: 180, produceEps: 50_000, consumeEps: 80_000, produceMBps: 9, consumeMBps: 14, partitions: 12, eps: 50_000, command: 'java …' },
    ...extra,
  };
}

describe('buildReport', () => {
  it('carries the required fields with counts that add up', () => {
    const r = buildReport(context({}));
    expect(r).toMatchObject({ scenario: 'unit', sent: 10, received: 9, lost: 1, duplicated: 0, broker_baseline_eps: 50_000, max_lag: 7, max_backlog: 2 });
    expect(r.sent).toBe(r.received + r.lost);
    expect(r.latency_ms).toEqual({ p50: 140, p95: 180, p99: 180, max: 180 });
    expect(r.latency_histogram.reduce((n, b) => n + b.count, 0)).toBe(9);
    expect(r.samples.lost).toEqual(['t9']);
  });

  it('gives throughput over the window from the first send to the last arrival, and its ratio to the broker', () => {
    const r = buildReport(context({}));
    // 9 received between T0 and T0 + 980 ms
    expect(r.throughput_eps).toBeCloseTo(9 / 0.98, 1);
    expect(r.throughput_ratio).toBeCloseTo(r.throughput_eps / 50_000, 4);
    expect(r.timeline[0]).toMatchObject({ t_s: 0, generated: 10, received: 9 });
  });

  it('fails the verdict on every missed target and passes when all are met', () => {
    expect(buildReport(context({ lost: 0, p99_ms: 100 })).verdict).toEqual({ pass: false, failures: ['lost 1 > 0', 'latency p99 ms 180 > 100'] });
    expect(buildReport(context({ lost: 1, max_ms: 1000 })).verdict).toEqual({ pass: true, failures: [] });
    expect(buildReport(context({ claim_p95_ms: 10 })).verdict.failures).toEqual(['claim p95 ms: no measurement (target ≤ 10)']);
  });

  it('prints a summary and a self-contained HTML page with charts', () => {
    const r = buildReport(context({ lost: 0 }));
    const text = summaryText(r);
    expect(text).toContain('verdict: FAIL — lost 1 > 0');
    expect(text).toMatch(/received\s+lost/);
    const html = renderHtml(r);
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(5);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html).not.toContain('NaN');
    expect(html).toContain('a note');
  });
});

describe('stages', () => {
  const times = new Map([['e0', { observedMs: T0 + 40, receivedMs: T0 + 50 }], ['e1', { observedMs: T0 + 130, receivedMs: T0 + 160 }]]);
  const outbox = new Map([['e0', { createdMs: T0 + 50, publishedMs: T0 + 60 }], ['e1', { createdMs: T0 + 160, publishedMs: null }]]);
  const traceOf = new Map([['e0', 't0'], ['e1', 't1']]);

  it('splits the latency at the pipeline\'s own timestamps', () => {
    const s = stageLatencies({ sent: new Map(sent.map((x) => [x.id, x])), traceOf, times, outbox, arrival: new Map([['e0', T0 + 100]]) });
    expect(s.panel_to_broker).toMatchObject({ count: 2, min: 30, max: 40 });
    expect(s.broker_to_postgres).toMatchObject({ count: 2, min: 10, max: 30 });
    expect(s.postgres_to_websocket).toMatchObject({ count: 1, max: 50 });
    expect(s.outbox_wait).toMatchObject({ count: 1, max: 10 });
    expect(s.relay_to_websocket).toMatchObject({ count: 1, max: 40 });
  });

  it('says where each lost event stopped', () => {
    const traceOfMore = new Map([...traceOf, ['e2', 't2']]);
    expect(lossBreakdown(['t0', 't1', 't2', 't3'], traceOfMore, outbox, new Map([['e2', 'ZONE_RESTORE']]))).toEqual({
      not_in_postgres: 1, no_alarm_update: 1, no_alarm_update_restores: 1, not_published: 1, published_not_received: 1,
    });
  });
});

describe('small parts', () => {
  it('parses /proc/<pid>/stat even when the command name holds spaces and parentheses', () => {
    const line = '4242 (node (x) y) S 1 2 3 0 -1 0 0 0 0 0 250 50 0 0 20 0 11 0 100 900000 2560 18446744073709551615';
    expect(parseStat(line)).toEqual({ comm: 'node (x) y', cpuTicks: 300, rssBytes: 2560 * 4096 });
  });
  it('draws a progress line with the share of events received', () => {
    const line = progressLine({ phase: 'sending', total: 200, generated: 150, received: 100, lag: 3, backlog: null }, 12.4, 10);
    expect(line).toBe('[#####.....]  50% sending   sent 150/200 received 100 lag 3 backlog – 12s');
  });
});
