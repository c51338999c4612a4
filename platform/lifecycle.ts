import type { Logger } from './logger.ts';
import type { Lifecycle } from './ops.ts';

export interface Service { stop(): Promise<void> }

/**
 * Runs a role: start it, then on SIGTERM/SIGINT stop taking work and drain within `graceMs`; past the
 * deadline exit hard. A crash (uncaught exception, unhandled rejection) is logged and exits non-zero so
 * the supervisor restarts the role.
 */
export async function runService(opts: {
  name: string; log: Logger; graceMs: number; lifecycle?: Lifecycle; start: () => Promise<Service>;
}): Promise<void> {
  const { log } = opts;
  const lifecycle: Lifecycle = opts.lifecycle ?? { state: 'starting' };
  let service: Service | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (signal: string): Promise<void> => {
    if (stopping) return stopping;
    lifecycle.state = 'draining';
    log.info({ signal, graceMs: opts.graceMs }, `${opts.name} draining`);
    const deadline = setTimeout(() => {
      log.error({ graceMs: opts.graceMs }, `${opts.name} did not drain in time; exiting hard`);
      process.exit(1);
    }, opts.graceMs);
    deadline.unref();
    stopping = (async () => {
      try {
        await service?.stop();
        lifecycle.state = 'stopped';
        log.info(`${opts.name} stopped`);
        process.exitCode = 0;
      } catch (err) {
        log.error({ err }, `${opts.name} failed while stopping`);
        process.exitCode = 1;
      } finally {
        clearTimeout(deadline);
      }
      // Let pino flush, then leave even if a library keeps a handle open.
      setTimeout(() => process.exit(), 50).unref();
    })();
    return stopping;
  };

  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('uncaughtException', (err) => { log.fatal({ err }, `${opts.name} crashed`); process.exit(1); });
  process.on('unhandledRejection', (err) => { log.fatal({ err }, `${opts.name} crashed on an unhandled rejection`); process.exit(1); });

  try {
    service = await opts.start();
    if (lifecycle.state === 'starting') lifecycle.state = 'running';
    log.info(`${opts.name} running`);
  } catch (err) {
    log.fatal({ err }, `${opts.name} failed to start`);
    process.exit(1);
  }
}
