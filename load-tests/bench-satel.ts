/**
 * `npm run bench:satel [-- --panels 500 --seconds 60 --rate 2000 --poll-ms 1000]`
 *
 * 500 simulated ETHM-1 panels (real TCP, this process) polled by ONE `stam satel-ingest` child process
 * (HA leases on, as in production) against the local Kafka broker, Redis and PostgreSQL (a throw-away
 * database, topic prefix and key prefix, removed afterwards). Two measured phases: idle (polling only)
 * and load (the simulator's rate generator, events spread over every panel). Printed per phase: poll-cycle
 * p50/p99 and poll intervals above 2 s (the driver's own histograms, scraped from /metrics), the driver's
 * CPU share (utime+stime from /proc) and RSS, and for the load phase events produced, produce latency and
 * stimulus → consumed-from-broker latency of the simulator's traces. Target: every panel polled at least
 * once per 2 s, driver under half a core and 300 MB. `--cpu-prof-dir DIR` profiles the driver.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  createKafka, createLogger, createPool, createRedis, dropRunResources, ensureDatabase, loadConfig, migrate, provisionTopics, topicSpecs,
} from '../platform/index.ts';
import { codecFor, topicName } from '../schemas/index.ts';
import { createSimulator } from '../simulator/index.ts';
import { stackUp } from '../infra/stack.ts';
import { createTraceMirror } from './satel-trace-mirror.ts';
import { procStats } from './proc-stats.ts';
import { histogramQuantile, metricValue, parseMetrics, sumBuckets, type Metrics } from './prom-text.ts';

const args = parseArgs({
  options: {
    panels: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '60' },
    rate: { type: 'string', default: '2000' },
    'poll-ms': { type: 'string', default: '1000' },
    'warmup-s': { type: 'string', default: '15' },
    /** Writes a V8 CPU profile of the driver into this directory (open it in Chrome DevTools). */
    'cpu-prof-dir': { type: 'string' },
  },
}).values;
const PANELS = Number(args.panels);
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const POLL_MS = Number(args['poll-ms']);
const WARMUP_S = Number(args['warmup-s']);
const bin = fileURLToPath(new URL('../bin/stam.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = createLogger('bench-satel', 'warn');

const procStat = (pid: number): { cpuS: number; sysS: number; rssMb: number } => {
  const p = procStats(pid);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return { cpuS: p.cpuSeconds, sysS: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) / 100, rssMb: p.rssMB };
};

/** The broker's pid (context for the figures: on a 2-core machine everything shares the CPU). */
function brokerPid(): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('kafka.Kafka')) return Number(d);
    } catch { /* gone */ }
  }
  return undefined;
}

/** Busy share of the whole machine (all cores) from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

interface PhaseResult {
  name: string; seconds: number; cycles: number; p50Ms: number; p99Ms: number; intervals: number; intervalsOver2s: number;
  intervalP99S: number; panelsUnderHalfHz: number; cpuCores: number; sysCores: number; rssMaxMb: number; framesPerS: number;
  events: number; produceP99Ms: number; requestP50Ms: number; requestP99Ms: number; loopLagP99Ms: number; heapMb: number; externalMb: number; ackedP50Ms: number; ackedP99Ms: number; reconnects: number; timeouts: number; gaps: number; simCores: number; brokerCores: number; machineBusy: number; e2e?: { n: number; traced: number; p50Ms: number; p99Ms: number };
}

async function main(): Promise<void> {
  const base = loadConfig();
  await stackUp(base, log); // like the other benchmarks: a broker that is not running is started, not a 30 s kafkajs retry
  const id = `bench${Date.now().toString(36)}`;
  const dbUrl = new URL(base.DATABASE_URL);
  dbUrl.pathname = `/stam_${id}`;
  const config = loadConfig({ ...process.env, DATABASE_URL: dbUrl.toString(), KAFKA_TOPIC_PREFIX: id, REDIS_KEY_PREFIX: `${id}:` });
  await ensureDatabase(config.DATABASE_URL);
  await migrate(config.DATABASE_URL, log);
  const pool = createPool(config.DATABASE_URL, { max: 3 });
  const redis = createRedis(config.REDIS_URL, config.REDIS_KEY_PREFIX);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: id, log });
  await provisionTopics(kafka, topicSpecs(config), log);

  const mirror = createTraceMirror(redis);
  const sim = createSimulator({ panels: PANELS, basePort: 0, controlPort: 0, onEvent: mirror.onEvent, log });
  await sim.start();
  mirror.setPorts(sim.ports);
  const objects = await pool.query<{ id: number }>(
    `INSERT INTO objects (code, name) SELECT 'B-' || n, 'bench ' || n FROM generate_series(1, $1) n ORDER BY n RETURNING id`, [PANELS]);
  await pool.query(
    `INSERT INTO panels (object_id, name, host, port) SELECT o, 'bench panel', '127.0.0.1', p FROM unnest($1::bigint[], $2::int[]) AS t(o, p)`,
    [objects.rows.map((r) => r.id), sim.ports]);

  const env = {
    ...process.env, DATABASE_URL: config.DATABASE_URL, KAFKA_TOPIC_PREFIX: id, REDIS_KEY_PREFIX: `${id}:`, OPS_PORT: '0', LOG_LEVEL: 'info',
    SATEL_POLL_INTERVAL_MS: String(POLL_MS), SATEL_TRACE_SOURCE: 'redis', FEATURE_HA_ENABLED: 'true',
    // The steady state is measured: the one-off reading of zone names (500 unnamed panels) is left out.
    SATEL_NAME_READS_PER_S: process.env.SATEL_NAME_READS_PER_S ?? '0',
  };
  const prof = args['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof-dir']}`] : [];
  const driver: ChildProcess = spawn(process.execPath, [...prof, bin, 'satel-ingest'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const opsPort = await new Promise<number>((resolve, reject) => {
    createInterface({ input: driver.stdout! }).on('line', (line) => {
      try {
        const l = JSON.parse(line) as { msg?: string; port?: number; level?: number };
        if (l.msg?.startsWith('ops endpoints listening')) resolve(l.port!);
        if ((l.level ?? 0) >= 50) process.stderr.write(`driver | ${line}\n`);
      } catch { /* not JSON */ }
    });
    driver.once('exit', (code) => reject(new Error(`driver exited (${code}) before listening`)));
  });
  const scrape = async (): Promise<Metrics> => parseMetrics(await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text());
  const simPanels = async () => (await (await fetch(`${sim.controlUrl}/panels`)).json()) as { connected: boolean; stats: { framesIn: number } }[];

  const t0 = Date.now();
  for (;;) {
    const m = await scrape().catch(() => undefined);
    if (m && metricValue(m, 'stam_satel_panels_connected') === PANELS) break;
    if (Date.now() - t0 > 180_000) throw new Error(`only ${m ? metricValue(m, 'stam_satel_panels_connected') : '?'} of ${PANELS} panels connected after 180 s`);
    await sleep(500);
  }
  console.log(`# ${PANELS} panels connected ${((Date.now() - t0) / 1000).toFixed(1)} s after the driver started; warming up ${WARMUP_S} s`);
  await sleep(WARMUP_S * 1000);

  async function phase(name: string, seconds: number, withLoad: boolean): Promise<PhaseResult> {
    let consumer: ReturnType<typeof kafka.consumer> | undefined;
    const latencies: number[] = [];
    let consumed = 0;
    let startedAt = Date.now();
    if (withLoad) {
      const codec = codecFor('SatelEvent');
      consumer = kafka.consumer({ groupId: `${id}-e2e`, maxWaitTimeInMs: 50 });
      await consumer.connect();
      await consumer.subscribe({ topic: topicName('satel.events.v1', id), fromBeginning: false });
      await consumer.run({
        eachMessage: ({ message }) => {
          const e = codec.decode(message.value!);
          if (e.observed_at < startedAt) return Promise.resolve();
          consumed++;
          if (e.trace) latencies.push(Date.now() - e.trace.origin_ms);
          return Promise.resolve();
        },
      });
      await sleep(3_000); // group join
    }
    const [m0, s0, f0] = [await scrape(), procStat(driver.pid!), await simPanels()];
    const broker = brokerPid();
    const [me0, b0, k0] = [process.cpuUsage(), broker ? procStat(broker).cpuS : NaN, machineTicks()];
    startedAt = Date.now();
    if (withLoad) {
      await fetch(`${sim.controlUrl}/rate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ eventsPerSecond: RATE, durationS: seconds }) });
    }
    let rssMax = s0.rssMb;
    while (Date.now() - startedAt < seconds * 1000) {
      await sleep(1_000);
      rssMax = Math.max(rssMax, procStat(driver.pid!).rssMb);
    }
    const [m1, s1, f1] = [await scrape(), procStat(driver.pid!), await simPanels()];
    const [me1, b1, k1] = [process.cpuUsage(me0), broker ? procStat(broker).cpuS : NaN, machineTicks()];
    const wall = (Date.now() - startedAt) / 1000;
    if (consumer) { await sleep(2_000); await consumer.disconnect(); }
    const d = (name: string, labels?: Record<string, string>) => sumBuckets(m1, name, labels).map((b, i) => ({ le: b.le, count: b.count - (sumBuckets(m0, name, labels)[i]?.count ?? 0) }));
    const cycle = d('stam_satel_poll_cycle_seconds');
    const interval = d('stam_satel_poll_interval_seconds');
    const produce = d('stam_satel_produce_seconds', { topic: topicName('satel.events.v1', id) });
    const total = (b: { le: number; count: number }[]) => b[b.length - 1]?.count ?? 0;
    const le2 = interval.find((b) => b.le === 2)?.count ?? 0;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
    return {
      name, seconds: wall, cycles: total(cycle), p50Ms: histogramQuantile(cycle, 0.5) * 1000, p99Ms: histogramQuantile(cycle, 0.99) * 1000,
      intervals: total(interval), intervalsOver2s: total(interval) - le2, intervalP99S: histogramQuantile(interval, 0.99),
      panelsUnderHalfHz: f1.filter((p, i) => p.stats.framesIn - f0[i]!.stats.framesIn < wall / 2).length,
      cpuCores: (s1.cpuS - s0.cpuS) / wall, sysCores: (s1.sysS - s0.sysS) / wall, rssMaxMb: rssMax,
      framesPerS: (metricValue(m1, 'stam_satel_frames_total', { direction: 'in' }) - metricValue(m0, 'stam_satel_frames_total', { direction: 'in' })) / wall,
      events: metricValue(m1, 'stam_satel_events_produced_total') - metricValue(m0, 'stam_satel_events_produced_total'),
      produceP99Ms: histogramQuantile(produce, 0.99) * 1000,
      requestP50Ms: histogramQuantile(d('stam_satel_request_seconds'), 0.5) * 1000,
      requestP99Ms: histogramQuantile(d('stam_satel_request_seconds'), 0.99) * 1000,
      loopLagP99Ms: metricValue(m1, 'stam_nodejs_eventloop_lag_p99_seconds') * 1000,
      reconnects: metricValue(m1, 'stam_satel_reconnects_total') - metricValue(m0, 'stam_satel_reconnects_total'),
      timeouts: metricValue(m1, 'stam_satel_protocol_errors_total', { code: 'E_SATEL_TIMEOUT' }) - metricValue(m0, 'stam_satel_protocol_errors_total', { code: 'E_SATEL_TIMEOUT' }),
      gaps: metricValue(m1, 'stam_satel_log_gaps_total') - metricValue(m0, 'stam_satel_log_gaps_total'),
      ackedP50Ms: histogramQuantile(d('stam_satel_traced_event_age_seconds'), 0.5) * 1000,
      ackedP99Ms: histogramQuantile(d('stam_satel_traced_event_age_seconds'), 0.99) * 1000,
      heapMb: metricValue(m1, 'stam_nodejs_heap_size_used_bytes') / 2 ** 20, externalMb: metricValue(m1, 'stam_nodejs_external_memory_bytes') / 2 ** 20,
      simCores: (me1.user + me1.system) / 1e6 / wall, brokerCores: (b1 - b0) / wall, machineBusy: (k1.busy - k0.busy) / (k1.total - k0.total),
      ...(withLoad ? { e2e: { n: consumed, traced: latencies.length, p50Ms: q(0.5), p99Ms: q(0.99) } } : {}),
    };
  }

  const results = [await phase('idle', SECONDS, false), await phase(`load ${RATE}/s`, SECONDS, true)];
  const rate = (await (await fetch(`${sim.controlUrl}/rate`)).json()) as { sent?: number };
  driver.kill('SIGTERM');
  await new Promise((r) => driver.once('exit', r));
  await sim.stop();

  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  console.log(`\n## Satel driver benchmark: ${PANELS} panels, poll every ${POLL_MS} ms, one driver process (node ${process.version}, ${(await import('node:os')).cpus().length} cores)`);
  console.log('| phase | s | poll cycles | cycle p50 ms | cycle p99 ms | intervals > 2 s | interval p99 s | panels < 0.5 polls/s | driver CPU (cores; of it kernel) | driver RSS max MB | frames in/s | events produced | produce p99 ms | stimulus→broker ack p50 / p99 ms | stimulus→consumer p50 / p99 ms (traced/consumed) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.name} | ${f(r.seconds, 0)} | ${r.cycles} | ${f(r.p50Ms, 2)} | ${f(r.p99Ms, 2)} | ${r.intervalsOver2s} of ${r.intervals} | ${f(r.intervalP99S, 2)} | ${r.panelsUnderHalfHz} | ${f(r.cpuCores, 3)} (${f(r.sysCores, 2)}) | ${f(r.rssMaxMb, 0)} | ${f(r.framesPerS, 0)} | ${r.events} | ${f(r.produceP99Ms, 1)} | ${r.e2e ? `${f(r.ackedP50Ms, 0)} / ${f(r.ackedP99Ms, 0)}` : '-'} | ${r.e2e ? `${f(r.e2e.p50Ms, 0)} / ${f(r.e2e.p99Ms, 0)} (${r.e2e.traced}/${r.e2e.n})` : '-'} |`);
  }
  console.log('\nContext (same phases): the panels\' answer times as the driver saw them, its event-loop lag and heap, CPU of the other processes (cores), and how busy the whole machine was.');
  console.log('| phase | request round trip p50 / p99 ms | answer timeouts / reconnects / log gaps | driver event-loop lag p99 ms | driver heap used / external MB | simulator + bench process | Kafka broker | machine busy |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.name} | ${f(r.requestP50Ms, 2)} / ${f(r.requestP99Ms, 1)} | ${r.timeouts} / ${r.reconnects} / ${r.gaps} | ${f(r.loopLagP99Ms, 1)} | ${f(r.heapMb, 0)} / ${f(r.externalMb, 0)} | ${f(r.simCores, 2)} | ${f(r.brokerCores, 2)} | ${f(r.machineBusy * 100, 0)} % |`);
  }
  console.log(`simulator generated ${rate.sent ?? '?'} events in the load phase; trace mirror wrote ${mirror.mirrored} keys (${mirror.failed} failed)`);
  const ok = results.every((r) => r.intervalsOver2s === 0 && r.panelsUnderHalfHz === 0 && r.cpuCores < 0.5 && r.rssMaxMb < 300);
  console.log(ok ? 'target met: every panel polled at least once per 2 s, under half a core and 300 MB' : 'TARGET MISSED (see the table)');

  await pool.end();
  await redis.quit();
  await dropRunResources({ id, kafka, redisUrl: base.REDIS_URL, databaseUrl: base.DATABASE_URL });
  process.exitCode = ok ? 0 : 1;
}

await main();
