/**
 * The report of one run (pure): the figures of report.json from the accounting, the pipeline's stage
 * timestamps, the samples taken during the run and the broker baseline; the verdict against the
 * scenario's targets; and the terminal summary.
 */
import type { Accounting, Matching, SentEvent } from './accounting.ts';
import type { BrokerBaseline } from './baseline.ts';

/** The broker measured in the same run (baseline.ts), with what the ratio is taken against. */
export interface Baseline extends BrokerBaseline {
  /** min(produce, consume) records/s: what the broker alone moves end to end. */
  eps: number;
  partitions: number;
  command: string;
}
import type { OperatorReport } from './operators.ts';
import type { TimelinePoint } from './sampler.ts';
import type { Targets } from './scenario.ts';
import type { LossBreakdown, StageLatencies } from './stages.ts';
import { countPerBucket, histogram, maxOf, percentilesPerBucket, summarize, type HistogramBin, type Summary } from './stats.ts';
import type { ClientStats } from './ws-clients.ts';

export interface ReportContext {
  scenario: string;
  description: string;
  mode: 'self-contained' | 'target';
  startedAtMs: number;
  finishedAtMs: number;
  command: string;
  commit: string;
  machine: Record<string, string | number>;
  parameters: Record<string, string | number | boolean>;
  settings: Record<string, string>;
  sent: readonly SentEvent[];
  accounting: Accounting;
  matching: Matching | null;
  lossBreakdown: LossBreakdown | null;
  stages: StageLatencies | null;
  samples: readonly TimelinePoint[];
  baseline: Baseline | null;
  clients: ClientStats[];
  operators: OperatorReport | null;
  targets: Targets;
  notes: string[];
}

export interface TimelineRow {
  t_s: number;
  generated: number;
  received: number;
  p50_ms: number | null;
  p99_ms: number | null;
  lag: number | null;
  backlog: number | null;
  metric_lag: number | null;
  metric_backlog: number | null;
  /** The driver's cumulative event-log records read and events produced. */
  driver_read: number | null;
  driver_produced: number | null;
}

export interface ProcessRow { name: string; cpu_avg_pct: number; cpu_max_pct: number; rss_max_mb: number; cpu_pct: number[] }

export interface LoadReport {
  scenario: string;
  description: string;
  mode: string;
  started_at: string;
  finished_at: string;
  command: string;
  commit: string;
  machine: Record<string, string | number>;
  parameters: Record<string, string | number | boolean>;
  settings: Record<string, string>;
  sent: number;
  received: number;
  lost: number;
  duplicated: number;
  lost_everywhere: number;
  lost_on_some_clients: number;
  lost_breakdown: LossBreakdown | null;
  duplicate_events: number;
  redelivered: number;
  unexpected: number;
  matched_by: Omit<Matching, 'traceOf'> | null;
  latency_ms: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  latency_summary: Summary | null;
  latency_histogram: HistogramBin[];
  stage_latency_ms: StageLatencies | null;
  throughput_eps: number;
  generator_eps: number;
  peak_eps: number;
  broker_baseline_eps: number | null;
  broker_baseline: Baseline | null;
  throughput_ratio: number | null;
  max_lag: number | null;
  max_backlog: number | null;
  timeline: TimelineRow[];
  processes: ProcessRow[];
  clients: ClientStats[];
  operators: OperatorReport | null;
  targets: Targets;
  verdict: { pass: boolean; failures: string[] };
  samples: { lost: string[]; duplicated: string[] };
  notes: string[];
}

const r1 = (v: number): number => Math.round(v * 10) / 10;

export function buildReport(c: ReportContext): LoadReport {
  const a = c.accounting;
  const lat = summarize(a.latenciesMs);
  const sentTimes = c.sent.map((s) => s.sentAtMs);
  const t0 = Math.min(c.startedAtMs, sentTimes[0] ?? c.startedAtMs);
  const lastSent = sentTimes.length > 0 ? maxOf(sentTimes) : t0;
  const arrivals = [...a.firstArrivalMs.values()];
  const lastArrival = arrivals.length > 0 ? maxOf(arrivals) : t0;
  const end = Math.max(c.finishedAtMs, lastArrival);
  const buckets = Math.max(1, Math.ceil((end - t0) / 1000));
  const received = countPerBucket(arrivals, t0, 1000, buckets);
  const generated = countPerBucket(sentTimes, t0, 1000, buckets);
  const sentAt = new Map(c.sent.map((s) => [s.id, s.sentAtMs]));
  const perSecond = percentilesPerBucket((function* () {
    for (const [id, at] of a.firstArrivalMs) yield { t: at, v: at - sentAt.get(id)! };
  })(), t0, 1000, buckets);
  const sampleAt = (i: number): TimelinePoint | undefined => {
    let hit: TimelinePoint | undefined;
    for (const p of c.samples) if (p.t < t0 + (i + 1) * 1000) hit = p;
    return hit;
  };
  const timeline: TimelineRow[] = Array.from({ length: buckets }, (_, i) => {
    const p = sampleAt(i);
    return {
      t_s: i, generated: generated[i]!, received: received[i]!, p50_ms: perSecond[i]?.p50 ?? null, p99_ms: perSecond[i]?.p99 ?? null,
      lag: p?.lag ?? null, backlog: p?.backlog ?? null, metric_lag: p?.metricLag ?? null, metric_backlog: p?.metricBacklog ?? null,
      driver_read: p?.driverRead ?? null, driver_produced: p?.driverProduced ?? null,
    };
  });
  const window = (lastArrival - (sentTimes[0] ?? t0)) / 1000;
  const throughput = a.received > 0 && window > 0 ? r1(a.received / window) : 0;
  const sendWindow = (lastSent - (sentTimes[0] ?? lastSent)) / 1000;
  const nums = (xs: Array<number | null>): number[] => xs.filter((x): x is number => x !== null);
  const report: LoadReport = {
    scenario: c.scenario, description: c.description, mode: c.mode,
    started_at: new Date(c.startedAtMs).toISOString(), finished_at: new Date(c.finishedAtMs).toISOString(),
    command: c.command, commit: c.commit, machine: c.machine, parameters: c.parameters, settings: c.settings,
    sent: a.sent, received: a.received, lost: a.lost, duplicated: a.duplicated,
    lost_everywhere: a.lostEverywhere, lost_on_some_clients: a.lostOnSomeClients, lost_breakdown: c.lossBreakdown,
    duplicate_events: a.duplicateEvents, redelivered: a.redelivered, unexpected: a.unexpected,
    matched_by: c.matching ? { byTrace: c.matching.byTrace, byLogIndex: c.matching.byLogIndex, inferred: c.matching.inferred, unmatched: c.matching.unmatched } : null,
    latency_ms: { p50: lat?.p50 ?? null, p95: lat?.p95 ?? null, p99: lat?.p99 ?? null, max: lat?.max ?? null },
    latency_summary: lat, latency_histogram: histogram(a.latenciesMs).filter((b, i, all) => b.count > 0 || i < all.length - 1),
    stage_latency_ms: c.stages,
    throughput_eps: throughput,
    generator_eps: sendWindow > 0 ? r1(a.sent / sendWindow) : a.sent,
    peak_eps: received.length > 0 ? maxOf(received) : 0,
    broker_baseline_eps: c.baseline?.eps ?? null, broker_baseline: c.baseline,
    throughput_ratio: c.baseline && c.baseline.eps > 0 ? Number((throughput / c.baseline.eps).toPrecision(3)) : null,
    max_lag: nums(c.samples.map((p) => p.lag)).reduce((m, v) => Math.max(m, v), 0),
    max_backlog: nums(c.samples.map((p) => p.backlog)).reduce((m, v) => Math.max(m, v), 0),
    timeline, processes: processRows(c.samples), clients: c.clients, operators: c.operators, targets: c.targets,
    verdict: { pass: true, failures: [] },
    samples: { lost: a.lostIds.slice(0, 20), duplicated: a.duplicatedIds.slice(0, 20) },
    notes: c.notes,
  };
  report.verdict = verdict(report);
  return report;
}

function processRows(samples: readonly TimelinePoint[]): ProcessRow[] {
  const names = new Set<string>();
  for (const p of samples) for (const n of Object.keys(p.procs)) names.add(n);
  return [...names].sort().map((name) => {
    const cpu = samples.slice(1).map((p) => p.procs[name]?.cpuPct ?? 0);
    const rss = samples.map((p) => p.procs[name]?.rssMb ?? 0);
    return {
      name, cpu_avg_pct: cpu.length > 0 ? r1(cpu.reduce((s, v) => s + v, 0) / cpu.length) : 0,
      cpu_max_pct: cpu.length > 0 ? maxOf(cpu) : 0, rss_max_mb: rss.length > 0 ? maxOf(rss) : 0, cpu_pct: cpu,
    };
  });
}

/** Which targets the run missed; a target that cannot be checked (no samples, route missing) is missed. */
export function verdict(r: LoadReport): { pass: boolean; failures: string[] } {
  const f: string[] = [];
  const t = r.targets;
  const bound = (what: string, v: number | null | undefined, max: number | undefined): void => {
    if (max === undefined) return;
    if (v === null || v === undefined) f.push(`${what}: no measurement (target ≤ ${max})`);
    else if (v > max) f.push(`${what} ${v} > ${max}`);
  };
  if (r.sent === 0) f.push('no events were sent');
  bound('lost', r.lost, t.lost);
  bound('duplicated', r.duplicated, t.duplicated);
  bound('latency p95 ms', r.latency_ms.p95, t.p95_ms);
  bound('latency p99 ms', r.latency_ms.p99, t.p99_ms);
  bound('latency max ms', r.latency_ms.max, t.max_ms);
  if (t.throughput_eps !== undefined && r.throughput_eps < t.throughput_eps) f.push(`throughput ${r.throughput_eps} ev/s < ${t.throughput_eps}`);
  const route = (name: string) => r.operators?.routes[name]?.latency_ms?.p95;
  if (t.list_p95_ms !== undefined) bound('GET /api/alarms p95 ms', route('list'), t.list_p95_ms);
  if (t.claim_p95_ms !== undefined) {
    if (r.operators?.unavailable.includes('claim')) f.push('claim: the gateway has no POST /api/alarms/:id/claim');
    else bound('claim p95 ms', route('claim'), t.claim_p95_ms);
  }
  return { pass: f.length === 0, failures: f };
}

const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: 1 }));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

/** The terminal summary. */
export function summaryText(r: LoadReport): string {
  const s = r.stage_latency_ms;
  const stage = (x: Summary | null | undefined): string[] => [fmt(x?.p50), fmt(x?.p95), fmt(x?.p99), fmt(x?.max)];
  const lines = [
    `stam load — ${r.scenario} (${r.mode}): ${Object.entries(r.parameters).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `scenario file: ${r.description}`,
    '',
    table([
      ['events', 'sent', 'received', 'lost', 'duplicated', 'unexpected'],
      ['', fmt(r.sent), fmt(r.received), fmt(r.lost), fmt(r.duplicated), fmt(r.unexpected)],
    ]),
    ...(r.lost_breakdown && r.lost > 0 ? [`lost where: ${Object.entries(r.lost_breakdown).map(([k, v]) => `${k} ${v}`).join(', ')}; on some clients only ${r.lost_on_some_clients}`] : []),
    '',
    table([
      ['latency ms', 'p50', 'p95', 'p99', 'max'],
      ['end to end (panel → screen)', ...stage(r.latency_summary)],
      ['  panel → broker', ...stage(s?.panel_to_broker)],
      ['  broker → PostgreSQL', ...stage(s?.broker_to_postgres)],
      ['  PostgreSQL → WebSocket', ...stage(s?.postgres_to_websocket)],
      ['    outbox wait', ...stage(s?.outbox_wait)],
      ['    relay → WebSocket', ...stage(s?.relay_to_websocket)],
    ]),
    '',
    `throughput ${fmt(r.throughput_eps)} ev/s (generator ${fmt(r.generator_eps)} ev/s, peak ${fmt(r.peak_eps)} ev/s in one second)`
      + (r.broker_baseline ? `; raw broker ${fmt(r.broker_baseline_eps)} rec/s (produce ${fmt(r.broker_baseline.produceEps)}, consume ${fmt(r.broker_baseline.consumeEps)}, ${r.broker_baseline.recordBytes} B) → ratio ${r.throughput_ratio}` : '; raw broker not measured'),
    `max consumer lag ${fmt(r.max_lag)} messages, max outbox backlog ${fmt(r.max_backlog)} rows`,
    '',
    table([['process', 'CPU avg %', 'CPU max %', 'RSS max MB'], ...r.processes.map((p) => [p.name, fmt(p.cpu_avg_pct), fmt(p.cpu_max_pct), fmt(p.rss_max_mb)])]),
  ];
  if (r.operators) {
    const o = r.operators;
    lines.push('', table([['operator API', 'calls', 'p50 ms', 'p95 ms', 'p99 ms', 'statuses'],
      ...Object.entries(o.routes).map(([k, v]) => [k, fmt(v.calls), fmt(v.latency_ms?.p50), fmt(v.latency_ms?.p95), fmt(v.latency_ms?.p99), JSON.stringify(v.statuses)])]));
    lines.push(`alarms closed ${o.closed}, claims lost to another operator ${o.conflicts}${o.unavailable.length ? `, routes missing: ${o.unavailable.join(', ')}` : ''}`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push('', r.verdict.pass ? 'verdict: PASS (every target met)' : `verdict: FAIL — ${r.verdict.failures.join('; ')}`);
  return lines.join('\n');
}
