import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { createRedis } from './redis.ts';

/**
 * Removes what one isolated run (a test file, a benchmark, a `stam load` run) created under its id:
 * topics `<id>.*`, Redis keys `<id>:*` and the database `stam_<id>`. Tests, benchmarks and the load
 * runner all name their resources this way.
 */
export async function dropRunResources(o: { id: string; kafka: Kafka; redisUrl: string; databaseUrl: string }): Promise<void> {
  const admin = o.kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${o.id}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
  const redis = createRedis(o.redisUrl); // no key prefix: SCAN and DEL see the stored names
  try {
    for (let cursor = '0'; ;) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${o.id}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      if ((cursor = next) === '0') break;
    }
  } finally {
    await redis.quit();
  }
  const adminDb = new URL(o.databaseUrl);
  adminDb.pathname = '/postgres';
  const c = new pg.Client({ connectionString: adminDb.toString() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "stam_${o.id}" WITH (FORCE)`).finally(() => c.end());
}
