/**
 * Replay throughput in what-if mode: N SatelEvents over P panels are produced to satel.events.v1 (record
 * time stamps spread over a day), then `runReplay` reads the whole range through the transactional consumer
 * with the alarm decision in memory. Printed next to, from the same run: a bare kafkajs consumer that only
 * counts the same messages (what this Node process can read at all), and the raw broker's own consume rate
 * (Kafka's ConsumerPerformance on records of the same size).
 *   npm run bench:replay -- [events=200000] [panels=500]
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { createLogger, createProducer } from '../platform/index.ts';
import { loadRules, runReplay, seedRulesIfEmpty } from '../processors/index.ts';
import { codecFor, topicName, type SatelEvent } from '../schemas/index.ts';
import { measureBrokerBaseline } from './baseline.ts';
import { createRunEnv } from './run-env.ts';

const EVENTS = Number(process.argv[2] ?? 200_000);
const PANELS = Number(process.argv[3] ?? 500);
const log = createLogger('bench-replay', 'warn');
const DAY = 86_400_000;

const env = await createRunEnv({ name: 'brpl', log, vars: { LOG_LEVEL: 'warn' } });
try {
  const { rows } = await env.pool.query<{ id: number }>(
    `WITH o AS (INSERT INTO objects (code, name) SELECT 'R' || g, 'replay ' || g FROM generate_series(1, $1) g RETURNING id)
     INSERT INTO panels (object_id, name, host, port) SELECT id, 'p', '127.0.0.1', 1 FROM o RETURNING id`, [PANELS]);
  const panels = rows.map((r) => r.id);
  const t0 = Date.now() - 2 * DAY;
  const kinds = ['ZONE_VIOLATION', 'ZONE_RESTORE', 'ZONE_ALARM', 'ZONE_ALARM_RESTORE', 'PARTITION_ARMED'] as const;
  const codec = codecFor('SatelEvent');
  const topic = topicName('satel.events.v1', env.id);
  const producer = await createProducer(env.kafka);
  let bytes = 0;
  for (let i = 0; i < EVENTS; i += 5000) {
    const batch: SatelEvent[] = [];
    for (let j = i; j < Math.min(EVENTS, i + 5000); j++) {
      const at = t0 + Math.floor((j / EVENTS) * DAY);
      batch.push({
        event_id: randomUUID(), panel_id: panels[j % PANELS]!, kind: kinds[j % kinds.length]!, object_number: 1 + (Math.floor(j / PANELS) % 16),
        panel_time: null, observed_at: at, fencing: 1, dedup_key: `bench:${j}`, log: null, trace: null,
      });
    }
    const messages = batch.map((e) => ({ key: String(e.panel_id), value: codec.encode(e), timestamp: String(e.observed_at) }));
    bytes += messages.reduce((s, m) => s + m.value.length, 0);
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
  const recordBytes = Math.round(bytes / EVENTS);

  // A bare kafkajs consumer: reads and counts, nothing else.
  const bare = env.kafka.consumer({ groupId: `${env.id}-bare`, maxWaitTimeInMs: 50, maxBytesPerPartition: 8 * 1024 * 1024 });
  await bare.connect();
  await bare.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let firstAt = 0;
  const bareS = await new Promise<number>((resolve) => {
    void bare.run({ eachBatchAutoResolve: true, eachBatch: ({ batch }) => {
      firstAt ||= performance.now();
      seen += batch.messages.length;
      if (seen >= EVENTS) resolve((performance.now() - firstAt) / 1000);
      return Promise.resolve();
    } });
  });
  await bare.disconnect();

  await seedRulesIfEmpty(env.pool);
  const rules = await loadRules(env.pool);
  const result = await runReplay({
    kafka: env.kafka, log, topicPrefix: env.id, sms: false, source: env.pool, fromMs: t0 - 1000, toMs: t0 + DAY + 1000,
    mode: { kind: 'what-if', policy: { rules, bundlingWindowMs: 600_000, flood: { threshold: 10, windowMs: 600_000 } } },
  });
  const baseline = await measureBrokerBaseline({ kafka: env.kafka, brokers: env.config.KAFKA_BROKERS, topic: `${env.id}.baseline`, partitions: env.config.KAFKA_PARTITIONS, records: EVENTS, recordBytes });

  const rowsOut = [
    ['events replayed', `${result.applied} of ${result.messages} (${PANELS} panels, ${env.config.KAFKA_PARTITIONS} partitions, ~${recordBytes} B each, a day of time stamps)`],
    ['what-if replay', `${Math.round(result.eventsPerSecond)} events/s (${result.seconds.toFixed(1)} s; ${result.whatIf!.alarms} alarms, ${result.whatIf!.floods} floods)`],
    ['bare kafkajs consumer', `${Math.round(EVENTS / bareS)} records/s (${bareS.toFixed(1)} s; read and count only)`],
    ['raw broker consume', `${Math.round(baseline.consumeEps)} records/s (ConsumerPerformance, ${recordBytes} B)`],
    ['replay / raw consume', `${(result.eventsPerSecond / baseline.consumeEps * 100).toFixed(1)} % (target ≥ 50 %)`],
    ['replay / bare kafkajs', `${(result.eventsPerSecond / (EVENTS / bareS) * 100).toFixed(1)} %`],
  ];
  console.log(`\nreplay (what-if) benchmark — ${new Date().toISOString()}, ${cpus().length} cores`);
  for (const [k, v] of rowsOut) console.log(`  ${k!.padEnd(24)} ${v}`);
} finally {
  await env.cleanup();
}
