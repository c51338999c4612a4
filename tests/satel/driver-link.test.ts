import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configureSecrets, createLogger, encryptSecret, generateSecretKey, parseSecretKeys, registry } from '../../platform/index.ts';
import type { PanelLink, SatelEvent } from '../../schemas/index.ts';
import { createSimulator, type Simulator } from '../../simulator/index.ts';
import type { SatelDriver } from '../../ingest/satel/driver/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { addPanel, statusOf, tailTopic, testDriver, type TopicTail } from '../helpers/satel.ts';
import { waitUntil } from '../helpers/system.ts';

/**
 * The link to each panel over real TCP: refusal and Busy, corrupt frames, idle limits, silent panels and
 * backoff, integration encryption (and the mismatch that otherwise fails silently), 32-byte panels and
 * link supervision — each against the simulator (or a socket that never answers), with Kafka and Redis.
 */
describe('Satel driver: panel links', () => {
  let env: TestEnv;
  let events: TopicTail<SatelEvent>;
  let links: TopicTail<PanelLink>;
  const sims: Simulator[] = [];
  const drivers: SatelDriver[] = [];
  const cleanups: (() => unknown)[] = [];

  async function sim(opts: Partial<Parameters<typeof createSimulator>[0]> = {}): Promise<Simulator> {
    const s = createSimulator({ panels: 1, basePort: 0, controlPort: 0, log: createLogger('sim', 'silent'), ...opts });
    await s.start();
    sims.push(s);
    return s;
  }
  async function driver(extra: Parameters<typeof testDriver>[1] = {}): Promise<SatelDriver> {
    const d = testDriver(env, extra);
    drivers.push(d);
    await d.start();
    return d;
  }
  // Up, and the event-log cursor set: from here on every record the panel writes is new to the driver.
  const upWith = (d: SatelDriver, panelId: number) =>
    waitUntil(`panel ${panelId} up`, () => statusOf(d, panelId)?.state === 'up' && statusOf(d, panelId)?.cursor != null, 20_000);
  const eventsOf = (panelId: number) => events.items.filter((e) => e.panel_id === panelId);
  const frameErrors = async (code: string) => (await registry.getSingleMetric('stam_satel_frame_errors_total')!.get()).values.find((v) => v.labels.code === code)?.value ?? 0;

  beforeAll(async () => {
    env = await createTestEnv();
    configureSecrets(parseSecretKeys(generateSecretKey('test')));
    events = await tailTopic<SatelEvent>(env, 'satel.events.v1');
    links = await tailTopic<PanelLink>(env, 'panel.link.v1');
  });
  afterEach(async () => {
    await Promise.all(drivers.splice(0).map((d) => d.stop()));
    for (const c of cleanups.splice(0)) await c();
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await events?.stop();
    await links?.stop();
    await env?.cleanup();
  });

  it('is refused with Busy while another integration client holds the module, and connects once it leaves', async () => {
    const s = await sim();
    const holder: Socket = connect(s.ports[0]!, '127.0.0.1');
    await new Promise((r) => holder.once('connect', r));
    cleanups.push(() => holder.destroy());
    const panelId = await addPanel(env.pool, s.ports[0]!);
    const d = await driver();
    await waitUntil('the refusal reported', () => /Busy!.*another integration client/.test(statusOf(d, panelId)?.lastError ?? ''), 10_000);
    expect(statusOf(d, panelId)?.state).not.toBe('up');
    holder.destroy();
    await upWith(d, panelId);
    expect((await (await fetch(`${s.controlUrl}/panels`)).json() as { stats: { refused: number } }[])[0]!.stats.refused).toBeGreaterThanOrEqual(1);
  });

  it('rides out Busy answers and corrupt frames mid-stream on the same link, losing and doubling nothing', async () => {
    const s = await sim();
    const panelId = await addPanel(env.pool, s.ports[0]!);
    const d = await driver();
    await upWith(d, panelId);
    const crcBefore = await frameErrors('E_SATEL_CRC');
    const made: number[] = [];
    for (let i = 0; i < 6; i++) {
      s.perform(1, i % 2 ? 'link-corrupt' : 'link-busy', { count: 2 });
      made.push(s.perform(1, 'violate', { zone: i + 1 }).logIndex!);
      await new Promise((r) => setTimeout(r, 800));
    }
    await events.waitFor('all six violations', () => made.every((i) => eventsOf(panelId).some((e) => e.log?.log_index === i)));
    expect(eventsOf(panelId).map((e) => e.log?.log_index)).toEqual(made);
    expect(await frameErrors('E_SATEL_CRC')).toBeGreaterThanOrEqual(crcBefore + 6);
    expect(statusOf(d, panelId)?.connects).toBe(1);
  });

  it('keeps an idle link alive under the module limit, and reconnects when the module drops a silent client', async () => {
    const s = await sim({ idleTimeoutMs: 1_000 });
    const panelId = await addPanel(env.pool, s.ports[0]!);
    const kept = await driver({ pollIntervalMs: 5_000, keepAliveMs: 300 });
    await upWith(kept, panelId);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(statusOf(kept, panelId)).toMatchObject({ state: 'up', connects: 1 });
    await kept.stop();
    const silent = await driver({ pollIntervalMs: 5_000, keepAliveMs: 0 });
    await waitUntil('the drop noticed and the link re-made', () => (statusOf(silent, panelId)?.connects ?? 0) >= 2, 20_000);
    expect(statusOf(silent, panelId)?.lastError ?? '').toMatch(/closed by the module/);
  });

  it('times out a silent panel and reconnects with backoff 1 → 2 → 4 → 8 s (±25 % jitter)', async () => {
    const accepted: number[] = [];
    const blackHole: Server = createServer((sock) => { accepted.push(Date.now()); sock.on('error', () => undefined).resume(); });
    await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => blackHole.close(r)));
    const port = (blackHole.address() as { port: number }).port;
    const panelId = await addPanel(env.pool, port);
    const d = await driver({ answerTimeoutMs: 200 });
    await waitUntil('five connection attempts', () => accepted.length >= 5, 30_000);
    const gaps = accepted.slice(1).map((t, i) => t - accepted[i]! - 200);
    [1000, 2000, 4000, 8000].forEach((base, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(base * 0.75 - 50);
      expect(gaps[i]).toBeLessThanOrEqual(base * 1.25 + 250);
    });
    expect(statusOf(d, panelId)?.lastError).toMatch(/no answer to identification \(0x7E\) within 200 ms: integration encryption mismatch\?/);
  }, 60_000);

  it('encrypts per panel, and reports a key on only one side (or a wrong key) as a clear link error', async () => {
    const key = 'Kl1ucz-1ntgr';
    const encrypted = await sim({ panels: 3, encryptionKey: key });
    const plain = await sim();
    const good = await addPanel(env.pool, encrypted.ports[0]!, { keyEnc: encryptSecret(key) });
    const noKey = await addPanel(env.pool, encrypted.ports[1]!);
    const wrongKey = await addPanel(env.pool, encrypted.ports[2]!, { keyEnc: encryptSecret('another-key!') });
    const keyForPlain = await addPanel(env.pool, plain.ports[0]!, { keyEnc: encryptSecret(key) });
    const d = await driver();
    await upWith(d, good);
    const v = encrypted.perform(1, 'violate', { zone: 7 });
    await events.waitFor('the encrypted panel event', () => eventsOf(good).some((e) => e.log?.log_index === v.logIndex));
    await waitUntil('three mismatches reported', () => [noKey, wrongKey, keyForPlain].every((p) => /encryption mismatch/.test(statusOf(d, p)?.lastError ?? '')), 20_000);
    expect(statusOf(d, noKey)?.lastError).toMatch(/no key is configured for this panel: the module may have integration encryption on/);
    expect(statusOf(d, keyForPlain)?.lastError).toMatch(/a key is configured for this panel: the module may not encrypt, or its key differs/);
    expect(statusOf(d, wrongKey)?.lastError).toMatch(/its key differs/);
  });

  it('reads 32-byte zone bitmaps of an INTEGRA 256 Plus: zones above 128 arrive and show in the live state', async () => {
    const s = await sim({ model: 'integra256plus' });
    const panelId = await addPanel(env.pool, s.ports[0]!, { model: 'integra256plus' });
    const d = await driver();
    await upWith(d, panelId);
    expect(statusOf(d, panelId)?.extended).toBe(true);
    const made = [200, 256, 129].map((z) => s.perform(1, 'violate', { zone: z }).logIndex);
    await events.waitFor('three violations', () => eventsOf(panelId).length >= 3);
    expect(eventsOf(panelId).map((e) => [e.kind, e.object_number, e.log?.log_index])).toEqual([
      ['ZONE_VIOLATION', 200, made[0]], ['ZONE_VIOLATION', 256, made[1]], ['ZONE_VIOLATION', 129, made[2]],
    ]);
    await waitUntil('live state shows the zones', async () => {
      const raw = await env.redis.hget(`panel:${panelId}:state`, 'state');
      return JSON.stringify((JSON.parse(raw ?? '{}') as { zonesViolated?: number[] }).zonesViolated) === '[129,200,256]';
    }, 10_000);
  });

  it('announces a loss only after the supervision time, pairs it with RESTORED, and a short drop stays CONNECTED', async () => {
    const s = await sim();
    const panelId = await addPanel(env.pool, s.ports[0]!);
    const d = await driver({ supervisionMs: 2_000 });
    await upWith(d, panelId);
    s.perform(1, 'link-drop');
    await waitUntil('reconnected after the short drop', () => (statusOf(d, panelId)?.connects ?? 0) >= 2, 10_000);
    s.perform(1, 'link-hang');
    const hungAt = Date.now();
    await links.waitFor('LOST', (l) => l.some((x) => x.panel_id === panelId && x.status === 'LOST'), 15_000);
    const lost = links.items.find((x) => x.panel_id === panelId && x.status === 'LOST')!;
    expect(lost.observed_at - hungAt).toBeGreaterThanOrEqual(2_000);
    expect(lost.reason).toMatch(/no answer.*down since/);
    expect(await env.redis.hget(`panel:${panelId}:state`, 'link')).toBe('down');
    s.perform(1, 'link-restore');
    await links.waitFor('RESTORED', (l) => l.some((x) => x.panel_id === panelId && x.status === 'RESTORED'), 20_000);
    const mine = links.items.filter((x) => x.panel_id === panelId);
    expect(mine.map((x) => x.status)).toEqual(['CONNECTED', 'CONNECTED', 'LOST', 'RESTORED']);
    expect(mine[3]!.dedup_key.replace('RESTORED', 'LOST')).toBe(mine[2]!.dedup_key);
    await waitUntil('live state says up again', async () => (await env.redis.hget(`panel:${panelId}:state`, 'link')) === 'up', 5_000);
  });
});
