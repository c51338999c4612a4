import { createLogger, loadConfig } from '../platform/index.ts';
import { stackDown, stackUp } from '../infra/stack.ts';
import { buildTemplateDatabase } from './helpers/env.ts';
import { ensureConsoleBuilt } from '../console/build.ts';

/**
 * `npm test` stands on its own: bring up PostgreSQL, Redis, RabbitMQ and a Kafka broker when they do not
 * answer, and build a migrated template database that each test file clones (CREATE DATABASE … TEMPLATE).
 */
export default async function setup(): Promise<() => Promise<void>> {
  const config = loadConfig();
  const log = createLogger('test-setup', 'warn');
  const brokerWasUp = await brokerAnswers(config.KAFKA_BROKERS);
  await stackUp(config, log);

  await buildTemplateDatabase(log);
  // The browser tests drive the console as built: a changed source is built again first.
  ensureConsoleBuilt();

  return async () => {
    if (!brokerWasUp && !process.env.KEEP_BROKER) await stackDown(config, log);
  };
}

async function brokerAnswers(brokers: string): Promise<boolean> {
  const { createConnection } = await import('node:net');
  const [host, port] = (brokers.split(',')[0] ?? '127.0.0.1:9092').split(':');
  return new Promise((resolve) => {
    const s = createConnection({ host: host ?? '127.0.0.1', port: Number(port ?? 9092) });
    s.setTimeout(1000, () => { s.destroy(); resolve(false); });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
