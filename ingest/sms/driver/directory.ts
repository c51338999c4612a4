/** The sensors table as the SMS core's directory, re-read periodically; the last good copy survives a database hiccup. */
import { createSensorDirectory, type SensorDirectory, type SensorEntry } from '../core/index.ts';
import type { Logger, Pool } from '../../../platform/index.ts';

export async function loadSensorDirectory(pool: Pool): Promise<SensorDirectory> {
  const { rows } = await pool.query<{ sensor_ref: string; sender: string; name: string; vendor: string; template: string | null; aliases: string[] }>(
    'SELECT sensor_ref, sender, name, vendor, template, aliases FROM sensors ORDER BY id');
  return createSensorDirectory(rows.map((r): SensorEntry => ({
    sensorRef: r.sensor_ref, sender: r.sender, name: r.name, vendor: r.vendor, template: r.template, aliases: r.aliases,
  })));
}

export function createDirectoryCache(o: { pool: Pool; refreshMs: number; log: Logger }) {
  let current: SensorDirectory | undefined;
  let timer: NodeJS.Timeout | undefined;
  let ready: Promise<void> | undefined;

  const refresh = async () => {
    current = await loadSensorDirectory(o.pool);
  };

  return {
    get(): SensorDirectory {
      if (!current) throw new Error('sensor directory not loaded');
      return current;
    },
    /** Resolves once the sensors were read (retrying): no SMS is interpreted before, or it would land on the unknown-senders object. */
    start(): Promise<void> {
      ready ??= (async () => {
        for (let attempt = 0; ; attempt++) {
          try { await refresh(); break; } catch (err) {
            o.log.warn({ err: (err as Error).message }, 'sensors not readable yet; SMS wait on the SIM');
            await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)));
          }
        }
        o.log.info({ sensors: current!.size }, 'sensor directory loaded');
        timer = setInterval(() => void refresh().catch((err: Error) => o.log.warn({ err: err.message }, 'sensor refresh failed; keeping the last copy')), o.refreshMs);
      })();
      return ready;
    },
    stop(): void { clearInterval(timer); },
  };
}
