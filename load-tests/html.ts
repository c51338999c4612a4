/**
 * The report as one self-contained HTML page (pure): inline SVG charts — latency histogram, latency,
 * throughput, lag/backlog and CPU over time — and the tables of the terminal summary. No scripts, no
 * fonts or styles from the network, so it opens anywhere.
 */
import type { LoadReport } from './report.ts';
import type { Summary } from './stats.ts';

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: 1 }));
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const W = 760;
const H = 240;
const PAD = { l: 60, r: 140, t: 28, b: 34 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

function cumulative(xs: number[]): number[] {
  let sum = 0;
  return xs.map((x) => (sum += x));
}

export interface Series { name: string; values: Array<number | null> }

/** Lines over x = 0..n-1 (seconds); gaps where a value is null. */
export function lineChart(title: string, yLabel: string, series: Series[]): string {
  const n = Math.max(1, ...series.map((s) => s.values.length));
  let top = 0;
  for (const s of series) for (const v of s.values) if (v !== null && v > top) top = v;
  const yMax = niceMax(top);
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const x = (i: number): number => PAD.l + (n <= 1 ? 0 : (i / (n - 1)) * iw);
  const y = (v: number): number => PAD.t + ih - (v / yMax) * ih;
  const parts: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    parts.push(`<line x1="${PAD.l}" x2="${PAD.l + iw}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  for (let k = 0; k <= 5; k++) {
    const i = Math.round(((n - 1) * k) / 5);
    parts.push(`<text x="${x(i)}" y="${H - PAD.b + 16}" text-anchor="middle">${i}s</text>`);
  }
  series.forEach((s, si) => {
    const color = COLORS[si % COLORS.length]!;
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) { pen = false; return; }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    if (s.values.filter((v) => v !== null).length === 1) {
      const i = s.values.findIndex((v) => v !== null);
      parts.push(`<circle cx="${x(i)}" cy="${y(s.values[i]!)}" r="2.5" fill="${color}"/>`);
    }
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
    parts.push(`<rect x="${W - PAD.r + 12}" y="${PAD.t + si * 16}" width="10" height="10" fill="${color}"/><text x="${W - PAD.r + 26}" y="${PAD.t + si * 16 + 9}">${esc(s.name)}</text>`);
  });
  return svg(title, yLabel, parts.join(''));
}

/** Bars for a latency histogram (one bar per bin, labelled with its lower bound). */
export function barChart(title: string, yLabel: string, bars: Array<{ label: string; value: number }>): string {
  const top = niceMax(Math.max(1, ...bars.map((b) => b.value)));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const bw = iw / Math.max(1, bars.length);
  const parts: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = (top * k) / 4;
    const yy = PAD.t + ih - (v / top) * ih;
    parts.push(`<line x1="${PAD.l}" x2="${PAD.l + iw}" y1="${yy}" y2="${yy}" stroke="#ddd"/><text x="${PAD.l - 6}" y="${yy + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  bars.forEach((b, i) => {
    const h = (b.value / top) * ih;
    parts.push(`<rect x="${PAD.l + i * bw + 2}" y="${PAD.t + ih - h}" width="${Math.max(1, bw - 4)}" height="${h}" fill="${COLORS[0]}"><title>${esc(b.label)}: ${b.value}</title></rect>`);
    parts.push(`<text x="${PAD.l + i * bw + bw / 2}" y="${H - PAD.b + 16}" text-anchor="middle">${esc(b.label)}</text>`);
  });
  return svg(title, yLabel, parts.join(''));
}

function svg(title: string, yLabel: string, body: string): string {
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`
    + `<text x="${PAD.l}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`
    + `<text transform="translate(12 ${H / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>${body}</svg></figure>`;
}

function htmlTable(head: string[], rows: Array<Array<string | number | null | undefined>>): string {
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(typeof c === 'number' ? fmt(c) : (c ?? '–'))}</td>`).join('')}</tr>`).join('')}</table>`;
}

const stageRow = (name: string, s: Summary | null | undefined) => [name, s?.p50, s?.p95, s?.p99, s?.max, s?.count];

export function renderHtml(r: LoadReport): string {
  const tl = r.timeline;
  const s = r.stage_latency_ms;
  const charts = [
    barChart('End-to-end latency (panel → operator screen), ms', 'events × clients', r.latency_histogram.map((b) => ({ label: `${fmt(b.from)}`, value: b.count }))),
    lineChart('Latency over time (by arrival second), ms', 'ms', [{ name: 'p50', values: tl.map((x) => x.p50_ms) }, { name: 'p99', values: tl.map((x) => x.p99_ms) }]),
    lineChart('Throughput, events per second', 'events/s', [{ name: 'generated', values: tl.map((x) => x.generated) }, { name: 'received', values: tl.map((x) => x.received) }]),
    lineChart('Consumer lag and outbox backlog', 'messages / rows', [{ name: 'consumer lag', values: tl.map((x) => x.lag) }, { name: 'outbox backlog', values: tl.map((x) => x.backlog) }]),
    lineChart('Satel driver: event-log records read and events produced (cumulative)', 'events', [{ name: 'generated (cumulative)', values: cumulative(tl.map((x) => x.generated)) },
      { name: 'records read', values: tl.map((x) => x.driver_read) }, { name: 'events produced', values: tl.map((x) => x.driver_produced) }]),
    lineChart('CPU per process, % of one core', '%', r.processes.map((p) => ({ name: p.name, values: p.cpu_pct }))),
  ];
  const verdict = r.verdict.pass ? '<p class="pass">PASS — every target met</p>' : `<p class="fail">FAIL — ${esc(r.verdict.failures.join('; '))}</p>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>stam load — ${esc(r.scenario)}</title><style>
body{font-family:sans-serif;margin:24px;max-width:1000px;color:#222}table{border-collapse:collapse;margin:8px 0 16px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
figure{margin:8px 0}.pass{color:#2a7d2a;font-weight:bold}.fail{color:#b22;font-weight:bold}code{background:#f4f4f4;padding:1px 4px}
</style></head><body>
<h1>stam load — ${esc(r.scenario)}</h1><p>${esc(r.description)}</p>${verdict}
<p>${esc(r.mode)} run, ${esc(r.started_at)} → ${esc(r.finished_at)}, commit <code>${esc(r.commit)}</code><br>
command <code>${esc(r.command)}</code><br>machine ${esc(Object.entries(r.machine).map(([k, v]) => `${k} ${v}`).join(', '))}</p>
${htmlTable(['sent', 'received', 'lost', 'duplicated', 'lost on some clients', 'unexpected'], [[r.sent, r.received, r.lost, r.duplicated, r.lost_on_some_clients, r.unexpected]])}
${r.lost_breakdown ? htmlTable(['lost where', 'events'], Object.entries(r.lost_breakdown as unknown as Record<string, number>).map(([k, v]) => [k, v])) : ''}
${htmlTable(['latency ms', 'p50', 'p95', 'p99', 'max', 'samples'], [
    stageRow('end to end', r.latency_summary), stageRow('panel → broker', s?.panel_to_broker), stageRow('broker → PostgreSQL', s?.broker_to_postgres),
    stageRow('PostgreSQL → WebSocket', s?.postgres_to_websocket), stageRow('outbox wait', s?.outbox_wait), stageRow('relay → WebSocket', s?.relay_to_websocket)])}
${htmlTable(['throughput', 'events/s'], [['pipeline (received)', r.throughput_eps], ['generator', r.generator_eps], ['peak second', r.peak_eps],
    ['raw broker (min of produce, consume)', r.broker_baseline_eps], ['pipeline ÷ broker', r.throughput_ratio]])}
${charts.join('\n')}
${htmlTable(['process', 'CPU avg %', 'CPU max %', 'RSS max MB'], r.processes.map((p) => [p.name, p.cpu_avg_pct, p.cpu_max_pct, p.rss_max_mb]))}
${htmlTable(['client', 'updates', 'events', 'disconnects', 'position gaps', 'out of order', 'resyncs'], r.clients.map((c) => [c.username, c.updates, c.events, c.disconnects, c.positionGaps, c.outOfOrder, c.resyncs]))}
${r.operators ? htmlTable(['operator API', 'calls', 'p50 ms', 'p95 ms', 'p99 ms', 'statuses'], Object.entries(r.operators.routes).map(([k, v]) => [k, v.calls, v.latency_ms?.p50, v.latency_ms?.p95, v.latency_ms?.p99, JSON.stringify(v.statuses)])) : ''}
${htmlTable(['setting', 'value'], [...Object.entries(r.parameters), ...Object.entries(r.settings)].map(([k, v]) => [k, String(v)]))}
${r.notes.length ? `<h3>Notes</h3><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
