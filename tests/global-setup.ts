import pg from 'pg';
import { createLogger, loadConfig, migrate } from '../platform/index.ts';
import { stackDown, stackUp } from '../cli/stack.ts';
import { adminUrl, TEMPLATE_DB } from './helpers/env.ts';

/**
 * `npm test` stands on its own: bring up PostgreSQL, Redis, RabbitMQ and a Kafka broker when they do not
 * answer, and build a migrated template database that each test file clones (CREATE DATABASE … TEMPLATE).
 */
export default async function setup(): Promise<() => Promise<void>> {
  const config = loadConfig();
  const log = createLogger('test-setup', 'warn');
  const brokerWasUp = await brokerAnswers(config.KAFKA_BROKERS);
  await stackUp(config, log);

  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [TEMPLATE_DB]);
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB}`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${TEMPLATE_DB}`;
  await migrate(url.toString(), log);

  return () => {
    if (!brokerWasUp && !process.env.KEEP_BROKER) stackDown(config);
    return Promise.resolve();
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
