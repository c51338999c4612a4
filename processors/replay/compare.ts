import type { ActualTally } from './history.ts';
import type { WhatIfTally } from './what-if.ts';

/** Alarms opened, in total and per category and object: what the pipeline made, a what-if or a rebuild. */
export type Tally = ActualTally;

/** One line of the side-by-side comparison: what happened, what the what-if makes of it. */
export interface CompareRow { key: string; actual: number; whatIf: number; delta: number }

export interface Comparison {
  totals: CompareRow[];
  byCategory: CompareRow[];
  /** Objects with the largest difference first. */
  byObject: CompareRow[];
}

function rows(a: Record<string, number>, w: Record<string, number>, label: (k: string) => string = (k) => k): CompareRow[] {
  return [...new Set([...Object.keys(a), ...Object.keys(w)])].map((k) => ({ key: label(k), actual: a[k] ?? 0, whatIf: w[k] ?? 0, delta: (w[k] ?? 0) - (a[k] ?? 0) }));
}

export function compare(actual: Tally, whatIf: Tally, objectName: (id: string) => string = (id) => id): Comparison {
  return {
    totals: [
      { key: 'alarms', actual: actual.alarms, whatIf: whatIf.alarms, delta: whatIf.alarms - actual.alarms },
      { key: 'flood alarms', actual: actual.floods, whatIf: whatIf.floods, delta: whatIf.floods - actual.floods },
    ],
    byCategory: rows(actual.byCategory, whatIf.byCategory).sort((x, y) => x.key.localeCompare(y.key)),
    byObject: rows(actual.byObject, whatIf.byObject, objectName).sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || x.key.localeCompare(y.key)),
  };
}

/** A plain-text table for the terminal. */
export function table(title: string, list: readonly CompareRow[], limit = 30): string {
  const w = Math.max(8, ...list.map((r) => r.key.length));
  const line = (k: string, a: string, b: string, d: string) => `  ${k.padEnd(w)}  ${a.padStart(9)}  ${b.padStart(9)}  ${d.padStart(7)}`;
  const out = [title, line('', 'actual', 'what-if', 'Δ')];
  for (const r of list.slice(0, limit)) out.push(line(r.key, String(r.actual), String(r.whatIf), r.delta > 0 ? `+${r.delta}` : String(r.delta)));
  if (list.length > limit) out.push(`  … ${list.length - limit} more`);
  return out.join('\n');
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Paired horizontal bars (actual, what-if) as inline SVG: the HTML report needs no script and no network. */
function bars(list: readonly CompareRow[], limit = 25): string {
  const shown = list.slice(0, limit);
  const max = Math.max(1, ...shown.flatMap((r) => [r.actual, r.whatIf]));
  const rowH = 26;
  const labelW = 180;
  const barW = 520;
  const items = shown.map((r, i) => {
    const y = i * rowH;
    return `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${esc(r.key)}</text>`
      + `<rect x="${labelW}" y="${y + 3}" width="${(r.actual / max) * barW}" height="9" fill="#718096"/>`
      + `<rect x="${labelW}" y="${y + 13}" width="${(r.whatIf / max) * barW}" height="9" fill="#2b6cb0"/>`
      + `<text x="${labelW + barW + 6}" y="${y + 15}">${r.actual} → ${r.whatIf}</text>`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 120}" height="${shown.length * rowH + 4}" font-family="sans-serif" font-size="12">${items}</svg>`;
}

/** A self-contained HTML report of a what-if: settings, the range, the totals and both breakdowns with charts. */
export function htmlReport(o: { title: string; settings: Record<string, unknown>; notes: string[]; comparison: Comparison; whatIf?: WhatIfTally | undefined }): string {
  const t = (list: readonly CompareRow[]) => `<table><tr><th></th><th>actual</th><th>what-if</th><th>Δ</th></tr>${list.map((r) =>
    `<tr><td>${esc(r.key)}</td><td>${r.actual}</td><td>${r.whatIf}</td><td>${r.delta > 0 ? `+${r.delta}` : r.delta}</td></tr>`).join('')}</table>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(o.title)}</title>
<style>body{font:14px sans-serif;margin:2em;max-width:960px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child{text-align:left}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}</style></head><body>
<h1>${esc(o.title)}</h1>
<p>${Object.entries(o.settings).map(([k, v]) => `${esc(k)}: <b>${esc(String(v))}</b>`).join(' · ')}</p>
${o.notes.map((n) => `<p><b>Note:</b> ${esc(n)}</p>`).join('')}
${o.whatIf ? `<p>${o.whatIf.events} events replayed: ${o.whatIf.recorded} recorded, ${o.whatIf.duplicates} duplicates, ${o.whatIf.stale} stale, ${o.whatIf.unrouted} of unknown panels or sensors;
${o.whatIf.flooded} absorbed by flood alarms.</p>` : ''}
<h2>Totals</h2>${t(o.comparison.totals)}
<p class="legend"><span style="background:#718096"></span>actual<span style="background:#2b6cb0"></span>what-if</p>
<h2>Per category</h2>${bars(o.comparison.byCategory)}${t(o.comparison.byCategory)}
<h2>Per object (largest differences first)</h2>${bars(o.comparison.byObject)}${t(o.comparison.byObject.slice(0, 200))}
</body></html>`;
}
