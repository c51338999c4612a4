import pg from 'pg';
import type { Channel, ConfirmChannel } from 'amqplib';
import { OUTBOX_CHANNEL, backoffMs, counter, gauge, sleep, type Logger, type Pool, type Producer } from '../platform/index.ts';
import { topicName } from '../schemas/index.ts';
import { PUSH_EXCHANGE, PUSH_ROUTING_KEY, publishBatch, publishPushBatch, type PublishTargets } from './outbox-publish.ts';

export { PUSH_EXCHANGE, PUSH_ROUTING_KEY };

const m = {
  failures: counter('stam_relay_failures_total', 'publish attempts that failed and will be retried'),
  backlog: gauge('stam_relay_backlog_rows', 'unpublished outbox rows'),
  oldestAge: gauge('stam_relay_oldest_unpublished_seconds', 'age of the oldest unpublished outbox row'),
  setAside: gauge('stam_relay_set_aside_rows', 'outbox rows set aside, waiting for `stam dlq replay outbox`'),
  pushBacklog: gauge('stam_relay_push_backlog_rows', 'push jobs of published updates not yet confirmed by RabbitMQ'),
  pushFailures: counter('stam_relay_push_failures_total', 'push-job publishes that failed and will be retried (the updates went on)'),
};

export interface OutboxRelayOptions {
  pool: Pool;
  databaseUrl: string;
  producer: Producer;
  log: Logger;
  topicPrefix: string;
  batchSize: number;
  idleMs: number;
  /** When push is enabled: a confirm channel on which system.notifications is declared (or the current one of a kept-alive link). */
  pushChannel?: ConfirmChannel | (() => ConfirmChannel | undefined);
  /** Published rows older than this are deleted. */
  retentionHours: number;
}

/**
 * Publishes outbox rows (outbox-publish.ts says how and what it guarantees): right after a NOTIFY on the
 * outbox channel, or at the latest every `idleMs`, batch after batch while rows wait. A failed publish
 * retries with backoff; a row that can never be published is set aside rather than retried forever.
 */
export function createOutboxRelay(opts: OutboxRelayOptions) {
  const { pool, log } = opts;
  const targets: PublishTargets = {
    alarmTopic: topicName('alarm.updates.v1', opts.topicPrefix),
    resultsTopic: topicName('command.results.v1', opts.topicPrefix),
    producer: opts.producer, pushChannel: opts.pushChannel, log,
  };
  const abort = new AbortController();
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let listener: pg.Client | undefined;
  let housekeeping: NodeJS.Timeout | undefined;

  /** Push jobs, apart from the updates: a RabbitMQ failure is counted and retried next round, the updates go on meanwhile. */
  let pushFailures = 0;
  let pushRetryAt = 0;
  async function publishPush(): Promise<number> {
    if (!targets.pushChannel || Date.now() < pushRetryAt) return 0;
    try {
      const n = await publishPushBatch(pool, opts.batchSize, targets);
      pushFailures = 0;
      return n;
    } catch (err) {
      m.pushFailures.inc();
      const wait = backoffMs(pushFailures++, 200, 10_000);
      pushRetryAt = Date.now() + wait;
      log.warn({ err: (err as Error).message, waitMs: wait }, 'push jobs not published; the updates go on, the jobs are retried');
      return 0;
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        const n = await publishBatch(pool, opts.batchSize, targets);
        failures = 0;
        const p = await publishPush();
        if (n >= opts.batchSize || p >= opts.batchSize) continue; // more waiting
        // Idle until the LISTEN notification, the poll interval, or stop() — whichever comes first.
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => { wake = undefined; resolve(); }, opts.idleMs);
          wake = () => { wake = undefined; clearTimeout(t); resolve(); };
        });
      } catch (err) {
        m.failures.inc();
        const wait = backoffMs(failures++, 200, 10_000);
        log.warn({ err: (err as Error).message, waitMs: wait }, 'outbox publish failed; retrying');
        await sleep(wait, abort.signal);
      }
    }
  }

  async function measureBacklog(): Promise<void> {
    const { rows } = await pool.query<{ n: number; oldest: number | null; aside: number; push: number }>(
      `SELECT count(*) FILTER (WHERE published_at IS NULL AND failed_at IS NULL)::int AS n,
              extract(epoch from now() - min(created_at) FILTER (WHERE published_at IS NULL AND failed_at IS NULL))::float8 AS oldest,
              count(*) FILTER (WHERE published_at IS NULL AND failed_at IS NOT NULL)::int AS aside,
              count(*) FILTER (WHERE push AND push_published_at IS NULL AND published_at IS NOT NULL)::int AS push
         FROM outbox WHERE published_at IS NULL OR (push AND push_published_at IS NULL)`,
    );
    m.backlog.set(rows[0]?.n ?? 0);
    m.oldestAge.set(rows[0]?.oldest ?? 0);
    m.setAside.set(rows[0]?.aside ?? 0);
    m.pushBacklog.set(rows[0]?.push ?? 0);
    // A row whose push job has not gone out yet is kept, however old.
    await pool.query(`DELETE FROM outbox WHERE published_at < now() - make_interval(hours => $1) AND (NOT push OR push_published_at IS NOT NULL)`, [opts.retentionHours]);
  }

  let relisten: NodeJS.Timeout | undefined;

  /** Connects the LISTEN client again a while after it was lost; the idle poll carries on meanwhile. */
  function scheduleListen(): void {
    if (abort.signal.aborted || relisten) return;
    relisten = setTimeout(() => { relisten = undefined; void listen(); }, 5_000);
  }

  async function listen(): Promise<void> {
    // LISTEN for low latency; the idle poll covers a missed notification or a lost listener connection.
    const client = new pg.Client({ connectionString: opts.databaseUrl, application_name: 'stam-outbox-listen' });
    listener = client;
    client.on('error', (err) => {
      log.warn({ err: err.message }, 'outbox LISTEN connection lost; polling continues');
      void client.end().catch(() => undefined);
      scheduleListen();
    });
    client.on('notification', () => wake?.());
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'outbox LISTEN unavailable; polling only until it is back');
      void client.end().catch(() => undefined);
      scheduleListen();
    }
  }

  return {
    async start(): Promise<void> {
      await listen();
      loop = run();
      housekeeping = setInterval(() => void measureBacklog().catch((err: Error) => log.warn({ err: err.message }, 'outbox housekeeping failed')), 5_000);
      log.info({ topic: targets.alarmTopic, push: Boolean(opts.pushChannel) }, 'outbox relay publishing');
    },
    async stop(): Promise<void> {
      abort.abort();
      wake?.();
      clearInterval(housekeeping);
      clearTimeout(relisten);
      await loop;
      await listener?.end().catch(() => undefined);
    },
  };
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;

/** The push jobs' queue (consumed by the notifier), its dead-letter exchange and queue. */
export const PUSH_QUEUE = 'notifications.push';
export const PUSH_DLX = `${PUSH_EXCHANGE}.dlx`;
export const PUSH_DEAD_QUEUE = 'notifications.push.dlq';

/** Declares the push topology: exchange, queue with a dead-letter queue. Durable; quorum in production. */
export async function declarePushTopology(ch: Channel, quorum: boolean): Promise<void> {
  const args = quorum ? { 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } : {};
  await ch.assertExchange(PUSH_EXCHANGE, 'topic', { durable: true });
  await ch.assertExchange(PUSH_DLX, 'topic', { durable: true });
  await ch.assertQueue(PUSH_DEAD_QUEUE, { durable: true, arguments: quorum ? { 'x-queue-type': 'quorum' } : {} });
  await ch.bindQueue(PUSH_DEAD_QUEUE, PUSH_DLX, '#');
  await ch.assertQueue(PUSH_QUEUE, { durable: true, arguments: { ...args, 'x-dead-letter-exchange': PUSH_DLX } });
  await ch.bindQueue(PUSH_QUEUE, PUSH_EXCHANGE, PUSH_ROUTING_KEY);
}
