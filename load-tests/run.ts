/**
 * One load run, end to end: bring up (or attach to) the system, measure the raw broker, connect the
 * operator clients, let the simulator generate the scenario's events, wait until the pipeline drained,
 * then match what arrived against what was sent and write report.json, report.html and summary.txt.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, loadConfig, type Logger } from '../platform/index.ts';
import { codecFor } from '../schemas/index.ts';
import { account, matchPipelineEvents, type Arrival, type SentEvent } from './accounting.ts';
import { measureBrokerBaseline } from './baseline.ts';
import { createTraceCollector, startGenerator, waitForGenerator } from './generator.ts';
import { renderHtml } from './html.ts';
import { startOperators, type OperatorReport } from './operators.ts';
import { readPipeline } from './pipeline.ts';
import { createProgress } from './progress.ts';
import { buildReport, summaryText, type Baseline, type LoadReport } from './report.ts';
import { startSampler, type TimelinePoint } from './sampler.ts';
import { loadScenario, planScenario, type Overrides, type Plan } from './scenario.ts';
import { lossBreakdown, stageLatencies } from './stages.ts';
import { startSelfContained, type SystemUnderTest } from './system.ts';
import { attachTarget } from './target.ts';
import { openOperatorClients, type ClientStats } from './ws-clients.ts';

export interface LoadOptions {
  scenario: string;
  overrides?: Overrides;
  reportDir?: string;
  /** Drive a running system through this gateway instead of starting one. */
  target?: string;
  control?: string;
  databaseUrl?: string;
  username?: string;
  password?: string;
  /** Records for the broker baseline (default: the scenario's); 0 skips it. */
  baselineRecords?: number;
  /** Simulated panel event-log size (records per panel). */
  panelLogSize?: number;
  keep?: boolean;
  /** Progress bar and summary on the terminal. */
  interactive?: boolean;
  command?: string;
  log?: Logger;
  /** Test hook at the matching layer: change the arrivals before they are counted. */
  tamper?: (arrivals: Arrival[], sent: readonly SentEvent[]) => Arrival[];
}

export interface LoadResult { report: LoadReport; reportDir: string; sent: SentEvent[]; arrivals: Arrival[] }

/** A stop function that runs once, so the normal path and the error path can both call it. */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

function git(args: string[]): string {
  try { return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return ''; }
}

/** Size of an encoded SatelEvent as the driver produces it for a panel log record (with a trace). */
export function satelEventBytes(): number {
  const now = Date.now();
  return codecFor('SatelEvent').encode({
    event_id: randomUUID(), panel_id: 123, kind: 'ZONE_VIOLATION', object_number: 5, panel_time: now, observed_at: now, fencing: 3,
    dedup_key: `satel:123:log:1764201234:${'0'.repeat(16)}`,
    log: { log_index: 1_764_201, class: 0, code: 99, restore: false, source: 5, partition: 1, user: 0, object: 0, text: 'Zone violation' },
    trace: { id: randomUUID(), origin_ms: now },
  }).length;
}

async function baselineOf(sys: SystemUnderTest, records: number, notes: string[]): Promise<Baseline | null> {
  if (records <= 0) return null;
  const partitions = loadConfig().KAFKA_PARTITIONS;
  const recordBytes = satelEventBytes();
  try {
    const b = await measureBrokerBaseline({ kafka: sys.kafka, brokers: sys.brokers, topic: `load-baseline-${randomUUID().slice(0, 8)}`, partitions, records, recordBytes });
    return {
      ...b, partitions, eps: Math.round(Math.min(b.produceEps, b.consumeEps)),
      command: `java -cp 'infra/kafka/lib/*' org.apache.kafka.tools.ProducerPerformance --num-records ${records} --record-size ${recordBytes} --throughput -1 acks=all linger.ms=5; ConsumerPerformance --messages ${records} (${partitions} partitions)`,
    };
  } catch (err) {
    notes.push(`broker baseline not measured: ${(err as Error).message.split('\n')[0]}`);
    return null;
  }
}

/**
 * Waits until the pipeline is done with the run: every event arrived, or nothing moved (arrivals, records
 * the driver read or produced, lag, backlog) for `quietS` while lag and backlog are zero and no panel is
 * waiting to reconnect (a driver in backoff still has the panel's log to read); at most `timeoutS`.
 */
async function drain(timeoutS: number, quietS: number, fromMs: number, look: () => { everything: boolean; progress: string; settled: boolean }, notes: string[]): Promise<void> {
  const deadline = fromMs + timeoutS * 1000;
  let last = '';
  let changedAt = Date.now();
  for (;;) {
    await sleep(500);
    const s = look();
    if (s.everything) { await sleep(1_000); return; } // the other clients get a moment to see the last ones
    if (s.progress !== last) { last = s.progress; changedAt = Date.now(); }
    if (s.settled && Date.now() - changedAt >= quietS * 1000) return;
    if (Date.now() > deadline) { notes.push(`drain timeout: the pipeline was still busy ${timeoutS} s after the generator stopped`); return; }
  }
}

interface AnalysisInput {
  sys: SystemUnderTest;
  plan: Plan;
  sent: SentEvent[];
  raw: Arrival[];
  tamper: LoadOptions['tamper'];
  runStart: number;
  finishedAtMs: number;
  loadAvgAtStart: number;
  baseline: Baseline | null;
  notes: string[];
  clients: ClientStats[];
  operators: OperatorReport | null;
  samples: TimelinePoint[];
  command: string;
}

/** Matches what arrived against what was sent (with PostgreSQL's record of the pipeline when reachable) and builds the report. */
async function analyse(i: AnalysisInput): Promise<{ report: LoadReport; arrivals: Arrival[] }> {
  const { sys, plan, sent, notes } = i;
  const pipeline = sys.databaseUrl ? await readPipeline(sys.databaseUrl, sys.controlUrl, i.runStart - 5_000) : null;
  const matching = pipeline ? matchPipelineEvents(sent, pipeline.events) : null;
  if (matching && matching.byTrace === 0 && sent.length > 0) notes.push('no event carried its trace (driver without SATEL_TRACE_SOURCE=redis, or a simulator without the trace mirror): events were matched by log index or inferred from panel, zone and kind');
  let arrivals = i.raw.map((a) => (a.traceId !== null ? a : { ...a, traceId: matching?.traceOf.get(a.eventId) ?? null }));
  if (i.tamper) arrivals = i.tamper(arrivals, sent);
  const accounting = account(sent, arrivals, plan.operators);
  const earliest = new Map<string, number>();
  for (const a of arrivals) if (!(earliest.get(a.eventId)! <= a.atMs)) earliest.set(a.eventId, a.atMs);
  const report = buildReport({
    scenario: plan.name, description: plan.description, mode: sys.mode, startedAtMs: i.runStart, finishedAtMs: i.finishedAtMs, command: i.command,
    commit: `${git(['rev-parse', 'HEAD'])}${git(['--no-optional-locks', 'status', '--porcelain']) ? ' (with uncommitted changes)' : ''}`,
    machine: {
      cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version, kernel: release(),
      load_avg_1m_at_start: i.loadAvgAtStart,
    },
    parameters: {
      panels: plan.panels, zones: plan.zones, events: plan.events, rate_eps: plan.asFastAsPossible ? 'max' : Math.round(plan.rateEps * 1000) / 1000,
      duration_s: Math.round(plan.durationS * 10) / 10, operators: plan.operators, work_queue: plan.work_queue,
    },
    settings: sys.settings, sent, accounting, matching,
    lossBreakdown: matching && pipeline ? lossBreakdown(accounting.lostIds, matching.traceOf, pipeline.outbox, new Map(pipeline.events.map((e) => [e.eventId, e.kind]))) : null,
    stages: matching && pipeline
      ? stageLatencies({ sent: new Map(sent.map((x) => [x.id, x])), traceOf: matching.traceOf, times: pipeline.times, outbox: pipeline.outbox, arrival: earliest })
      : null,
    samples: i.samples, baseline: i.baseline, clients: i.clients, operators: i.operators, targets: plan.targets, notes,
  });
  return { report, arrivals };
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const scenario = loadScenario(o.scenario);
  const plan = planScenario(scenario, o.overrides);
  const startedAtMs = Date.now();
  // Other work on the machine skews every figure: the report says how busy it was when the run began.
  const loadAvgAtStart = Math.round(loadavg()[0]! * 100) / 100;
  const reportDir = resolve(o.reportDir ?? `load-tests/reports/${plan.name}-${new Date(startedAtMs).toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(reportDir, { recursive: true });
  const log = o.log ?? createLogger('load', 'warn');
  const say = (s: string): void => { if (o.interactive) process.stderr.write(`${s}\n`); };
  say(`stam load ${plan.name}: ${plan.events} events at ${plan.asFastAsPossible ? 'max' : plan.rateEps.toFixed(2)} ev/s over ${plan.panels} panels, ${plan.operators} operators; report in ${reportDir}`);
  say(o.target ? `attaching to ${o.target}` : 'starting the stack and every role (logs in the report directory)…');
  const sys = o.target
    ? await attachTarget({ gatewayUrl: o.target, controlUrl: o.control, databaseUrl: o.databaseUrl, username: o.username, password: o.password, operators: plan.operators, log })
    : await startSelfContained({ panels: plan.panels, operators: plan.operators, env: plan.stack_env, panelLogSize: o.panelLogSize ?? 6_000, reportDir, log, keep: o.keep ?? false });
  if (sys.mode === 'target') {
    const available = ((await (await fetch(`${sys.controlUrl}/panels`)).json()) as unknown[]).length;
    if (available < plan.panels) {
      sys.notes.push(`the target's simulator has ${available} panels; the generator uses all of them instead of ${plan.panels}`);
      plan.panels = available;
    }
  }
  const notes = [...sys.notes, 'kafka, postgresql, redis and rabbitmq serve the whole machine (other work included); postgresql sums every backend, so shared buffers count once per backend in its RSS'];
  const stops: Array<() => Promise<unknown>> = [];
  try {
    if ((o.baselineRecords ?? plan.baseline_records) > 0) say('measuring the raw broker (ProducerPerformance, ConsumerPerformance)…');
    const baseline = await baselineOf(sys, o.baselineRecords ?? plan.baseline_records, notes);
    const clients = await openOperatorClients({ gatewayUrl: sys.gatewayUrl, creds: sys.credentials.slice(0, plan.operators) });
    const stopClients = once(() => clients.stop());
    stops.push(stopClients);
    const runStart = Date.now();
    const traces = await createTraceCollector(sys.controlUrl, runStart);
    const sampler = await startSampler(sys, () => clients.distinctOnFirst);
    const stopSampler = once(() => sampler.stop());
    stops.push(stopSampler);
    const operators = plan.work_queue ? startOperators(sys.gatewayUrl, sys.credentials.slice(0, plan.operators), plan.think_ms) : undefined;
    const stopOperators = once(async () => (operators ? operators.stop() : null));
    stops.push(stopOperators);
    const progress = createProgress(o.interactive ?? false);
    let phase = 'sending';
    const draw = (): void => {
      const p = sampler.latest();
      progress.update({ phase, total: plan.events, generated: Math.max(traces.count, p?.generated ?? 0), received: clients.distinctOnFirst, lag: p?.lag ?? null, backlog: p?.backlog ?? null });
    };
    const ticker = setInterval(() => { void traces.poll().catch((err: Error) => log.warn({ err: err.message }, 'trace poll failed')); draw(); }, 1_000);
    stops.push(() => { clearInterval(ticker); return Promise.resolve(); });

    await startGenerator(sys.controlUrl, plan);
    const gen = await waitForGenerator(sys.controlUrl, draw);
    if (gen.errors) notes.push(`the generator reported ${gen.errors} errors (last: ${gen.lastError ?? '?'})`);
    const generatedAt = Date.now();
    phase = 'draining';
    await traces.poll().catch((err: Error) => log.warn({ err: err.message }, 'trace poll failed'));
    await drain(plan.drain_timeout_s, plan.quiet_s, generatedAt, () => {
      draw();
      const p = sampler.latest();
      return {
        everything: traces.count > 0 && clients.distinctOnFirst >= traces.count,
        progress: [clients.distinctOnFirst, p?.driverRead, p?.driverProduced, p?.lag, p?.backlog].join(','),
        settled: (p?.lag ?? 0) === 0 && (p?.backlog ?? 0) === 0 && (p?.backingOff ?? 0) === 0,
      };
    }, notes);
    phase = 'reporting';
    clearInterval(ticker);
    draw();
    const operatorReport = await stopOperators();
    await traces.poll();
    const missed = await traces.missed();
    if (missed > 0) notes.push(`${missed} generated events were pushed out of the simulator's trace ring before being read; they are not counted as sent`);
    const clientStats = await stopClients();
    await stopSampler();
    progress.done();
    for (const e of sys.exits) notes.push(`${e.role} exited during the run (${e.code ?? e.signal}); see its log`);
    const reconnects = (sampler.latest()?.reconnects ?? 0) - (sampler.points[0]?.reconnects ?? 0);
    if (reconnects > 0) notes.push(`the Satel driver reconnected to panels ${reconnects} times during the run (timeouts; see satel-ingest's log)`);
    const finishedAtMs = Date.now();

    const sent = traces.events();
    const { report, arrivals } = await analyse({
      sys, plan, sent, raw: clients.arrivals, tamper: o.tamper, runStart, finishedAtMs, loadAvgAtStart, baseline, notes,
      clients: clientStats, operators: operatorReport, samples: sampler.points, command: o.command ?? `npx stam load --scenario ${o.scenario}`,
    });
    writeFileSync(`${reportDir}/report.json`, `${JSON.stringify(report, null, 1)}\n`);
    writeFileSync(`${reportDir}/report.html`, renderHtml(report));
    const summary = summaryText(report);
    writeFileSync(`${reportDir}/summary.txt`, `${summary}\n`);
    say(`\n${summary}\n\nreport: ${reportDir}/report.json, ${reportDir}/report.html`);
    return { report, reportDir, sent, arrivals };
  } finally {
    say('stopping what the run started…');
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await sys.stop();
  }
}
