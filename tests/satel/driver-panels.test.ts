import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/index.ts';
import type { SatelEvent } from '../../schemas/index.ts';
import { createSimulator, type Simulator } from '../../simulator/index.ts';
import type { SatelDriver } from '../../ingest/satel/driver/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { addPanel, statusOf, tailTopic, testDriver, type TopicTail } from '../helpers/satel.ts';
import { waitUntil } from '../helpers/system.ts';

type PanelInfo = { panel: number; connected: boolean; stats: { connections: number; refused: number } };

/**
 * Which panels a driver polls: the `panels` table, re-read without a restart, and — with HA — Redis
 * leases shared by several drivers, so that no panel is ever polled by two of them.
 */
describe('Satel driver: panels and leases', () => {
  let env: TestEnv;
  let sim: Simulator;
  let events: TopicTail<SatelEvent>;
  const drivers: SatelDriver[] = [];
  const panelsOfSim = async (): Promise<PanelInfo[]> => (await (await fetch(`${sim.controlUrl}/panels`)).json()) as PanelInfo[];
  const up = (d: SatelDriver, id: number) => statusOf(d, id)?.state === 'up' && statusOf(d, id)?.cursor != null;

  beforeAll(async () => {
    env = await createTestEnv();
    sim = createSimulator({ panels: 8, basePort: 0, controlPort: 0, log: createLogger('sim', 'silent') });
    await sim.start();
    events = await tailTopic<SatelEvent>(env, 'satel.events.v1');
  });
  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.stop()));
    await events?.stop();
    await sim?.stop();
    await env?.cleanup();
  });

  it('picks up a panel added, changed and removed in the panels table without a restart', async () => {
    const d = testDriver(env);
    drivers.push(d);
    await d.start();
    expect(d.panelCount).toBe(0);
    const id = await addPanel(env.pool, sim.ports[0]!);
    await waitUntil('the new panel polled', () => up(d, id), 10_000);
    await env.pool.query('UPDATE panels SET port = $2 WHERE id = $1', [id, sim.ports[1]]);
    await waitUntil('the changed panel polled on its new port', async () => {
      const p = await panelsOfSim();
      return p[0]!.connected === false && p[1]!.connected === true && up(d, id);
    }, 10_000);
    const v = sim.perform(2, 'violate', { zone: 4 });
    await events.waitFor('the event from the new port', (items) => items.some((e) => e.panel_id === id && e.log?.log_index === v.logIndex));
    await env.pool.query('UPDATE panels SET enabled = false WHERE id = $1', [id]);
    await waitUntil('the disabled panel let go', async () => statusOf(d, id) === undefined && !(await panelsOfSim())[1]!.connected, 10_000);
    await d.stop();
    drivers.splice(drivers.indexOf(d), 1);
  });

  it('with leases, two drivers never poll one panel; a stolen lease stops polling; a stopped driver hands its panels over', async () => {
    const ids: number[] = [];
    for (let n = 3; n <= 8; n++) ids.push(await addPanel(env.pool, sim.ports[n - 1]!));
    const ha = { ttlMs: 3_000, renewMs: 1_000 };
    const [a, b] = [testDriver(env, { ha, driverId: 'driver-a' }), testDriver(env, { ha, driverId: 'driver-b' })];
    drivers.push(a, b);
    await Promise.all([a.start(), b.start()]);
    const owners = () => ids.map((id) => [a, b].filter((d) => statusOf(d, id) !== undefined));
    await waitUntil('every panel polled', () => ids.every((id) => up(a, id) || up(b, id)), 15_000);
    expect(owners().every((o) => o.length === 1)).toBe(true);
    for (const id of ids) {
      const token = await env.redis.get(`lease:panel:${id}`);
      expect(token?.startsWith(up(a, id) ? 'driver-a:' : 'driver-b:')).toBe(true);
    }

    // Someone else takes a lease (as if ours had expired): the holder stops polling that panel at its next renewal.
    const victim = ids[0]!;
    const holder = up(a, victim) ? a : b;
    const oldFencing = statusOf(holder, victim)!.fencing;
    await env.redis.set(`lease:panel:${victim}`, 'thief:1', 'PX', 2_500);
    await waitUntil('the holder let the stolen panel go', async () => statusOf(holder, victim) === undefined && !(await panelsOfSim())[2]!.connected, 5_000);
    await waitUntil('the panel polled again once the lease expired', () => up(a, victim) || up(b, victim), 10_000);
    const newOwner = up(a, victim) ? a : b;
    expect(statusOf(newOwner, victim)!.fencing).toBeGreaterThan(oldFencing);

    // A stopping driver releases its leases: the other takes the panels at its next tick, and events keep flowing.
    const leaving = a.panelCount > 0 ? a : b;
    const staying = leaving === a ? b : a;
    const moved = ids.filter((id) => statusOf(leaving, id) !== undefined);
    await leaving.stop();
    drivers.splice(drivers.indexOf(leaving), 1);
    const made = moved.map((id) => sim.perform(ids.indexOf(id) + 3, 'violate', { zone: 9 }));
    await waitUntil('the other driver polls every panel', () => ids.every((id) => up(staying, id)), 10_000);
    await events.waitFor('the events made during the handover', (items) => made.every((m, i) => items.some((e) => e.panel_id === moved[i] && e.log?.log_index === m.logIndex)));
    expect((await panelsOfSim()).slice(2).every((p) => p.stats.refused === 0)).toBe(true);
  });
});
