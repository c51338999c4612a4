/**
 * Processor throughput: N SatelEvents are produced to satel.events.v1 first, then `stam alarm-processor`
 * (a real child process) applies the backlog into PostgreSQL. Prints events/s, batch sizes and commit
 * times from the processor's own metrics, its CPU share, and the raw broker's produce/consume rate
 * measured in the same run with Kafka's ProducerPerformance/ConsumerPerformance.
 *   npm run bench:processor -- [events=100000] [panels=500]
 */
import { randomUUID } from 'node:crypto';
import { createLogger, createProducer } from '../platform/index.ts';
import { codecFor, topicName } from '../schemas/index.ts';
import type { SatelEvent } from '../schemas/index.ts';
import { measureBrokerBaseline } from './baseline.ts';
import { procStats } from './proc-stats.ts';
import { histogramQuantile, metricValue, parseMetrics, sumBuckets } from './prom-text.ts';
import { msgIs, startRole } from './roles.ts';
import { createRunEnv } from './run-env.ts';

const EVENTS = Number(process.argv[2] ?? 100_000);
const PANELS = Number(process.argv[3] ?? 500);
const ZONES = 16;
const log = createLogger('bench', 'warn');

const zoneEvent = (panelId: number, kind: 'ZONE_VIOLATION' | 'ZONE_RESTORE', zone: number, observedAt: number, n: number): SatelEvent => ({
  event_id: randomUUID(), panel_id: panelId, kind, object_number: zone, panel_time: null, observed_at: observedAt,
  fencing: 0, dedup_key: `bench:${panelId}:${zone}:${n}`, log: null, trace: null,
});

const env = await createRunEnv({ name: 'bproc', log, vars: { PROCESSOR_MAX_BATCH: process.env.PROCESSOR_MAX_BATCH ?? '2000', FLOOD_THRESHOLD: '100000', KAFKA_PARTITIONS: '3', LOG_LEVEL: 'warn' } });
try {
  const panelIds: number[] = [];
  const { rows } = await env.pool.query<{ id: number }>(
    `WITH o AS (INSERT INTO objects (code, name) SELECT 'B' || g, 'bench ' || g FROM generate_series(1, $1) g RETURNING id)
     INSERT INTO panels (object_id, name, host, port) SELECT id, 'p', '127.0.0.1', 1 FROM o RETURNING id`, [PANELS]);
  panelIds.push(...rows.map((r) => r.id));

  const base = Date.now() - 60_000;
  const events: SatelEvent[] = [];
  const count = new Map<string, number>();
  for (let i = 0; i < EVENTS; i++) {
    const panel = panelIds[i % PANELS]!;
    const zone = 1 + (Math.floor(i / PANELS) % ZONES);
    const k = `${panel}:${zone}`;
    const n = count.get(k) ?? 0;
    count.set(k, n + 1);
    events.push(zoneEvent(panel, n % 2 === 0 ? 'ZONE_VIOLATION' : 'ZONE_RESTORE', zone, base + Math.floor(i / 100), n));
  }
  const recordBytes = Math.round(events.slice(0, 1000).reduce((s, e) => s + codecFor('SatelEvent').encode(e).length, 0) / 1000);

  const producer = await createProducer(env.kafka);
  const topic = topicName('satel.events.v1', env.id);
  const codec = codecFor('SatelEvent');
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += 2000) {
    await producer.send({ topic, acks: -1, messages: events.slice(i, i + 2000).map((e) => ({ key: String(e.panel_id), value: codec.encode(e) })) });
  }
  const produceS = (performance.now() - t0) / 1000;
  await producer.disconnect();

  const proc = startRole('alarm-processor', env.vars);
  await proc.waitForLog(msgIs('alarm processor consuming'));
  const ops = (await proc.waitForLog(msgIs('ops endpoints listening (/healthz /readyz /metrics)'))).port as number;
  const cpu0 = procStats(proc.proc.pid!);
  const t1 = performance.now();
  let done = 0;
  let peakRss = 0;
  while (done < EVENTS) {
    await new Promise((r) => setTimeout(r, 100));
    done = (await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n;
    peakRss = Math.max(peakRss, procStats(proc.proc.pid!).rssMB);
    if (performance.now() - t1 > 600_000) throw new Error(`only ${done} of ${EVENTS} applied after 10 min`);
  }
  const applyS = (performance.now() - t1) / 1000;
  const cpu1 = procStats(proc.proc.pid!);
  const metrics = parseMetrics(await (await fetch(`http://127.0.0.1:${ops}/metrics`)).text());
  const q = (name: string, p: number) => histogramQuantile(sumBuckets(metrics, name), p);
  await proc.stop();

  const batches = metricValue(metrics, 'stam_consumer_batch_size_count');
  const baseline = await measureBrokerBaseline({ kafka: env.kafka, brokers: env.config.KAFKA_BROKERS, topic: `${env.id}.baseline`, partitions: env.config.KAFKA_PARTITIONS, records: 200_000, recordBytes });
  const eps = EVENTS / applyS;
  const rowsOut = [
    ['events applied', `${EVENTS} (${PANELS} panels × ${ZONES} zones, ${env.config.KAFKA_PARTITIONS} partitions, ~${recordBytes} B each)`],
    ['processor throughput', `${Math.round(eps)} events/s into PostgreSQL (${applyS.toFixed(1)} s)`],
    ['batches', `${batches}, mean ${Math.round(EVENTS / Math.max(1, batches))} events; p50 size ${Math.round(q('stam_consumer_batch_size', 0.5))}`],
    ['batch commit time', `p50 ${Math.round(q('stam_consumer_batch_commit_seconds', 0.5) * 1000)} ms, p99 ${Math.round(q('stam_consumer_batch_commit_seconds', 0.99) * 1000)} ms (from histogram buckets)`],
    ['processor CPU', `${((cpu1.cpuSeconds - cpu0.cpuSeconds) / applyS * 100).toFixed(0)} % of one core, peak RSS ${peakRss.toFixed(0)} MB`],
    ['our producer (kafkajs)', `${Math.round(EVENTS / produceS)} events/s`],
    ['raw broker produce', `${Math.round(baseline.produceEps)} records/s (ProducerPerformance, ${recordBytes} B, acks=all)`],
    ['raw broker consume', `${Math.round(baseline.consumeEps)} records/s (ConsumerPerformance)`],
    ['processor / raw consume', `${(eps / baseline.consumeEps * 100).toFixed(1)} %`],
  ];
  console.log(`\nalarm-processor benchmark — ${new Date().toISOString()}, ${(await import('node:os')).cpus().length} cores`);
  for (const [k, v] of rowsOut) console.log(`  ${k!.padEnd(26)} ${v}`);
} finally {
  await env.cleanup();
}
