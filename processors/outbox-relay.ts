import pg from 'pg';
import type { ConfirmChannel } from 'amqplib';
import {
  counter, gauge, inTransaction, histogram, backoffMs, sleep, type Logger, type Pool, type Producer,
} from '../platform/index.ts';
import { codecFor, topicName, type AlarmUpdate, type CommandResult } from '../schemas/index.ts';
import { RESULT_STAGE_HEADER } from '../commands/index.ts';

const m = {
  published: counter('stam_relay_published_total', 'outbox rows published', ['kind']),
  pushJobs: counter('stam_relay_push_jobs_total', 'push jobs published to RabbitMQ'),
  failures: counter('stam_relay_failures_total', 'publish attempts that failed and will be retried'),
  backlog: gauge('stam_relay_backlog_rows', 'unpublished outbox rows'),
  oldestAge: gauge('stam_relay_oldest_unpublished_seconds', 'age of the oldest unpublished outbox row'),
  latency: histogram('stam_relay_publish_seconds', 'outbox row created → broker acknowledged'),
};

export const PUSH_EXCHANGE = 'system.notifications';
export const PUSH_ROUTING_KEY = 'notification.push.alarm';

export interface OutboxRelayOptions {
  pool: Pool;
  databaseUrl: string;
  producer: Producer;
  log: Logger;
  topicPrefix: string;
  batchSize: number;
  idleMs: number;
  /** When push is enabled: a confirm channel on which system.notifications is declared. */
  pushChannel?: ConfirmChannel;
  retentionHours?: number;
}

interface OutboxRow { id: number; kind: string; key: string; payload: AlarmUpdate; push: boolean; created_ms: number }
/** Rows of kind `command.result` (written by the command processor) go to command.results.v1 as the `final` stage. */
const COMMAND_RESULT_KIND = 'command.result';

/**
 * Publishes outbox rows. Method (see stack-notes, outbox): claim unpublished rows with
 * `FOR UPDATE SKIP LOCKED` inside a transaction, publish them, mark them published and commit.
 *  - A row whose transaction commits late is simply unpublished until then: nothing is ever skipped
 *    (a `WHERE id > cursor` reader would skip it).
 *  - Two relays never hold the same row: the lock is held from claim until the mark commits.
 *  - The mark is written only after the broker acknowledged (acks -1, publisher confirms); a crash in
 *    between republishes the row, so consumers see each alarm version at least once and order by
 *    `version`, not by arrival.
 */
export function createOutboxRelay(opts: OutboxRelayOptions) {
  const { pool, producer, log } = opts;
  const topic = topicName('alarm.updates.v1', opts.topicPrefix);
  const codec = codecFor('AlarmUpdate');
  const resultsTopic = topicName('command.results.v1', opts.topicPrefix);
  const resultCodec = codecFor('CommandResult');
  const abort = new AbortController();
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let listener: pg.Client | undefined;
  let housekeeping: NodeJS.Timeout | undefined;

  async function publishOnce(): Promise<number> {
    // The client is held across the Kafka and RabbitMQ confirms: the row locks are what keep a second
    // relay from publishing the same rows.
    const published = await inTransaction(pool, async (client) => {
      const { rows } = await client.query<OutboxRow>(
        `SELECT id, kind, key, payload, push, (extract(epoch from created_at) * 1000)::float8 AS created_ms
           FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [opts.batchSize],
      );
      if (rows.length === 0) return [];
      const alarms = rows.filter((r) => r.kind !== COMMAND_RESULT_KIND);
      const results = rows.filter((r) => r.kind === COMMAND_RESULT_KIND);
      await producer.sendBatch({
        acks: -1,
        topicMessages: [
          ...(alarms.length > 0 ? [{ topic, messages: alarms.map((r) => ({ key: r.key, value: codec.encode(r.payload), headers: { 'x-alarm-version': String(r.payload.version) } })) }] : []),
          ...(results.length > 0 ? [{
            topic: resultsTopic,
            messages: results.map((r) => ({ key: r.key, value: resultCodec.encode(r.payload as unknown as CommandResult), headers: { [RESULT_STAGE_HEADER]: 'final' } })),
          }] : []),
        ],
      });
      const push = alarms.filter((r) => r.push);
      if (push.length > 0 && opts.pushChannel) {
        const ch = opts.pushChannel;
        for (const r of push) {
          ch.publish(PUSH_EXCHANGE, PUSH_ROUTING_KEY, Buffer.from(JSON.stringify({
            alarm_id: r.payload.alarm_id, version: r.payload.version, object_id: r.payload.object_id,
            severity: r.payload.severity, title: r.payload.title, category: r.payload.category, first_event_at: r.payload.first_event_at,
          })), { persistent: true, contentType: 'application/json', messageId: `alarm-${r.payload.alarm_id}-v${r.payload.version}` });
        }
        await ch.waitForConfirms();
        m.pushJobs.inc(push.length);
      }
      await client.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      return rows;
    });
    const now = Date.now();
    let alarms = 0;
    for (const r of published) {
      m.latency.observe(Math.max(0, now - r.created_ms) / 1000);
      if (r.kind !== COMMAND_RESULT_KIND) alarms++;
    }
    if (alarms > 0) m.published.inc({ kind: 'alarm.update' }, alarms);
    if (published.length > alarms) m.published.inc({ kind: COMMAND_RESULT_KIND }, published.length - alarms);
    return published.length;
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        const n = await publishOnce();
        failures = 0;
        if (n >= opts.batchSize) continue; // more waiting
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
    const { rows } = await pool.query<{ n: number; oldest: number | null }>(
      `SELECT count(*)::int AS n, extract(epoch from now() - min(created_at))::float8 AS oldest FROM outbox WHERE published_at IS NULL`,
    );
    m.backlog.set(rows[0]?.n ?? 0);
    m.oldestAge.set(rows[0]?.oldest ?? 0);
    const hours = opts.retentionHours ?? 24;
    await pool.query(`DELETE FROM outbox WHERE published_at < now() - make_interval(hours => $1)`, [hours]);
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
      await client.query('LISTEN stam_outbox');
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
      log.info({ topic, push: Boolean(opts.pushChannel) }, 'outbox relay publishing');
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

/** Declares the push topology: exchange, queue with a dead-letter queue. Durable; quorum in production. */
export async function declarePushTopology(ch: ConfirmChannel, quorum: boolean): Promise<void> {
  const args = quorum ? { 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } : {};
  await ch.assertExchange(PUSH_EXCHANGE, 'topic', { durable: true });
  await ch.assertExchange(`${PUSH_EXCHANGE}.dlx`, 'topic', { durable: true });
  await ch.assertQueue('notifications.push.dlq', { durable: true, arguments: quorum ? { 'x-queue-type': 'quorum' } : {} });
  await ch.bindQueue('notifications.push.dlq', `${PUSH_EXCHANGE}.dlx`, '#');
  await ch.assertQueue('notifications.push', { durable: true, arguments: { ...args, 'x-dead-letter-exchange': `${PUSH_EXCHANGE}.dlx` } });
  await ch.bindQueue('notifications.push', PUSH_EXCHANGE, PUSH_ROUTING_KEY);
}
