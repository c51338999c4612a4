import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, runLoad, type Accounting, type Arrival, type LoadResult } from '../../load-tests/index.ts';

/**
 * A small load run through the real stack — simulator panels over TCP, satel-ingest, Kafka, processor,
 * PostgreSQL, outbox relay, gateway, WebSocket operator clients, every role a child process — and the
 * arithmetic of its report. At the matching layer one received event is dropped and another doubled,
 * and the report must count exactly those as one more lost and one more duplicated.
 */
describe('stam load on a small scenario (1,000 events through the real stack)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stam-load-test-'));
  let result: LoadResult;
  let untouched: Accounting;
  let dropped = '';
  let doubled = '';

  beforeAll(async () => {
    result = await runLoad({
      scenario: 'spec-burst', reportDir: dir, baselineRecords: 20_000,
      overrides: { events: 1_000, durationS: 10, panels: 20, operators: 2 },
      tamper(arrivals: Arrival[], sent) {
        untouched = account(sent, arrivals, 2);
        const seen = [...new Set(arrivals.map((a) => a.traceId).filter((t): t is string => t !== null))];
        dropped = seen[0]!;
        doubled = seen[1]!;
        const extra = arrivals.filter((a) => a.traceId === doubled && a.client === 0).map((a) => ({ ...a, atMs: a.atMs + 1 }));
        return [...arrivals.filter((a) => a.traceId !== dropped), ...extra];
      },
    });
  }, 300_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sends 1,000 traced events and the pipeline delivers every one to both operators exactly once', () => {
    expect(untouched.sent).toBe(1_000);
    expect(untouched).toMatchObject({ received: 1_000, lost: 0, duplicated: 0, unexpected: 0 });
    // Each event carried its simulator trace from the panel's log to the operator's screen.
    expect(result.report.matched_by?.byTrace).toBe(1_000);
  });

  it('counts add up: sent = received + lost, and lost splits into where it happened', () => {
    const r = result.report;
    expect(r.sent).toBe(1_000);
    expect(r.received + r.lost).toBe(r.sent);
    expect(r.lost_everywhere + r.lost_on_some_clients).toBe(r.lost);
    const where = r.lost_breakdown!;
    expect(where.not_in_postgres + where.no_alarm_update + where.not_published + where.published_not_received).toBe(r.lost);
    expect(where.no_alarm_update_restores).toBeLessThanOrEqual(where.no_alarm_update);
    expect(r.latency_summary?.count).toBe(2 * r.received);
  });

  it('reports the deliberately dropped event as lost, and the doubled one as duplicated', () => {
    const r = result.report;
    expect(r.lost).toBe(untouched.lost + 1);
    expect(r.duplicated).toBe(untouched.duplicated + 1);
    expect(r.samples.lost).toContain(dropped);
    expect(r.samples.duplicated).toEqual([doubled]);
    // It was published and reached the clients; only the matching layer lost it.
    expect(r.lost_breakdown?.published_not_received).toBeGreaterThanOrEqual(1);
    expect(r.redelivered).toBe(1);
  });

  it('writes report.json with the required figures, the per-stage latencies, and an HTML report with charts', () => {
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['scenario', 'sent', 'received', 'lost', 'duplicated', 'latency_ms', 'throughput_eps', 'broker_baseline_eps']) expect(json).toHaveProperty(k);
    expect(json.scenario).toBe('spec-burst');
    expect(json.latency_ms).toEqual({ p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) });
    expect(json.broker_baseline_eps).toBeGreaterThan(0);
    const stages = result.report.stage_latency_ms!;
    for (const s of [stages.panel_to_broker, stages.broker_to_postgres, stages.postgres_to_websocket]) expect(s?.count).toBeGreaterThan(990);
    expect(result.report.processes.map((p) => p.name)).toEqual(expect.arrayContaining(['alarm-processor', 'gateway', 'outbox-relay', 'satel-ingest', 'simulator']));
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<svg');
    expect(existsSync(join(dir, 'logs', 'satel-ingest.log'))).toBe(true);
  });
});
