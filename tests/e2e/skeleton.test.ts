import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/index.ts';
import { createSimulator, type Simulator } from '../../simulator/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { exitReport, startRole, msgIs, type RoleProcess } from '../../load-tests/index.ts';
import { createOperator, createPanel, login, openWs, waitUntil, type WsClient } from '../helpers/system.ts';

/**
 * The walking skeleton over real sockets and brokers: simulated ETHM-1 panel (TCP) → satel-ingest →
 * satel.events.v1 (Kafka) → alarm-processor → PostgreSQL (event, alarm, outbox in one transaction) →
 * outbox-relay → alarm.updates.v1 → gateway → WebSocket. Every role is a real `stam <role>` process.
 */
describe('a zone violation on a simulated panel reaches an operator WebSocket as an alarm', () => {
  let env: TestEnv;
  let sim: Simulator;
  let roles: RoleProcess[] = [];
  let base: string;
  let ws: WsClient;
  let panelId: number;

  beforeAll(async () => {
    env = await createTestEnv({ SATEL_POLL_INTERVAL_MS: '200', SATEL_PANEL_REFRESH_MS: '1000', FEATURE_PUSH_ENABLED: 'false' });
    sim = createSimulator({ panels: 2, basePort: 0, controlPort: 0, log: createLogger('sim', 'warn') });
    await sim.start();
    ({ panelId } = await createPanel(env.pool, sim.ports[0]!));
    const creds = await createOperator(env.pool);
    roles = ['gateway', 'alarm-processor', 'outbox-relay', 'satel-ingest'].map((r) => startRole(r, env.vars));
    const gw = await roles[0]!.waitForLog(msgIs('gateway listening (console at /, API docs at /docs)'));
    base = `http://127.0.0.1:${gw.port as number}`;
    await waitUntil('gateway ready (stream joined)', async () => (await fetch(`${base}/readyz`)).status === 200, 60_000, 250);
    await roles[1]!.waitForLog(msgIs('alarm processor consuming'));
    // Through the driver's log, so that a driver that never gets there shows what it did instead.
    await roles[3]!.waitForLog((l) => l.msg === 'panel connected' && l.port === sim.ports[0], 60_000);
    await waitUntil('panel 1 connected to the driver', async () => {
      const panels = (await (await fetch(`${sim.controlUrl}/panels`)).json()) as { connected: boolean }[];
      return panels[0]?.connected === true;
    }, 10_000);
    ws = await openWs(base, await login(base, creds));
    await ws.waitFor((m) => m.type === 'hello');
  });

  afterAll(async () => {
    ws?.close();
    const exits = await Promise.all(roles.map((r) => r.stop()));
    await sim?.stop();
    await env?.cleanup();
    // SIGTERM drains: every role exits cleanly.
    expect(exits.map((e, i) => exitReport(roles[i]!, e))).toEqual(roles.map((r) => `${r.role}: 0`));
  });

  it('arrives with the right panel, zone and severity, and the latency is printed', async () => {
    // The consumer groups need a moment after joining; a violation before that is still delivered (from the
    // stored offsets), so we measure from the moment the violation is made.
    const t0 = Date.now();
    const res = await fetch(`${sim.controlUrl}/panels/1/zones/3/violate`, { method: 'POST' });
    expect(res.status).toBe(200);
    const { at, msg } = await ws.waitFor((m) => m.type === 'alarm.new', 30_000);
    const alarm = msg.alarm as Record<string, unknown>;
    expect(alarm).toMatchObject({ panel_id: panelId, zone: 3, severity: 'WARNING', status: 'NEW', category: 'zone-violation', version: 1, event_count: 1 });
    expect(msg.position).toEqual(expect.any(Number));
    console.log(`[latency] zone violation → operator WebSocket: ${at - t0} ms (poll interval 200 ms)`);

    const { rows } = await env.pool.query('SELECT kind, panel_id, object_number FROM events WHERE source = $1', ['satel']);
    expect(rows).toEqual([{ kind: 'ZONE_VIOLATION', panel_id: panelId, object_number: 3 }]);
    // The relay marks a row published after the broker's ack, which can land just after the WS message.
    await waitUntil('outbox row marked published', async () =>
      (await env.pool.query('SELECT 1 FROM outbox WHERE published_at IS NULL')).rowCount === 0, 10_000);
    const outbox = await env.pool.query<{ published: boolean }>('SELECT published_at IS NOT NULL AS published FROM outbox');
    expect(outbox.rows).toEqual([{ published: true }]);
  });

  it('the restore joins the same alarm as a new version', async () => {
    await fetch(`${sim.controlUrl}/panels/1/zones/3/restore`, { method: 'POST' });
    const { msg } = await ws.waitFor((m) => m.type === 'alarm.updated');
    expect(msg.alarm).toMatchObject({ zone: 3, version: 2, restore_count: 1, event_count: 1 });
  });

  it('a fire alarm from the panel log is a CRITICAL fire alarm, and the fire zone restore joins it', async () => {
    const fire = await fetch(`${sim.controlUrl}/panels/1/zones/6/fire`, { method: 'POST' });
    expect(fire.status).toBe(200);
    const opened = await ws.waitFor((m) => m.type === 'alarm.new' && (m.alarm as { zone: number }).zone === 6, 30_000);
    expect(opened.msg.alarm).toMatchObject({ panel_id: panelId, zone: 6, category: 'fire', severity: 'CRITICAL', title: 'Fire alarm (panel log), zone 6' });
    await fetch(`${sim.controlUrl}/panels/1/zones/6/restore`, { method: 'POST' });
    const restored = await ws.waitFor((m) => m.type === 'alarm.updated' && (m.alarm as { zone: number }).zone === 6, 30_000);
    expect(restored.msg.alarm).toMatchObject({ category: 'fire', version: 2, restore_count: 1 });
  });

  it('a frame with a wrong CRC is counted and skipped, and the next violation still arrives', async () => {
    const corrupt = await fetch(`${sim.controlUrl}/panels/1/link/corrupt`, { method: 'POST' });
    expect(corrupt.status).toBe(200);
    await fetch(`${sim.controlUrl}/panels/1/zones/5/violate`, { method: 'POST' });
    const { msg } = await ws.waitFor((m) => m.type === 'alarm.new' && (m.alarm as { zone: number }).zone === 5, 30_000);
    expect(msg.alarm).toMatchObject({ panel_id: panelId, zone: 5 });
    const ingest = roles[3]!;
    const rejected = ingest.lines.find((l) => l.msg === 'frame rejected');
    expect(rejected).toMatchObject({ code: 'E_SATEL_CRC' });
  });
});
