import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/index.ts';
import type { PanelLink, SatelEvent } from '../../schemas/index.ts';
import { createSimulator, type Simulator } from '../../simulator/index.ts';
import { msgIs, startFaultProxy, startRole, type FaultMode, type FaultProxy, type RoleProcess } from '../../load-tests/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { counts, tailTopic, type TopicTail } from '../helpers/satel.ts';
import { createPanel, waitUntil } from '../helpers/system.ts';

const ANSWER_TIMEOUT_MS = 1_500;

/**
 * Black-box: the `satel-ingest` role talks to a simulated panel through a TCP proxy that delays, fragments,
 * stalls, black-holes and cuts the bytes while the panel keeps writing events. What the protocol expects:
 * a slow or fragmented link is no fault (no reconnect, no rejected frame); a stalled or black-holed one times
 * out and is re-made with backoff; a cut one is re-made at once; after each, the panel's event log is read
 * back from the cursor, so every event arrives exactly once; outages shorter than the supervision time are
 * no link-loss alarm.
 */
describe('hardening: network faults between the driver and a panel', () => {
  let env: TestEnv;
  let sim: Simulator;
  let proxy: FaultProxy;
  let driver: RoleProcess;
  let events: TopicTail<SatelEvent>;
  let links: TopicTail<PanelLink>;
  let panelId: number;
  let ops: number;
  const made: number[] = [];
  let zone = 0;

  const metric = async (pattern: RegExp): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${ops}/metrics`)).text();
    return text.split('\n').filter((l) => pattern.test(l)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  };
  const reconnects = () => metric(/^stam_satel_reconnects_total /);
  const timeouts = () => metric(/^stam_satel_protocol_errors_total\{code="E_SATEL_TIMEOUT"\}/);
  const frameErrors = () => metric(/^stam_satel_frame_errors_total\{/);
  const connected = () => metric(/^stam_satel_panels_connected /);
  const ours = () => events.items.filter((e) => e.panel_id === panelId && e.log?.log_index !== undefined);
  const violate = () => { made.push(sim.perform(1, 'violate', { zone: (zone++ % 100) + 1 }).logIndex!); };

  /** Runs `mode` for `ms` while the panel writes an event every 200 ms; then passes bytes again. */
  async function during(mode: FaultMode, ms: number): Promise<void> {
    proxy.set(mode);
    const end = Date.now() + ms;
    while (Date.now() < end) {
      violate();
      await new Promise((r) => setTimeout(r, 200));
    }
    proxy.set({ kind: 'pass' });
  }
  const allArrived = (what: string) => events.waitFor(what, () => made.every((i) => ours().some((e) => e.log!.log_index === i)), 60_000);

  beforeAll(async () => {
    env = await createTestEnv({
      SATEL_ANSWER_TIMEOUT_MS: String(ANSWER_TIMEOUT_MS), SATEL_POLL_INTERVAL_MS: '200', SATEL_PANEL_REFRESH_MS: '500', SATEL_KEEPALIVE_MS: '5000',
      LINK_SUPERVISION_S: '60', FEATURE_ARM_DISARM_ENABLED: 'false', FEATURE_HA_ENABLED: 'false', FEATURE_SMS_ENABLED: 'false',
    });
    sim = createSimulator({ panels: 1, basePort: 0, controlPort: 0, log: createLogger('sim', 'silent') });
    await sim.start();
    proxy = await startFaultProxy({ port: sim.ports[0]! });
    panelId = (await createPanel(env.pool, proxy.port, 'NETFAULT')).panelId;
    events = await tailTopic<SatelEvent>(env, 'satel.events.v1');
    links = await tailTopic<PanelLink>(env, 'panel.link.v1');
    driver = startRole('satel-ingest', env.vars);
    ops = (await driver.waitForLog(msgIs('ops endpoints listening (/healthz /readyz /metrics)'))).port as number;
    await waitUntil('the panel link up', async () => (await connected()) === 1, 30_000, 200);
    violate();
    await allArrived('the first event');
  }, 120_000);

  afterAll(async () => {
    await driver?.stop();
    await events?.stop();
    await links?.stop();
    await proxy?.close();
    await sim?.stop();
    await env?.cleanup();
  });

  it('a link that delays every byte by 400 ms, or delivers frames 3 bytes at a time, is no fault: no reconnect, no rejected frame', async () => {
    const [r0, f0] = [await reconnects(), await frameErrors()];
    await during({ kind: 'delay', ms: 400 }, 5_000);
    await during({ kind: 'fragment', bytes: 3, ms: 5 }, 5_000);
    await allArrived('the events of the slow link');
    expect({ reconnects: await reconnects() - r0, frameErrors: await frameErrors() - f0 }).toEqual({ reconnects: 0, frameErrors: 0 });
  });

  it('a stalled link times out and is re-made; the events written meanwhile are read back from the panel log', async () => {
    const [r0, t0] = [await reconnects(), await timeouts()];
    await during({ kind: 'stall' }, 5_000);
    await allArrived('the events of the stall');
    expect(await timeouts() - t0).toBeGreaterThanOrEqual(1);
    expect(await reconnects() - r0).toBeGreaterThanOrEqual(1);
    await waitUntil('the link up again', async () => (await connected()) === 1, 30_000, 200);
  });

  it('a cut link is re-made, and a black-holed reconnect times out and backs off until the path returns', async () => {
    const r0 = await reconnects();
    violate();
    proxy.cut();
    violate();
    await allArrived('the events around the cut');
    const r1 = await reconnects();
    expect(r1 - r0).toBeGreaterThanOrEqual(1);
    proxy.set({ kind: 'blackhole' });
    proxy.cut();
    await during({ kind: 'blackhole' }, 4_000);
    proxy.cut(); // the black-holed connections go too; new ones reach the panel
    await allArrived('the events of the black hole');
    expect(await reconnects() - r1).toBeGreaterThanOrEqual(2);
  });

  it('over all faults: every event the panel wrote arrived exactly once, and no outage became a link-loss alarm', () => {
    expect(made.length).toBeGreaterThan(60);
    const twice = [...counts(ours().map((e) => e.log!.log_index)).entries()].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    expect(ours().map((e) => e.log!.log_index).sort((a, b) => a - b)).toEqual(expect.arrayContaining(made));
    expect(links.items.filter((l) => l.panel_id === panelId && l.status === 'LOST')).toEqual([]);
    console.log(`network faults: ${made.length} events through delay, fragmentation, a stall, a cut and a black hole; ${proxy.stats.connections} connections, ${proxy.stats.cut} cut`);
  });
});
