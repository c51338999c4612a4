import { useMemo, useState } from 'react';
import { api, download } from '../api.ts';
import { formatters } from '../i18n/index.ts';
import { t, toast, useStore } from '../store.ts';
import { text } from './form.ts';

/** The reports of issue 12 and their groupings (gateway/reports/specs.ts). */
const REPORTS = {
  'response-times': ['severity', 'category', 'operator', 'object', 'hour'],
  alarms: ['object', 'category', 'day', 'hour'],
  availability: ['panel', 'object'],
  operators: ['operator'],
  commands: ['panel', 'user'],
} as const;
type Kind = keyof typeof REPORTS;
type Row = Record<string, unknown> & { key: string; count: number };

/** Nested figures ({p50, p90, …}) become columns of their own: `claimed.p90`. */
function flatten(r: Row): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(r)) {
    if (v !== null && typeof v === 'object') for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) out[`${k}.${k2}`] = typeof v2 === 'number' ? Math.round(v2 * 10) / 10 : text(v2);
    else out[k] = typeof v === 'number' ? Math.round(v * 10) / 10 : text(v);
  }
  return out;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** Analysts: pick a report and a range, see the table and a chart, download CSV or PDF. */
export function Reports() {
  const lang = useStore((s) => s.lang);
  const fmt = useMemo(() => formatters(lang), [lang]);
  const [kind, setKind] = useState<Kind>('alarms');
  const [group, setGroup] = useState<string>('object');
  const [from, setFrom] = useState(day(new Date(Date.now() - 7 * 86_400_000)));
  const [to, setTo] = useState(day(new Date(Date.now() + 86_400_000)));
  const [rows, setRows] = useState<Row[] | null>(null);
  const qs = (format: string) => new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), group_by: group, format }).toString();
  const show = () => api<{ rows: Row[] }>(`/api/reports/${kind}?${qs('json')}`).then((r) => setRows(r.rows)).catch((err: Error) => toast(t('action.failed', { message: err.message })));
  const flat = rows?.map(flatten) ?? [];
  const cols = [...new Set(flat.flatMap((r) => Object.keys(r)))];
  const max = Math.max(1, ...(rows ?? []).map((r) => r.count));

  return (
    <section aria-labelledby="rep-title" className="reports">
      <h1 id="rep-title">{t('reports.title')}</h1>
      <form className="inline-form" onSubmit={(e) => { e.preventDefault(); void show(); }}>
        <label>{t('reports.kind')}{' '}
          <select value={kind} onChange={(e) => { const k = e.target.value as Kind; setKind(k); setGroup(REPORTS[k][0]); setRows(null); }}>
            {(Object.keys(REPORTS) as Kind[]).map((k) => <option key={k} value={k}>{t(`reports.${k}`)}</option>)}
          </select>
        </label>
        <label>group_by <select value={group} onChange={(e) => setGroup(e.target.value)}>{REPORTS[kind].map((g) => <option key={g}>{g}</option>)}</select></label>
        <label>{t('reports.from')} <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} required /></label>
        <label>{t('reports.to')} <input type="date" value={to} onChange={(e) => setTo(e.target.value)} required /></label>
        <button type="submit" className="primary">{t('reports.show')}</button>
        <button type="button" onClick={() => void download(`/api/reports/${kind}?${qs('csv')}`, `${kind}.csv`).catch((e: Error) => toast(e.message))}>{t('reports.csv')}</button>
        <button type="button" onClick={() => void download(`/api/reports/${kind}?${qs('pdf')}`, `${kind}.pdf`).catch((e: Error) => toast(e.message))}>{t('reports.pdf')}</button>
      </form>
      {rows && (
        <>
          <svg className="chart" role="img" aria-label={t('reports.chart')} width="100%" height={Math.max(40, rows.length * 22)} viewBox={`0 0 600 ${Math.max(40, rows.length * 22)}`}>
            {rows.map((r, i) => (
              <g key={r.key} transform={`translate(0, ${i * 22})`}>
                <text x="0" y="15" fontSize="12">{r.key}</text>
                <rect x="180" y="3" height="16" width={(r.count / max) * 380} fill="#3b6fb6" />
                <text x={186 + (r.count / max) * 380} y="15" fontSize="12">{fmt.number(r.count)}</text>
              </g>
            ))}
          </svg>
          <table className="plain" aria-label={t(`reports.${kind}`)}>
            <thead><tr>{cols.map((c) => <th key={c}>{c}</th>)}</tr></thead>
            <tbody>{flat.map((r, i) => <tr key={i}>{cols.map((c) => <td key={c}>{typeof r[c] === 'number' ? fmt.number(r[c]) : r[c] ?? ''}</td>)}</tr>)}</tbody>
          </table>
        </>
      )}
    </section>
  );
}
