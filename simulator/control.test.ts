import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionResult } from './actions.ts';
import type { PanelInfo } from './control.ts';
import { createSimulator, type LogRecord, type Simulator, type Trace } from './index.ts';
import type { PanelSnapshot } from './panel.ts';
import type { TracedEvent } from './traces.ts';
import type { RateStatus } from './rate.ts';
import { connectClient } from './test-client.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let sim: Simulator;
const seen: Array<{ panel: number; record: LogRecord; trace: Trace | undefined }> = [];

type ErrorBody = { error: string; message: string };
type State = PanelInfo & { state: PanelSnapshot };
type Traces = { count: number; total: number; traces: TracedEvent[] };

/** `T` is what the route answers on success; error answers are ErrorBody. */
async function call<T = ActionResult & ErrorBody>(method: 'GET' | 'POST', path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: T }> {
  const res = await fetch(`${sim.controlUrl}${path}`, {
    method,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': contentType } } : {}),
  });
  return { status: res.status, json: (await res.json()) as T };
}

beforeAll(async () => {
  sim = createSimulator({
    panels: 2, basePort: 0, controlPort: 0, model: 'integra32',
    onEvent: (panel, record, trace) => seen.push({ panel, record, trace }),
  });
  await sim.start();
});
afterAll(async () => {
  await sim.stop();
});

describe('control API', () => {
  it('lists the panels with their ports', async () => {
    const { status, json } = await call<PanelInfo[]>('GET', '/panels');
    expect(status).toBe(200);
    expect(json.map((p) => [p.panel, p.port, p.model, p.connected])).toEqual([[1, sim.ports[0], 'integra32', false], [2, sim.ports[1], 'integra32', false]]);
  });

  it('violates a zone, returning the log index and a trace that the panel log and the onEvent hook carry too', async () => {
    const { status, json } = await call('POST', '/panels/2/zones/5/violate');
    expect(status).toBe(200);
    expect(json).toMatchObject({ panel: 2, zone: 5, action: 'violate' });
    expect(json.trace.id).toMatch(UUID);
    expect(Math.abs(json.trace.sentAtMs - Date.now())).toBeLessThan(5_000);
    expect(sim.panel(2).log.get(json.logIndex!)).toMatchObject({ code: 99, source: 5 });
    expect(sim.panel(2).log.traceOf(json.logIndex!)).toEqual(json.trace);
    expect(seen.find((e) => e.trace?.id === json.trace.id)).toMatchObject({ panel: 2, record: { index: json.logIndex } });
    const state = await call<State>('GET', '/panels/2/state');
    expect(state.json.state.zoneStates.violation).toEqual([5]);
  });

  it('raises alarms, tampers and troubles, and restores them', async () => {
    expect((await call('POST', '/panels/1/zones/2/alarm')).json.logIndex).toBeTypeOf('number');
    await call('POST', '/panels/1/zones/3/tamper');
    await call('POST', '/panels/1/troubles/battery/raise');
    await call('POST', '/panels/1/power-loss');
    let s = (await call<State>('GET', '/panels/1/state')).json.state;
    expect(s.zoneStates).toMatchObject({ alarm: [2], tamper: [3], tamperAlarm: [3] });
    expect(s.partitionStates.alarm).toEqual([1]);
    expect(s.troubles.active).toEqual(['ac', 'battery']);
    await call('POST', '/panels/1/zones/3/restore');
    await call('POST', '/panels/1/troubles/ac/clear');
    await call('POST', '/panels/1/partitions/1/clear-alarm');
    s = (await call<State>('GET', '/panels/1/state')).json.state;
    expect(s.zoneStates.tamper).toBeUndefined();
    expect(s.partitionStates.alarm).toBeUndefined();
    expect(s.troubles.active).toEqual(['battery']);
  });

  it('reports a refused arming with the panel result code', async () => {
    await call('POST', '/panels/1/zones/1/violate');
    expect((await call('POST', '/panels/1/partitions/1/arm')).json.result).toBe(0x11);
    expect((await call('POST', '/panels/1/partitions/1/force-arm', { mode: 0 })).json.result).toBe(0x00);
    await call('POST', '/panels/1/partitions/1/disarm');
    await call('POST', '/panels/1/zones/1/restore');
  });

  it('answers a missing panel with 404 and bad parameters with 400 and a message', async () => {
    expect((await call('POST', '/panels/3/zones/1/violate')).status).toBe(404);
    expect((await call('POST', '/panels/1/zones/1/explode')).status).toBe(404);
    const bad = await call('POST', '/panels/1/zones/99/violate');
    expect([bad.status, bad.json.message]).toEqual([400, 'zone 99 outside 1..32']);
    const trouble = await call('POST', '/panels/1/troubles/meteor/raise');
    expect(trouble.status).toBe(400);
    expect(trouble.json.message).toMatch(/trouble must be one of ac, battery/);
    expect((await call('POST', '/panels/1/link/delay', {})).status).toBe(400);
  });

  it('makes the link answer Busy! and then restores it', async () => {
    const c = await connectClient(sim.ports[0]!);
    try {
      await call('POST', '/panels/1/link/busy', { count: 1 });
      c.send(0x7e);
      expect(await c.next()).toEqual({ type: 'busy' });
      expect((await call<PanelInfo[]>('GET', '/panels')).json[0]!.connected).toBe(true);
      await call('POST', '/panels/1/link/hang');
      await call('POST', '/panels/1/link/restore');
      expect((await c.request(0x7e)).cmd).toBe(0x7e);
    } finally {
      c.close();
    }
  });

  it('runs a scenario posted as YAML, and rejects an invalid one with the step named', async () => {
    const yaml = '- { at_ms: 0, panel: 2, action: violate, zone: 7 }\n- { after_ms: 20, panel: 2, action: restore, zone: 7 }\n';
    const ok = await call<{ name: string; steps: number }>('POST', '/scenario', yaml, 'application/yaml');
    expect(ok.json).toMatchObject({ name: 'scenario', steps: 2 });
    await new Promise((r) => setTimeout(r, 80));
    const recent = sim.panel(2).log.recent(2);
    expect(recent.map((r) => [r.source, r.restore])).toEqual([[7, true], [7, false]]);
    const bad = await call('POST', '/scenario', { steps: [{ at_ms: 0, panel: 1, action: 'violate' }] });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('step 1, zone: action "violate" needs zone');
  });

  it('generates events at a rate and lists every one of them in /traces', async () => {
    const since = Date.now();
    const started = await call<RateStatus>('POST', '/rate', { eventsPerSecond: 400, durationS: 0.25, zones: 4 });
    expect(started.json).toMatchObject({ running: true, total: 100 });
    let status = started.json;
    for (let i = 0; i < 100 && status.running; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await call<RateStatus>('GET', '/rate')).json;
    }
    expect(status).toMatchObject({ running: false, sent: 100, errors: 0 });
    const { json } = await call<Traces>('GET', `/traces?since=${since}`);
    expect(json.count).toBe(100);
    expect(new Set(json.traces.map((t) => t.trace.id)).size).toBe(100);
    expect(new Set(json.traces.map((t) => t.panel))).toEqual(new Set([1, 2]));
    for (const t of json.traces.slice(0, 10)) {
      expect(t.zone).toBeLessThanOrEqual(4);
      expect(sim.panel(t.panel).log.traceOf(t.logIndex)).toEqual(t.trace);
    }
    expect((await call<Traces>('GET', `/traces?since=${Date.now() + 60_000}`)).json.count).toBe(0);
  });

  it('stops a running rate generator', async () => {
    await call('POST', '/rate', { eventsPerSecond: 10, durationS: 60 });
    const stopped = await call<RateStatus>('POST', '/rate/stop');
    expect(stopped.json.running).toBe(false);
    expect(stopped.json.sent).toBeLessThan(600);
    expect((await call('POST', '/rate', { eventsPerSecond: -1, durationS: 1 })).status).toBe(400);
  });
});
