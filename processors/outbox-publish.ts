import type { ConfirmChannel } from 'amqplib';
import type { Message } from 'kafkajs';
import { RESULT_STAGE_HEADER } from '../commands/index.ts';
import { counter, histogram, inTransaction, isStamError, type Logger, type Pool, type PoolClient, type Producer } from '../platform/index.ts';
import { codecFor, type AlarmUpdate, type CommandResult } from '../schemas/index.ts';

const m = {
  published: counter('stam_relay_published_total', 'outbox rows published', ['kind']),
  pushJobs: counter('stam_relay_push_jobs_total', 'push jobs published to RabbitMQ'),
  setAside: counter('stam_relay_set_aside_total', 'outbox rows set aside because they cannot be published (bad payload, refused by the broker)', ['kind', 'code']),
  latency: histogram('stam_relay_publish_seconds', 'outbox row created → broker acknowledged'),
};

export const PUSH_EXCHANGE = 'system.notifications';
export const PUSH_ROUTING_KEY = 'notification.push.alarm';

/** Rows of kind `command.result` (written by the command processor) go to command.results.v1 as the `final` stage. */
const COMMAND_RESULT_KIND = 'command.result';

interface OutboxRow { id: number; kind: string; key: string; payload: unknown; push: boolean; created_ms: number }
interface Encoded { row: OutboxRow; topic: string; message: Message }
interface SetAside { row: OutboxRow; code: string; reason: string }

export interface PublishTargets {
  alarmTopic: string;
  resultsTopic: string;
  producer: Producer;
  /** The channel push jobs go out on (or a getter: the current channel of a kept-alive link, undefined while down). */
  pushChannel?: ConfirmChannel | (() => ConfirmChannel | undefined) | undefined;
  log: Logger;
}

const alarmCodec = codecFor('AlarmUpdate');
const resultCodec = codecFor('CommandResult');

function encode(row: OutboxRow, t: PublishTargets): Encoded {
  if (row.kind === COMMAND_RESULT_KIND) {
    return { row, topic: t.resultsTopic, message: { key: row.key, value: resultCodec.encode(row.payload as CommandResult), headers: { [RESULT_STAGE_HEADER]: 'final' } } };
  }
  const u = row.payload as AlarmUpdate;
  return { row, topic: t.alarmTopic, message: { key: row.key, value: alarmCodec.encode(u), headers: { 'x-alarm-version': String(u.version) } } };
}

/** A broker refusal that the same message will meet again (too large, invalid record): set it aside, don't retry. */
function refusedForGood(err: unknown): boolean {
  for (let e = err as { name?: unknown; retriable?: unknown; cause?: unknown } | undefined; e && typeof e === 'object'; e = e.cause as typeof e) {
    if (e.name === 'KafkaJSProtocolError' && e.retriable === false) return true;
  }
  return false;
}

async function send(producer: Producer, list: Encoded[]): Promise<void> {
  const byTopic = new Map<string, Message[]>();
  for (const e of list) byTopic.set(e.topic, [...(byTopic.get(e.topic) ?? []), e.message]);
  await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
}

/**
 * Sends the rows; when the broker refuses the batch for good, sends them one at a time and returns those it
 * refuses (a row published twice this way is one more copy of a version, which consumers already expect).
 */
async function sendIsolating(producer: Producer, list: Encoded[]): Promise<SetAside[]> {
  if (list.length === 0) return [];
  try {
    await send(producer, list);
    return [];
  } catch (err) {
    if (!refusedForGood(err)) throw err;
  }
  const refused: SetAside[] = [];
  for (const e of list) {
    try {
      await send(producer, [e]);
    } catch (err) {
      if (!refusedForGood(err)) throw err;
      refused.push({ row: e.row, code: 'E_BROKER_REFUSED', reason: `refused by the broker: ${(err as Error).message}` });
    }
  }
  return refused;
}

async function publishPushJobs(ch: ConfirmChannel, rows: OutboxRow[]): Promise<void> {
  for (const r of rows) {
    const u = r.payload as AlarmUpdate;
    ch.publish(PUSH_EXCHANGE, PUSH_ROUTING_KEY, Buffer.from(JSON.stringify({
      alarm_id: u.alarm_id, version: u.version, object_id: u.object_id, severity: u.severity, title: u.title, category: u.category, first_event_at: u.first_event_at,
    })), {
      persistent: true, contentType: 'application/json', messageId: `alarm-${u.alarm_id}-v${u.version}`,
      // When it was queued: the notifier's "age of the oldest job" (AMQP timestamps are whole seconds).
      timestamp: Math.floor(Date.now() / 1000), headers: { 'x-published-at': Date.now() },
    });
  }
  await ch.waitForConfirms();
  m.pushJobs.inc(rows.length);
}

async function markSetAside(client: PoolClient, list: SetAside[], log: Logger): Promise<void> {
  if (list.length === 0) return;
  await client.query(
    'UPDATE outbox o SET failed_at = now(), error = t.reason FROM unnest($1::bigint[], $2::text[]) AS t(id, reason) WHERE o.id = t.id',
    [list.map((s) => s.row.id), list.map((s) => `${s.code}: ${s.reason}`.slice(0, 2000))],
  );
  for (const s of list) {
    m.setAside.inc({ kind: s.row.kind, code: s.code });
    log.error({ outboxId: s.row.id, kind: s.row.kind, key: s.row.key, code: s.code, reason: s.reason }, 'outbox row set aside: it cannot be published (see `stam dlq list`)');
  }
}

/**
 * Publishes one batch of outbox rows; returns how many rows it took (published or set aside).
 * Method (see stack-notes, outbox): claim unpublished rows with `FOR UPDATE SKIP LOCKED` inside a
 * transaction, publish them, mark them published and commit.
 *  - A row whose transaction commits late is simply unpublished until then: nothing is ever skipped
 *    (a `WHERE id > cursor` reader would skip it).
 *  - Two relays never hold the same row: the lock is held from claim until the mark commits (the client is
 *    held across the Kafka and RabbitMQ confirms for that reason).
 *  - The mark is written only after the broker acknowledged (acks -1, publisher confirms); a crash in
 *    between republishes the row, so consumers see each alarm version at least once and order by
 *    `version`, not by arrival.
 *  - A row that cannot be published — its payload does not encode, or the broker refuses it for good — is
 *    set aside (failed_at, error; counted and logged) in the same transaction, and the rows behind it flow.
 *  - Push jobs go out apart (publishPushBatch), so RabbitMQ being away never holds an update back from
 *    operators' screens.
 */
export async function publishBatch(pool: Pool, batchSize: number, t: PublishTargets): Promise<number> {
  const done = await inTransaction(pool, async (client) => {
    const { rows } = await client.query<OutboxRow>(
      `SELECT id, kind, key, payload, push, (extract(epoch from created_at) * 1000)::float8 AS created_ms
         FROM outbox WHERE published_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [batchSize],
    );
    if (rows.length === 0) return { published: [], setAside: 0 };
    const encoded: Encoded[] = [];
    const setAside: SetAside[] = [];
    for (const row of rows) {
      try {
        encoded.push(encode(row, t));
      } catch (err) {
        setAside.push({ row, code: isStamError(err) ? err.code : 'E_EVENT_INVALID', reason: `does not encode: ${(err as Error).message}` });
      }
    }
    setAside.push(...(await sendIsolating(t.producer, encoded)));
    const refused = new Set(setAside.map((s) => s.row.id));
    const published = encoded.map((e) => e.row).filter((r) => !refused.has(r.id));
    await markSetAside(client, setAside, t.log);
    if (published.length > 0) await client.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])', [published.map((r) => r.id)]);
    return { published, setAside: setAside.length };
  });
  const now = Date.now();
  let results = 0;
  for (const r of done.published) {
    m.latency.observe(Math.max(0, now - r.created_ms) / 1000);
    if (r.kind === COMMAND_RESULT_KIND) results++;
  }
  if (done.published.length > results) m.published.inc({ kind: 'alarm.update' }, done.published.length - results);
  if (results > 0) m.published.inc({ kind: COMMAND_RESULT_KIND }, results);
  return done.published.length + done.setAside;
}

/**
 * Publishes the push jobs of rows already on Kafka (CRITICAL openings), claimed like the rows themselves
 * (`FOR UPDATE SKIP LOCKED`) and marked only after RabbitMQ confirmed them: a crash in between publishes a
 * job again (the notifier's ledger sends once per device). Returns the jobs published; 0 while RabbitMQ is
 * not connected — the rows wait, and the updates on Kafka do not.
 */
export async function publishPushBatch(pool: Pool, batchSize: number, t: PublishTargets): Promise<number> {
  const ch = typeof t.pushChannel === 'function' ? t.pushChannel() : t.pushChannel;
  if (!ch) return 0;
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<OutboxRow>(
      `SELECT id, kind, key, payload, push, (extract(epoch from created_at) * 1000)::float8 AS created_ms FROM outbox
        WHERE push AND push_published_at IS NULL AND published_at IS NOT NULL AND kind <> '${COMMAND_RESULT_KIND}'
        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [batchSize],
    );
    if (rows.length === 0) return 0;
    await publishPushJobs(ch, rows);
    await client.query('UPDATE outbox SET push_published_at = now() WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
    return rows.length;
  });
}
