/**
 * The simulator process of a self-contained load run: `stam simulator` plus the trace side channel —
 * every generated event-log record's trace is mirrored into Redis (satel-trace-mirror.ts), where the
 * driver (SATEL_TRACE_SOURCE=redis) finds it, so each event carries its trace from panel to screen.
 * Runs as its own process so its CPU and memory are measured apart from the load runner's.
 *   node --import tsx load-tests/simulator-host.ts   (settings from LOAD_SIM_* and REDIS_* variables)
 */
import { createLogger, createRedis } from '../platform/index.ts';
import { createSimulator } from '../simulator/index.ts';
import { createTraceMirror } from './satel-trace-mirror.ts';

const env = (name: string, def?: string): string => {
  const v = process.env[name] ?? def;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};

const log = createLogger('simulator');
const redis = createRedis(env('REDIS_URL', 'redis://127.0.0.1:6379'), env('REDIS_KEY_PREFIX', ''), (err) => log.warn({ err: err.message }, 'redis error'));
const mirror = createTraceMirror(redis);
const sim = createSimulator({
  panels: Number(env('LOAD_SIM_PANELS')),
  basePort: Number(env('LOAD_SIM_PORT')),
  controlPort: Number(env('LOAD_SIM_CONTROL_PORT')),
  logSize: Number(env('LOAD_SIM_LOG_SIZE', '6000')),
  traceCapacity: Number(env('LOAD_SIM_TRACE_CAPACITY', '200000')),
  userCode: env('SIMULATOR_USER_CODE', '1234'),
  log,
  onEvent: mirror.onEvent,
});

await sim.start();
mirror.setPorts(sim.ports);
log.info({ panels: sim.ports.length, firstPort: sim.ports[0], control: sim.controlUrl }, 'load simulator ready');

const stop = async (signal: string): Promise<void> => {
  log.info({ signal, mirrored: mirror.mirrored, mirrorFailures: mirror.failed }, 'load simulator stopping');
  await sim.stop();
  await redis.quit().catch(() => redis.disconnect());
  process.exit(0);
};
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
