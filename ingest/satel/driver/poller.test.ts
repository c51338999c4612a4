import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, StamError } from '../../../platform/index.ts';
import type { PanelLink, SatelEvent } from '../../../schemas/index.ts';
import { createSimulator, type Simulator } from '../../../simulator/index.ts';
import type { CursorStore } from './cursor.ts';
import type { LogCursor } from './log-reader.ts';
import type { PanelNames } from './names.ts';
import { createPanelPoller, type PollerDeps } from './poller.ts';

describe('a panel poller against a simulated panel (broker and stores faked)', () => {
  const started: { stop(): Promise<void> }[] = [];
  afterEach(async () => { for (const s of started.splice(0)) await s.stop(); });

  async function setup(opts: {
    supervisionMs?: number; live?: Map<string, string>; produceLink?: (l: PanelLink) => void;
    pollIntervalMs?: number; logSweepMs?: number; monitoring?: boolean; module?: 'ethm1' | 'ethm1plus'; pushReadBudget?: () => boolean;
    names?: PollerDeps['names']; before?: (sim: Simulator) => void;
  } = {}) {
    const sim = createSimulator({ panels: 1, basePort: 0, controlPort: 0, ...(opts.module ? { module: opts.module } : {}) });
    await sim.start();
    started.push(sim);
    opts.before?.(sim);
    const saved: LogCursor[] = [];
    const liveWrites: { fields: Record<string, string>; announce: boolean }[] = [];
    const produced: SatelEvent[][] = [];
    const broker = { down: false, attempts: 0 };
    const lease = { valid: true };
    const cursors: CursorStore = {
      load: () => Promise.resolve(saved[saved.length - 1]),
      save: (_id, c) => { saved.push(c); return Promise.resolve(); },
      flush: () => Promise.resolve(), start: () => undefined, stop: () => Promise.resolve(),
    };
    const poller = createPanelPoller({ id: 1, host: '127.0.0.1', port: sim.ports[0]!, model: 'integra128', namesMissing: opts.names !== undefined }, {
      log: createLogger('poller-test', 'silent'), pollIntervalMs: opts.pollIntervalMs ?? 100, answerTimeoutMs: 500, connectTimeoutMs: 1000, keepAliveMs: 0,
      logSweepMs: opts.logSweepMs ?? 1000, monitoring: opts.monitoring ?? true, pushReadBudget: opts.pushReadBudget, logCatchUpMax: 100, logLinesPerMinute: 20, supervisionMs: opts.supervisionMs ?? 60_000, fencing: 1, cursors, texts: new Map(),
      names: opts.names,
      checkLease: () => { if (!lease.valid) throw new StamError('E_SATEL_LEASE', 'lease gone'); },
      produce: (events) => {
        broker.attempts++;
        if (broker.down) return Promise.reject(new Error('broker away'));
        produced.push(events);
        return Promise.resolve();
      },
      produceLink: (l) => { opts.produceLink?.(l); return Promise.resolve(); },
      live: {
        load: () => Promise.resolve(Object.fromEntries(opts.live ?? [])),
        save: (fields, announce) => {
          liveWrites.push({ fields, announce: announce === true });
          for (const [k, v] of Object.entries(fields)) opts.live?.set(k, v);
          return Promise.resolve();
        },
      },
    });
    poller.start();
    started.unshift(poller);
    await waitFor(() => saved.length > 0);
    return { sim, poller, saved, produced, broker, lease, liveWrites };
  }

  it('announces a new live state to operators for arming and the link, not for every violated zone', async () => {
    const { sim, liveWrites } = await setup({ monitoring: false });
    expect(liveWrites.find((w) => w.fields.link === 'up')?.announce).toBe(true);
    const stateWrites = () => liveWrites.filter((w) => w.fields.state !== undefined);
    let n = stateWrites().length;
    sim.perform(1, 'violate', { zone: 5 });
    await waitFor(() => stateWrites().length > n);
    expect(JSON.parse(stateWrites().at(-1)!.fields.state!)).toMatchObject({ zonesViolated: [5] });
    expect(stateWrites().at(-1)!.announce).toBe(false);
    n = stateWrites().length;
    sim.perform(1, 'restore', { zone: 5 });
    sim.perform(1, 'arm', { partition: 2 });
    const armsTwo = (w: { fields: Record<string, string> }): boolean =>
      ((JSON.parse(w.fields.state!) as { partitionsArmed?: number[] }).partitionsArmed ?? []).includes(2);
    await waitFor(() => stateWrites().some((w, i) => i >= n && armsTwo(w)), 10_000);
    const armed = stateWrites().find((w, i) => i >= n && armsTwo(w))!;
    expect(armed.announce).toBe(true);
  });

  it('reads zone and partition names in spare moments of the poll cycle and stores them once', async () => {
    const stored: PanelNames[] = [];
    const { poller } = await setup({ names: { budget: () => true, save: (_id, n) => { stored.push(n); return Promise.resolve(n.zones.length); } } });
    await waitFor(() => stored.length === 1, 20_000);
    expect(stored[0]!.zones).toHaveLength(128);
    expect(stored[0]!.zones[0]).toEqual({ number: 1, name: 'Zone 1' });
    expect(stored[0]!.partitions[0]).toEqual({ number: 1, name: 'Partition 1' });
    const polls = poller.status().polls;
    await waitFor(() => poller.status().polls >= polls + 3);
    expect(stored).toHaveLength(1);
    expect(poller.status().connects).toBe(1);
  });

  it('a module that leaves 0xEE unanswered costs one reconnect, then is polled without being asked again', async () => {
    let saves = 0;
    const { poller } = await setup({
      before: (sim) => { sim.perform(1, 'link-ignore', { cmd: 0xee }); },
      names: { budget: () => true, save: () => { saves++; return Promise.resolve(0); } },
    });
    await waitFor(() => poller.status().connects === 2 && poller.status().state === 'up', 10_000);
    const polls = poller.status().polls;
    await waitFor(() => poller.status().polls >= polls + 5, 10_000);
    expect(poller.status().connects).toBe(2);
    expect(saves).toBe(0);
  });

  it('never moves the cursor past an unacknowledged event, keeps polling meanwhile, and sends it once the broker is back', async () => {
    const { sim, poller, saved, produced, broker } = await setup();
    broker.down = true;
    const made = [1, 2, 3].map((zone) => sim.perform(1, 'violate', { zone }).logIndex);
    await waitFor(() => broker.attempts >= 2);
    const polls = poller.status().polls;
    await waitFor(() => poller.status().polls >= polls + 5);
    expect(saved.map((c) => c.index)).not.toContain(made[0]);
    expect(poller.status().pendingRecords).toBe(3);
    broker.down = false;
    await waitFor(() => saved[saved.length - 1]?.index === made[2]);
    expect(produced.flat().map((e) => e.log?.log_index)).toEqual(made);
    expect(poller.status().connects).toBe(1);
  });

  it('spreads a long catch-up over several poll cycles, so the panel stays polled while it reads', async () => {
    const { sim, poller, saved, produced, broker } = await setup();
    broker.down = true;
    const made = Array.from({ length: 30 }, (_, i) => sim.perform(1, 'violate', { zone: i + 1 }).logIndex);
    await waitFor(() => broker.attempts >= 1);
    sim.perform(1, 'link-delay', { ms: 15 });
    broker.down = false;
    const polls = poller.status().polls;
    sim.perform(1, 'link-drop'); // a new link reads the 30 records again, ~3 per 50 ms cycle budget
    await waitFor(() => saved[saved.length - 1]?.index === made[29], 20_000);
    expect(poller.status().connects).toBe(2);
    expect(poller.status().polls - polls).toBeGreaterThanOrEqual(5);
    expect(produced.flat().map((e) => e.log?.log_index)).toEqual(made);
  });

  it('times a loss from when this link failed, not from an earlier drop, when a fresh link dies before its first poll', async () => {
    const links: PanelLink[] = [];
    let hungAt = 0;
    const { sim } = await setup({
      supervisionMs: 1_500, live: new Map(),
      produceLink: (l) => {
        links.push(l);
        // The second link dies while the driver reads the first state, before the live state says "up".
        if (l.status === 'CONNECTED' && links.filter((x) => x.status === 'CONNECTED').length === 2) {
          sim.perform(1, 'link-hang');
          hungAt = Date.now();
        }
      },
    });
    sim.perform(1, 'link-drop');
    await waitFor(() => links.some((l) => l.status === 'LOST'), 15_000);
    const lost = links.find((l) => l.status === 'LOST')!;
    expect(hungAt).toBeGreaterThan(0);
    expect(lost.observed_at - hungAt).toBeGreaterThanOrEqual(1_500);
  });

  it('ends with RESTORED the announced outage a previous driver of the panel left in the live state', async () => {
    const links: PanelLink[] = [];
    const since = Date.now() - 120_000;
    const live = new Map([['link', 'down'], ['link_down_since', String(since)], ['link_lost_announced', '1']]);
    await setup({ live, produceLink: (l) => { links.push(l); } });
    await waitFor(() => links.length > 0 && live.get('link') === 'up');
    expect(links.map((l) => [l.status, l.dedup_key])).toEqual([['RESTORED', `link:1:RESTORED:${since}`]]);
    expect(live.get('link_down_since')).toBe('');
  });

  it('in monitoring mode reads an event as soon as the module pushes the change, long before the next poll', async () => {
    const live = new Map<string, string>();
    const { sim, poller, produced } = await setup({ pollIntervalMs: 60_000, logSweepMs: 60_000, live });
    expect(poller.status().monitoring).toBe(true);
    const polls = poller.status().polls;
    const made = sim.perform(1, 'violate', { zone: 9 }).logIndex;
    await waitFor(() => produced.flat().some((e) => e.log?.log_index === made), 5_000);
    expect(produced.flat().filter((e) => e.log?.log_index === made).map((e) => [e.kind, e.object_number])).toEqual([['ZONE_VIOLATION', 9]]);
    expect(poller.status().polls).toBe(polls); // no poll was due: the push brought the log read forward
    expect(poller.status().pushReads).toBeGreaterThanOrEqual(1);
    expect((JSON.parse(live.get('state') ?? '{}') as { zonesViolated?: number[] }).zonesViolated).toEqual([9]);
  });

  it('with the push budget spent, the next poll reads the log although the push already cleared its 0x7F flag', async () => {
    const { sim, poller, produced } = await setup({ pollIntervalMs: 300, logSweepMs: 60_000, pushReadBudget: () => false });
    const made = sim.perform(1, 'violate', { zone: 5 }).logIndex;
    await waitFor(() => produced.flat().some((e) => e.log?.log_index === made), 5_000);
    expect(poller.status().pushReads).toBe(0);
  });

  it('polls only, and still reads every event, when the module refuses monitoring (plain ETHM-1) or it is switched off', async () => {
    for (const opts of [{ module: 'ethm1' as const }, { monitoring: false }]) {
      const { sim, poller, produced } = await setup(opts);
      expect(poller.status().monitoring).toBe(false);
      const made = sim.perform(1, 'violate', { zone: 3 }).logIndex;
      await waitFor(() => produced.flat().some((e) => e.log?.log_index === made));
      expect(((await (await fetch(`${sim.controlUrl}/panels`)).json()) as { monitoring: boolean }[])[0]!.monitoring).toBe(false);
    }
  });

  it('stops polling and producing as soon as the lease is no longer valid', async () => {
    const { sim, poller, produced, lease } = await setup();
    lease.valid = false;
    sim.perform(1, 'violate', { zone: 4 });
    await waitFor(() => poller.status().state === 'lease-lost');
    expect(produced.flat()).toEqual([]);
    await waitFor(async () => !((await (await fetch(`${sim.controlUrl}/panels`)).json()) as { connected: boolean }[])[0]!.connected);
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
