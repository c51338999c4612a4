import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { counter, gauge, histogram, panelStateChannel, panelStateKey, type IHeaders, type Logger, type Pool, type Redis } from '../platform/index.ts';
import { codecFor, topicName, type AlarmUpdate } from '../schemas/index.ts';
import { RESULT_STAGE_HEADER } from '../commands/index.ts';
import type { AlarmMessage, Recorded, StreamEvent } from './messages.ts';
import { BUFFER_KEY, EPOCH_KEY } from './redis-keys.ts';
import { contiguousFrom } from './resume.ts';
import { configDefaults } from '../platform/index.ts';

const m = {
  received: counter('stam_gateway_updates_received_total', 'alarm updates read from the topic'),
  undecodable: counter('stam_gateway_updates_undecodable_total', 'alarm updates that could not be decoded'),
  subscribers: gauge('stam_gateway_ws_clients', 'connected WebSocket clients'),
  recordFailures: counter('stam_gateway_stream_record_failures_total', 'failed writes of the stream buffer/history', ['store']),
  lag: histogram('stam_gateway_update_age_seconds', 'alarm update age (updated_at → read by the gateway)', [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
};

export type Subscriber = (msg: StreamEvent) => void;

export interface AlarmStreamOptions {
  kafka: Kafka; redis: Redis; pool: Pool; log: Logger; topicPrefix: string;
  instanceId?: string;
  /** WS_BUFFER_SIZE and WS_HISTORY_RETENTION_H (default: as the configuration defaults them). */
  bufferSize?: number; historyRetentionH?: number;
  /** On a fresh start, re-read at most this many earlier updates so the history has no hole (default 50,000). */
  backfillMax?: number;
}

// Compare-and-set of the epoch: concurrent starters agree on one new epoch.
const ROTATE_EPOCH = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]); redis.call('DEL', KEYS[2]) end
return redis.call('GET', KEYS[1])`;

/**
 * Tails `alarm.updates.v1` (one partition, so its offsets are a total order every gateway instance
 * shares: position = offset, and a row the outbox publishes late gets a later position, never a skipped
 * one). Each instance has its own consumer group and sees every update. Before fanning a batch out it
 * records it in Redis (`ws:events:buffer`, the last WS_BUFFER_SIZE) and in PostgreSQL (`stream_history`), so a client
 * that resumes finds everything up to the position it was told about. Also relays `command.results.v1`
 * and panel live-state changes (Redis channel `panel:state:changed`, message = panel id).
 */
export function createAlarmStream(opts: AlarmStreamOptions) {
  const { kafka, redis, pool, log } = opts;
  const topic = topicName('alarm.updates.v1', opts.topicPrefix);
  const resultsTopic = topicName('command.results.v1', opts.topicPrefix);
  const groupId = `gateway-${opts.instanceId ?? randomUUID()}`;
  const bufferSize = opts.bufferSize ?? configDefaults().WS_BUFFER_SIZE;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50, sessionTimeout: 30_000, heartbeatInterval: 3_000 });
  const subscribers = new Set<Subscriber>();
  const alarmCodec = codecFor('AlarmUpdate');
  const resultCodec = codecFor('CommandResult');
  const panelObjects = new Map<number, number>();
  const channel = panelStateChannel(redis);
  let listener: Redis | undefined;
  let epoch = '';
  let delivered = -1;
  let joined: Promise<void> | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let panelTimer: NodeJS.Timeout | undefined;
  const dirtyPanels = new Set<number>();

  function publish(msg: StreamEvent): void {
    for (const s of subscribers) {
      try { s(msg); } catch (err) { log.warn({ err: (err as Error).message }, 'subscriber failed'); }
    }
  }

  async function objectOfPanel(panelId: number): Promise<number | undefined> {
    const known = panelObjects.get(panelId);
    if (known !== undefined) return known;
    const { rows } = await pool.query<{ object_id: number }>('SELECT object_id FROM panels WHERE id = $1', [panelId]);
    if (rows[0]) panelObjects.set(panelId, rows[0].object_id);
    return rows[0]?.object_id;
  }

  async function loadEpoch(): Promise<string> {
    await redis.set(EPOCH_KEY, randomUUID(), 'NX');
    return (await redis.get(EPOCH_KEY)) ?? '';
  }

  /** Where to start: after the last recorded position (backfilling a hole), or at the end of the topic. */
  async function startingOffset(): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const high = Number((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === 0)?.high ?? 0);
      const { rows } = await pool.query<{ p: number | null }>('SELECT max(position) AS p FROM stream_history WHERE epoch = $1', [epoch]);
      const last = rows[0]?.p ?? null;
      if (last !== null && last >= high) {
        // The topic is younger than our history (recreated): positions restart, so the stream gets a new epoch.
        const old = epoch;
        epoch = (await redis.eval(ROTATE_EPOCH, 2, EPOCH_KEY, BUFFER_KEY, old, randomUUID()) as string | null) ?? randomUUID();
        log.warn({ old, epoch, high, last }, 'alarm.updates.v1 restarted below the recorded history: new stream epoch');
      }
      const start = last === null || last >= high ? high : Math.max(last + 1, high - (opts.backfillMax ?? 50_000));
      // Always explicit: "latest" at join time could be later than `high` and silently skip what came between.
      await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: String(start) }] });
      return start;
    } finally {
      await admin.disconnect();
    }
  }

  async function record(entries: Recorded[]): Promise<void> {
    const pipeline = redis.pipeline();
    for (const e of entries) pipeline.zadd(BUFFER_KEY, e.position, JSON.stringify(e));
    pipeline.zremrangebyrank(BUFFER_KEY, 0, -(bufferSize + 1));
    await Promise.all([
      pipeline.exec().then((res) => { const failed = res?.find(([err]) => err); if (failed) throw failed[0]!; }).catch((err: Error) => {
        m.recordFailures.inc({ store: 'redis' });
        log.warn({ err: err.message }, 'could not buffer updates in Redis (resuming clients fall back to PostgreSQL)');
      }),
      pool.query({
        name: 'gw_stream_history_insert',
        text: `INSERT INTO stream_history (epoch, position, alarm_id, version, payload)
               SELECT $1, p, a, v, d FROM unnest($2::bigint[], $3::bigint[], $4::int[], $5::jsonb[]) AS t(p, a, v, d)
               ON CONFLICT (epoch, position) DO NOTHING`,
        values: [epoch, entries.map((e) => e.position), entries.map((e) => e.msg?.alarm.alarm_id ?? null), entries.map((e) => e.msg?.alarm.version ?? null),
          entries.map((e) => (e.msg ? JSON.stringify(e.msg.alarm) : null))],
      }).catch((err: Error) => {
        m.recordFailures.inc({ store: 'postgres' });
        log.warn({ err: err.message }, 'could not record stream history in PostgreSQL (resume beyond the buffer will resync)');
      }),
    ]);
  }

  async function onAlarmBatch(messages: { offset: string; value: Buffer | null }[]): Promise<void> {
    const entries: Recorded[] = [];
    const now = Date.now();
    for (const message of messages) {
      m.received.inc();
      const position = Number(message.offset);
      let msg: AlarmMessage | null = null;
      try {
        if (!message.value) throw new Error('empty value');
        const alarm = alarmCodec.decode(message.value);
        msg = { type: alarm.version === 1 ? 'alarm.new' : 'alarm.updated', epoch, position, alarm };
        m.lag.observe(Math.max(0, now - alarm.updated_at) / 1000);
      } catch (err) {
        m.undecodable.inc();
        log.error({ offset: message.offset, err: (err as Error).message }, 'undecodable alarm update recorded as empty position (the relay wrote it; see alarm.updates.v1)');
      }
      entries.push({ position, msg });
    }
    if (entries.length === 0) return;
    await record(entries);
    // Only now is a position "reached": a client told about it can find everything up to it in the buffer.
    delivered = entries[entries.length - 1]!.position;
    for (const e of entries) publish(e.msg ?? { type: 'skip', epoch, position: e.position });
  }

  async function onResults(messages: { value: Buffer | null; headers?: IHeaders }[]): Promise<void> {
    for (const message of messages) {
      // A driver's `reported` result is not the outcome yet; operators see the `final` one the command processor recorded.
      if (message.headers?.[RESULT_STAGE_HEADER]?.toString() === 'reported') continue;
      try {
        const result = resultCodec.decode(message.value!);
        const objectId = await objectOfPanel(result.panel_id);
        if (objectId !== undefined) publish({ type: 'command.result', epoch, position: delivered, object_id: objectId, result });
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'undecodable command result skipped by the gateway');
      }
    }
  }

  async function flushPanels(): Promise<void> {
    const ids = [...dirtyPanels];
    dirtyPanels.clear();
    for (const id of ids) {
      const [h, objectId] = await Promise.all([redis.hgetall(panelStateKey(id)), objectOfPanel(id)]);
      if (objectId === undefined || !h.state) continue;
      publish({
        type: 'panel.state', epoch, position: delivered, panel_id: id, object_id: objectId,
        state: JSON.parse(h.state) as unknown, link: h.link ?? null, last_seen: h.last_seen ? Number(h.last_seen) : null,
      });
    }
  }

  return {
    get epoch() { return epoch; },
    /** The last position whose update (and every earlier one) is recorded and fanned out by this instance. */
    get head() { return delivered; },
    subscribe(s: Subscriber): () => void {
      subscribers.add(s);
      m.subscribers.set(subscribers.size);
      return () => { subscribers.delete(s); m.subscribers.set(subscribers.size); };
    },
    /** Resolves once the consumer has joined and holds the partition, so no update published later is missed. */
    ready(): Promise<void> { return joined ?? Promise.reject(new Error('stream not started')); },

    /** Updates after `after` up to at least `to`, from the Redis buffer or else PostgreSQL; null if neither has them all. */
    async catchUp(after: number, to: number): Promise<{ source: 'buffer' | 'history'; items: Recorded[] } | null> {
      if (to <= after) return { source: 'buffer', items: [] };
      const raw = await redis.zrangebyscore(BUFFER_KEY, `(${after}`, '+inf').catch(() => [] as string[]);
      const fromBuffer = contiguousFrom(raw.map((r) => JSON.parse(r) as Recorded), after, to);
      if (fromBuffer) return { source: 'buffer', items: fromBuffer };
      const { rows } = await pool.query<{ position: number; payload: AlarmUpdate | null }>(
        'SELECT position, payload FROM stream_history WHERE epoch = $1 AND position > $2 AND position <= $3 ORDER BY position',
        [epoch, after, to],
      );
      const items = contiguousFrom(rows.map((r) => ({
        position: r.position,
        msg: r.payload ? { type: r.payload.version === 1 ? 'alarm.new' as const : 'alarm.updated' as const, epoch, position: r.position, alarm: r.payload } : null,
      })), after, to);
      return items ? { source: 'history', items } : null;
    },

    async start(): Promise<void> {
      epoch = await loadEpoch();
      await consumer.connect();
      const start = await startingOffset();
      delivered = start - 1;
      joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      await consumer.subscribe({ topics: [topic, resultsTopic], fromBeginning: false });
      await consumer.run({
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          if (batch.topic === topic) await onAlarmBatch(batch.messages);
          else await onResults(batch.messages);
        },
      });
      listener = redis.duplicate({ keyPrefix: '' });
      listener.on('message', (_ch: string, id: string) => { if (/^\d+$/.test(id)) dirtyPanels.add(Number(id)); });
      await listener.subscribe(channel);
      panelTimer = setInterval(() => { if (dirtyPanels.size > 0) void flushPanels().catch((err: Error) => log.warn({ err: err.message }, 'panel state relay failed')); }, 100);
      panelTimer.unref();
      const retention = opts.historyRetentionH ?? configDefaults().WS_HISTORY_RETENTION_H;
      sweeper = setInterval(() => void pool.query(`DELETE FROM stream_history WHERE recorded_at < now() - make_interval(secs => $1)`, [retention * 3600])
        .catch((err: Error) => log.warn({ err: err.message }, 'stream history cleanup failed')), 600_000);
      sweeper.unref();
      log.info({ topic, groupId, epoch, start }, 'gateway tailing alarm updates');
    },

    async stop(): Promise<void> {
      clearInterval(sweeper);
      clearInterval(panelTimer);
      await listener?.quit().catch(() => listener?.disconnect());
      await consumer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

export type AlarmStream = ReturnType<typeof createAlarmStream>;
