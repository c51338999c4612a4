import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/index.ts';
import { createSimulator, type Simulator } from '../../simulator/index.ts';
import type { SatelDriver } from '../../ingest/satel/driver/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { addPanel, testDriver } from '../helpers/satel.ts';
import { waitUntil } from '../helpers/system.ts';

/** Zone and partition names read from the panels (0xEE) for panels the centre has no zone names for. */
describe('Satel driver: names from the panel', () => {
  let env: TestEnv;
  let sim: Simulator;
  let driver: SatelDriver;

  beforeAll(async () => {
    env = await createTestEnv();
    sim = createSimulator({ panels: 2, basePort: 0, controlPort: 0, log: createLogger('sim', 'silent') });
    await sim.start();
  });
  afterAll(async () => {
    await driver?.stop();
    await sim?.stop();
    await env?.cleanup();
  });

  const names = async (table: 'zones' | 'partitions', panelId: number) =>
    (await env.pool.query<{ number: number; name: string }>(`SELECT number, name FROM ${table} WHERE panel_id = $1 ORDER BY number`, [panelId])).rows;

  it('stores the names of a panel without any, and leaves a panel with configured names alone', async () => {
    const unnamed = await addPanel(env.pool, sim.ports[0]!);
    const named = await addPanel(env.pool, sim.ports[1]!);
    await env.pool.query(`INSERT INTO zones (panel_id, number, name) VALUES ($1, 1, 'Front door')`, [named]);
    driver = testDriver(env, { nameReadsPerS: 2_000 });
    await driver.start();

    // The simulated INTEGRA 128 has 128 zones; numbers beyond its partitions are answered 0xEF and skipped.
    await waitUntil('zone names of the unnamed panel stored', async () => (await names('zones', unnamed)).length === 128, 30_000);
    const zones = await names('zones', unnamed);
    expect(zones[0]).toEqual({ number: 1, name: 'Zone 1' });
    expect(zones[127]).toEqual({ number: 128, name: 'Zone 128' });
    const partitions = await names('partitions', unnamed);
    expect(partitions.length).toBeGreaterThan(0);
    expect(partitions[0]).toEqual({ number: 1, name: 'Partition 1' });

    // Polling went on meanwhile, and the named panel was never asked.
    expect(driver.status().find((s) => s.panelId === unnamed)?.polls).toBeGreaterThan(0);
    expect(await names('zones', named)).toEqual([{ number: 1, name: 'Front door' }]);
    expect(await names('partitions', named)).toEqual([]);
  });
});
