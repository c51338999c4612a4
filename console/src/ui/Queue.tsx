import { useEffect, useMemo, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { formatWaiting, formatters } from '../i18n/index.ts';
import { actionsFor, visibleQueue, type Act, type Alarm, type QueueFilter } from '../queue.ts';
import { getState, t, useStore } from '../store.ts';
import { ensureZones, recordIntent, setIncludeTest } from '../sync.ts';
import { ActionDialog } from './ActionDialog.tsx';
import { NEEDS_DIALOG, runAction } from './actions.ts';

const ROW_H = 40;
const OVERSCAN = 8;

/** The clock of the "waiting for" timers: one tick a second for the whole queue. */
function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const i = setInterval(() => setNow(Date.now()), 1000); return () => clearInterval(i); }, []);
  return now;
}

const typing = (el: EventTarget | null) => el instanceof HTMLElement && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) || el.closest('dialog') !== null);

/**
 * The live queue: severity then age, a running "waiting for" per alarm, filters, keyboard first. Only the
 * rows in view are drawn (a shift's queue can hold thousands), and updates are drawn once per frame.
 */
export function Queue({ open }: { open: (id: number) => void }) {
  const rev = useStore((s) => s.rev);
  const user = useStore((s) => s.user);
  const link = useStore((s) => s.link);
  const lang = useStore((s) => s.lang);
  const objects = useStore((s) => s.objects);
  const intents = useStore((s) => s.intents);
  const zoneNames = useStore((s) => s.zoneNames);
  const [filter, setFilter] = useState<QueueFilter>({ mine: false, objectId: null, category: null, showTest: false });
  const [selected, setSelected] = useState<number | null>(null);
  const [dialog, setDialog] = useState<{ alarm: Alarm; act: Act } | null>(null);
  const [scroll, setScroll] = useState({ top: 0, height: 600 });
  const box = useRef<HTMLDivElement>(null);
  const now = useNow();
  const fmt = useMemo(() => formatters(lang), [lang]);
  const live = link === 'live';

  // `rev` stands for the alarm map, which is mutated in place.
  const rows = useMemo(() => visibleQueue(getState().alarms.values(), filter, user?.username ?? null), [rev, filter, user]);
  const categories = useMemo(() => [...new Set([...getState().alarms.values()].map((a) => a.category))].sort(), [rev]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setScroll({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const act = (a: Alarm, action: Act) => {
    if (!live) return;
    if (NEEDS_DIALOG.has(action)) setDialog({ alarm: a, act: action });
    else void runAction(a, action);
  };

  const select = (i: number) => {
    const a = rows[Math.max(0, Math.min(rows.length - 1, i))];
    if (!a) return;
    setSelected(a.alarm_id);
    const el = box.current;
    const idx = rows.indexOf(a);
    if (el && (idx * ROW_H < el.scrollTop || (idx + 1) * ROW_H > el.scrollTop + el.clientHeight)) el.scrollTop = idx * ROW_H - el.clientHeight / 2;
    requestAnimationFrame(() => document.getElementById(`alarm-row-${a.alarm_id}`)?.focus());
  };

  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => {
      if (typing(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey || getState().locked) return;
      const idx = rows.findIndex((r) => r.alarm_id === selected);
      const cur = idx >= 0 ? rows[idx] : undefined;
      const k = ev.key.toLowerCase();
      if (k === 'j' || ev.key === 'ArrowDown') { select(idx + 1); ev.preventDefault(); }
      else if (k === 'k' || ev.key === 'ArrowUp') { select(idx <= 0 ? 0 : idx - 1); ev.preventDefault(); }
      else if (k === 'n') { const i = rows.findIndex((r) => r.status === 'NEW'); if (i >= 0) select(i); }
      else if (k === 'c' && cur && actionsFor(cur, user).includes('claim')) act(cur, 'claim');
      else if (k === 'a' && cur && actionsFor(cur, user).includes('ack')) act(cur, 'ack');
      else if (ev.key === 'Enter' && cur) open(cur.alarm_id);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const first = Math.max(0, Math.floor(scroll.top / ROW_H) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scroll.top + scroll.height) / ROW_H) + OVERSCAN);
  const objName = (id: number) => objects.get(id)?.name ?? `#${id}`;
  const visible = rows.slice(first, last);
  useEffect(() => { for (const a of visible) if (a.panel_id !== null) ensureZones(a.panel_id); });
  const zoneLabel = (a: Alarm) => {
    if (a.zone === null) return '';
    const name = a.panel_id === null ? undefined : zoneNames.get(a.panel_id)?.get(a.zone);
    return name ? `${a.zone} — ${name}` : String(a.zone);
  };

  return (
    <section className="queue" aria-labelledby="queue-title">
      <div className="bar">
        <h1 id="queue-title">{t('queue.title')}</h1>
        <span className="count" aria-live="polite">{t('queue.count', { n: fmt.number(rows.length) })}</span>
        <fieldset className="filters">
          <legend>{t('queue.filters')}</legend>
          <label><input type="checkbox" checked={filter.mine} onChange={(e) => setFilter({ ...filter, mine: e.target.checked })} /> {t('queue.mine')}</label>
          <label>{t('queue.object')}{' '}
            <select value={filter.objectId ?? ''} onChange={(e) => setFilter({ ...filter, objectId: e.target.value ? Number(e.target.value) : null })}>
              <option value="">{t('queue.anyObject')}</option>
              {[...objects.values()].map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
            </select>
          </label>
          <label>{t('queue.category')}{' '}
            <select value={filter.category ?? ''} onChange={(e) => setFilter({ ...filter, category: e.target.value || null })}>
              <option value="">{t('queue.anyCategory')}</option>
              {categories.map((c) => <option key={c} value={c}>{c}</option>)}
            </select>
          </label>
          <label><input type="checkbox" checked={filter.showTest} onChange={(e) => { setFilter({ ...filter, showTest: e.target.checked }); setIncludeTest(e.target.checked); }} /> {t('queue.showTest')}</label>
        </fieldset>
      </div>
      <p className="hint">{t('queue.shortcuts')}</p>
      <div role="table" aria-label={t('queue.title')} aria-rowcount={rows.length + 1} className="grid">
        <div role="rowgroup" className="head">
          <div role="row" className="row">
            {(['col.id', 'col.severity', 'col.status', 'col.object', 'col.zone', 'col.alarm', 'col.events', 'col.waiting', 'col.actions'] as const).map((c) => <div role="columnheader" key={c}>{t(c)}</div>)}
          </div>
        </div>
        <div role="rowgroup" className="body" ref={box} onScroll={(e) => setScroll({ top: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight })}>
          {rows.length === 0 && <p className="empty">{t('queue.empty')}</p>}
          <div style={{ height: rows.length * ROW_H, position: 'relative' }}>
            {visible.map((a, i) => {
              const acts = actionsFor(a, user);
              const label = t('row.label', { id: a.alarm_id, title: a.title, object: objName(a.object_id) });
              const onKey = (ev: ReactKeyboardEvent) => { if (ev.key === ' ' && ev.target === ev.currentTarget) { ev.preventDefault(); open(a.alarm_id); } };
              return (
                <div role="row" id={`alarm-row-${a.alarm_id}`} key={a.alarm_id} aria-label={label} aria-rowindex={first + i + 2} aria-selected={selected === a.alarm_id}
                  tabIndex={-1} onKeyDown={onKey} onClick={() => setSelected(a.alarm_id)} data-alarm={a.alarm_id} data-status={a.status}
                  className={`row sev-${a.severity} st-${a.status}${a.test || a.service ? ' test' : ''}${selected === a.alarm_id ? ' selected' : ''}`}
                  style={{ position: 'absolute', top: (first + i) * ROW_H, height: ROW_H, left: 0, right: 0 }}>
                  <div role="cell">{a.alarm_id}</div>
                  <div role="cell" className="sev">{t(`severity.${a.severity}` as 'severity.CRITICAL')}</div>
                  <div role="cell">{t(`alarmStatus.${a.status}` as 'alarmStatus.NEW')}{a.owner ? ` (${a.owner})` : ''}</div>
                  <div role="cell">{objName(a.object_id)}</div>
                  <div role="cell" className="zone">{zoneLabel(a)}</div>
                  <div role="cell" className="title">{a.title}
                    {a.flood && <small> · {t('row.flood', { n: a.event_count })}</small>}
                    {a.test && <small> · {t('row.test')}</small>}{a.service && <small> · {t('row.service')}</small>}
                    {intents.has(a.alarm_id) && <small className="intent"> · {t('row.intent')}</small>}
                  </div>
                  <div role="cell">{fmt.number(a.event_count)}</div>
                  <div role="cell" className="waiting" title={fmt.dateTime(a.first_event_at)}>{formatWaiting(now - a.first_event_at)}</div>
                  <div role="cell" className="actions">
                    {acts.map((x) => <button key={x} type="button" disabled={!live} onClick={() => act(a, x)}>{t(`action.${x}`)}</button>)}
                    {!live && a.status === 'NEW' && acts.includes('claim') && !intents.has(a.alarm_id) && (
                      <button type="button" onClick={() => void recordIntent(a)}>{t('action.intent')}</button>
                    )}
                    <button type="button" onClick={() => open(a.alarm_id)} aria-label={`${t('action.details')} #${a.alarm_id}`}>{t('action.details')}</button>
                  </div>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      {dialog && <ActionDialog alarm={dialog.alarm} act={dialog.act} onClose={() => setDialog(null)} />}
    </section>
  );
}
