import { createLogger, type Pool } from '../../platform/index.ts';
import { codecFor, topicName, type PanelLink, type SatelEvent } from '../../schemas/index.ts';
import { createSatelDriver, type SatelDriver, type SatelDriverOptions } from '../../ingest/satel/driver/index.ts';
import type { TestEnv } from './env.ts';
import { waitUntil } from './system.ts';

/** A Satel driver in this process against the test's database, broker and Redis; fast settings for tests. */
export function testDriver(env: TestEnv, extra: Partial<SatelDriverOptions> = {}): SatelDriver {
  return createSatelDriver({
    kafka: env.kafka, pool: env.pool, redis: env.redis, log: createLogger('satel-test', process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent'),
    topicPrefix: env.id, pollIntervalMs: 200, answerTimeoutMs: 500, panelRefreshMs: 500, connectTimeoutMs: 1_000, keepAliveMs: 5_000,
    logSweepMs: 1_000, logCatchUpMax: 5_000, supervisionMs: 600_000, ...extra,
  });
}

/** One object with one panel; returns the panel id. */
export async function addPanel(pool: Pool, port: number, opts: { model?: string; keyEnc?: Buffer; code?: string } = {}): Promise<number> {
  const code = opts.code ?? `OBJ-${port}-${Math.random().toString(36).slice(2, 8)}`;
  const o = await pool.query<{ id: number }>('INSERT INTO objects (code, name) VALUES ($1, $1) RETURNING id', [code]);
  const p = await pool.query<{ id: number }>(
    `INSERT INTO panels (object_id, name, host, port, model, integration_key_enc) VALUES ($1, $2, '127.0.0.1', $3, $4, $5) RETURNING id`,
    [o.rows[0]!.id, `panel ${code}`, port, opts.model ?? 'integra128', opts.keyEnc ?? null],
  );
  return p.rows[0]!.id;
}

export interface TopicTail<T> {
  items: T[];
  waitFor(what: string, check: (items: T[]) => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Reads a topic of the test from its beginning into `items` (its own consumer group). */
export async function tailTopic<T extends SatelEvent | PanelLink>(env: TestEnv, base: 'satel.events.v1' | 'panel.link.v1'): Promise<TopicTail<T>> {
  const codec = codecFor(base === 'satel.events.v1' ? 'SatelEvent' : 'PanelLink');
  const consumer = env.kafka.consumer({ groupId: `${env.id}-tail-${base}-${Math.random().toString(36).slice(2, 8)}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: topicName(base, env.id), fromBeginning: true });
  const items: T[] = [];
  await consumer.run({ eachMessage: ({ message }) => { items.push(codec.decode(message.value!) as T); return Promise.resolve(); } });
  return {
    items,
    waitFor: (what, check, timeoutMs = 30_000) => waitUntil(what, () => check(items), timeoutMs, 50),
    stop: () => consumer.disconnect(),
  };
}

/** The driver's status of one panel. */
export function statusOf(driver: SatelDriver, panelId: number) {
  return driver.status().find((s) => s.panelId === panelId);
}

/** Counts of each value: the test of "every event exactly once". */
export function counts<T>(values: T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}
