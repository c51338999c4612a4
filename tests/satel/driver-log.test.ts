import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/index.ts';
import type { SatelEvent } from '../../schemas/index.ts';
import { createSimulator, type Simulator } from '../../simulator/index.ts';
import type { SatelDriver } from '../../ingest/satel/driver/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { addPanel, counts, statusOf, tailTopic, testDriver, type TopicTail } from '../helpers/satel.ts';
import { waitUntil } from '../helpers/system.ts';

/**
 * The event log (0x8C) is the driver's counting source: every record the simulated panel writes reaches
 * satel.events.v1 once, in order, also when it was written while the link was down or the driver was
 * stopped, and a record read again carries the same dedup key. Real TCP, Kafka, Redis and PostgreSQL.
 */
describe('Satel driver: event log to satel.events.v1', () => {
  let env: TestEnv;
  let sim: Simulator;
  let driver: SatelDriver;
  let events: TopicTail<SatelEvent>;
  let panelId: number;
  let mirrorFailures = 0;
  /** Log indices of the records panel 1 wrote, in order. */
  const written: number[] = [];

  const logIndices = (): number[] => events.items.filter((e) => e.panel_id === panelId).map((e) => e.log!.log_index);
  const arrivedOnce = (what: string) => events.waitFor(what, () => {
    const seen = logIndices();
    return written.every((i) => seen.includes(i));
  });
  const act = (action: 'violate' | 'restore', zone: number) => sim.perform(1, action, { zone });

  beforeAll(async () => {
    env = await createTestEnv();
    sim = createSimulator({
      panels: 1, basePort: 0, controlPort: 0, log: createLogger('sim', 'silent'),
      onEvent: (panel, record, trace) => {
        if (panel !== 1) return;
        written.push(record.index);
        // The trace side channel as load-tests/satel-trace-mirror.ts writes it (that helper is not importable from
        // tests/ until ingest/satel/driver/index.ts exports the key; the bench uses it).
        if (trace) env.redis.set(`satel:trace:${sim.ports[0]!}:${record.index}`, JSON.stringify(trace), 'PX', 600_000).catch(() => mirrorFailures++);
      },
    });
    await sim.start();
    panelId = await addPanel(env.pool, sim.ports[0]!);
    events = await tailTopic<SatelEvent>(env, 'satel.events.v1');
    driver = testDriver(env, { traceSource: 'redis' });
    await driver.start();
    await waitUntil('panel connected and its cursor set', () => statusOf(driver, panelId)?.cursor != null, 20_000);
  });

  afterAll(async () => {
    await driver?.stop();
    await events?.stop();
    await sim?.stop();
    await env?.cleanup();
  });

  it('produces each record once, typed, keyed by panel, log record and its bytes, with the simulator trace', async () => {
    const v = act('violate', 3);
    act('restore', 3);
    await arrivedOnce('violation and restore');
    const mine = events.items.filter((e) => e.panel_id === panelId);
    expect(mine.map((e) => [e.kind, e.object_number])).toEqual([['ZONE_VIOLATION', 3], ['ZONE_RESTORE', 3]]);
    expect(mine[0]).toMatchObject({
      panel_id: panelId, fencing: statusOf(driver, panelId)!.fencing,
      dedup_key: expect.stringMatching(new RegExp(`^satel:${panelId}:log:${v.logIndex}:[0-9a-f]{16}$`)),
      log: { log_index: v.logIndex, class: 0, code: 99, restore: false, source: 3, partition: 1, text: 'Zone violation' },
      trace: { id: v.trace.id, origin_ms: v.trace.sentAtMs },
    });
    expect(mine[0]!.panel_time).toBeGreaterThan(Date.now() - 120_000);
    expect(mirrorFailures).toBe(0);
  });

  it('pages through what happened while the link hung: nothing missed, nothing doubled, in order', async () => {
    sim.perform(1, 'link-hang');
    await waitUntil('the driver noticed the silent panel', () => /no answer/.test(statusOf(driver, panelId)?.lastError ?? ''), 10_000);
    for (let i = 0; i < 40; i++) act(i % 2 === 0 ? 'violate' : 'restore', 10 + Math.floor(i / 2));
    sim.perform(1, 'link-restore');
    await arrivedOnce('the 40 records written during the outage');
    expect(logIndices()).toEqual(written);
    expect([...counts(events.items.map((e) => e.dedup_key)).values()].every((n) => n === 1)).toBe(true);
  });

  it('a restarted driver continues from the Redis cursor, and from PostgreSQL when Redis lost it', async () => {
    await driver.stop();
    for (let i = 0; i < 5; i++) act('violate', 60 + i);
    driver = testDriver(env, { traceSource: 'redis' });
    await driver.start();
    await arrivedOnce('records written while the driver was stopped');
    await driver.stop();
    const pg = await env.pool.query<{ last_log_index: number; log_cursor_key: string }>('SELECT last_log_index, log_cursor_key FROM panel_cursors WHERE panel_id = $1', [panelId]);
    expect(pg.rows[0]).toEqual({ last_log_index: written[written.length - 1], log_cursor_key: events.items[events.items.length - 1]!.dedup_key });
    await env.redis.del(`panel:${panelId}:cursor`);
    for (let i = 0; i < 5; i++) act('restore', 60 + i);
    driver = testDriver(env, { traceSource: 'redis' });
    await driver.start();
    await arrivedOnce('records written while Redis lost the cursor');
    expect(logIndices()).toEqual(written);
  });

  it('a record read again (cursor moved back, as after failover) gets the same dedup key and event id', async () => {
    await driver.stop();
    const before = events.items.length;
    const rewind = events.items.filter((e) => e.panel_id === panelId).slice(-4, -3)[0]!;
    const fencing = Number(await env.redis.hget(`panel:${panelId}:cursor`, 'fencing'));
    await env.redis.hset(`panel:${panelId}:cursor`, { index: String(rewind.log!.log_index), key: rewind.dedup_key, fencing: String(fencing) });
    driver = testDriver(env, { traceSource: 'redis' });
    await driver.start();
    await events.waitFor('the three records after the rewound cursor again', (items) => items.length >= before + 3);
    const again = events.items.slice(before);
    const originals = events.items.slice(before - 3, before);
    expect(again.map((e) => [e.dedup_key, e.event_id])).toEqual(originals.map((e) => [e.dedup_key, e.event_id]));
    expect(again.every((e) => e.fencing > originals[0]!.fencing)).toBe(true);
  });
});
