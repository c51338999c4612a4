import { useEffect, useMemo, useState } from 'react';
import { api } from '../api.ts';
import { cacheGet, cachePut } from '../cache.ts';
import { eventText, loadDetail as load, type DetailData } from '../details.ts';
import { formatters } from '../i18n/index.ts';
import { actionsFor, type Act, type Alarm } from '../queue.ts';
import { getState, t, toast, useStore } from '../store.ts';
import { recordIntent } from '../sync.ts';
import { ActionDialog } from './ActionDialog.tsx';
import { NEEDS_DIALOG, runAction } from './actions.ts';
import { Dialog } from './Dialog.tsx';
import { MapView } from './MapView.tsx';
import { PanelDialog } from './PanelDialog.tsx';
import { field } from './form.ts';

const SUP = ['ADMIN', 'SUPERVISOR'];

/** One alarm: its object, the panel's live state, every event, the action history, recorders, and the actions. */
export function Detail({ id, back }: { id: number; back: () => void }) {
  const rev = useStore((s) => s.rev);
  const user = useStore((s) => s.user);
  const live = useStore((s) => s.link === 'live');
  const lang = useStore((s) => s.lang);
  const panelStates = useStore((s) => s.panelStates);
  const intents = useStore((s) => s.intents);
  const [data, setData] = useState<DetailData | null>(null);
  const [cached, setCached] = useState(false);
  /** Bumped to read the detail again after a change made here (a mode switched). */
  const [reloads, setReloads] = useState(0);
  const reload = () => setReloads((n) => n + 1);
  const [dialog, setDialog] = useState<'panel' | 'service-mode' | 'test-mode' | Act | null>(null);
  const fmt = useMemo(() => formatters(lang), [lang]);
  const current = getState().alarms.get(id);
  const version = current?.version;

  useEffect(() => {
    let gone = false;
    load(id).then((d) => { if (!gone) { setData(d); setCached(false); void cachePut(`detail:${id}`, d); } })
      .catch(async () => { const d = await cacheGet<DetailData>(`detail:${id}`); if (!gone && d) { setData(d); setCached(true); } });
    return () => { gone = true; };
  }, [id, version, live, reloads]);

  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => { if (ev.key === 'Escape' && !document.querySelector('dialog[open]')) back(); };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [back]);

  void rev;
  if (!data) return <section aria-busy="true"><button type="button" onClick={back}>{t('action.back')}</button><p>{t('detail.loading')}</p></section>;
  const a: Alarm = current ?? data.alarm;
  const o = data.object;
  const ps = a.panel_id === null ? undefined : panelStates.get(a.panel_id);
  const acts = actionsFor(a, user);
  const run = (x: Act) => { if (NEEDS_DIALOG.has(x)) setDialog(x); else void runAction(a, x); };
  const modeRole = user && ['ADMIN', 'SUPERVISOR', 'TECHNICIAN'].includes(user.role);

  return (
    <section className="detail" aria-labelledby="detail-title">
      <button type="button" onClick={back}>{t('action.back')}</button>
      <h1 id="detail-title" className={`sev-${a.severity}`}>{t('detail.title', { id: a.alarm_id })}: {a.title}</h1>
      {cached && <p className="note">{t('detail.cached')}</p>}
      <p><strong>{t(`severity.${a.severity}` as 'severity.CRITICAL')}</strong>{a.zone !== null ? ` · ${t('col.zone')} ${a.zone}${data.alarm.zone_name ? ` — ${data.alarm.zone_name}` : ''}` : ''} · {t(`alarmStatus.${a.status}` as 'alarmStatus.NEW')}{a.owner ? ` (${a.owner})` : ''} · {fmt.dateTime(a.first_event_at)}</p>
      <div className="actions" role="group" aria-label={t('col.actions')}>
        {acts.map((x) => <button key={x} type="button" disabled={!live} onClick={() => run(x)}>{t(`action.${x}`)}</button>)}
        {!live && a.status === 'NEW' && acts.includes('claim') && !intents.has(a.alarm_id) && <button type="button" onClick={() => void recordIntent(a)}>{t('action.intent')}</button>}
        {user && SUP.includes(user.role) && a.panel_id !== null && <button type="button" disabled={!live} onClick={() => setDialog('panel')}>{t('action.panel')}</button>}
      </div>
      <div className="columns">
        <div>
          <h2>{t('detail.object')}</h2>
          {o ? (
            <dl>
              <dt>{t('detail.object')}</dt><dd>{o.name} ({o.code})</dd>
              <dt>{t('detail.address')}</dt><dd>{o.address || t('detail.none')}</dd>
              <dt>{t('detail.contacts')}</dt><dd className="pre">{o.contacts || t('detail.none')}</dd>
              <dt>{t('detail.notes')}</dt><dd className="pre">{o.notes || t('detail.none')}</dd>
            </dl>
          ) : <p>{t('detail.none')}</p>}
          <h2>{t('detail.map')}</h2>
          <MapView lat={o?.latitude ?? null} lon={o?.longitude ?? null} />
          {o && modeRole && (
            <>
              <h2>{t('detail.modes')}</h2>
              {(['service-mode', 'test-mode'] as const).map((m) => {
                const mode = m === 'service-mode' ? o.service_mode : o.test_mode;
                const name = t(m === 'service-mode' ? 'detail.serviceMode' : 'detail.testMode');
                return (
                  <p key={m}>{name}: {mode?.active ? t('detail.modeOn', { until: mode.until ? fmt.dateTime(mode.until) : '?' }) : t('detail.modeOff')}{' '}
                    <button type="button" disabled={!live} onClick={() => (mode?.active ? void switchMode(o.id, m, false).then(reload) : setDialog(m))}>
                      {t(mode?.active ? 'detail.switchOff' : 'detail.switchOn', { mode: name })}
                    </button>
                  </p>
                );
              })}
            </>
          )}
        </div>
        <div>
          <h2>{t('detail.panelState')}</h2>
          {a.panel_id === null ? <p>{t('detail.none')}</p> : (
            <ul className="panel-state" aria-live="polite" aria-label={t('detail.panelState')}>
              <li>{ps?.state?.partitionsArmed?.length ? t('detail.armed', { list: ps.state.partitionsArmed.join(', ') }) : t('detail.disarmed')}</li>
              {!!ps?.state?.zonesViolated?.length && <li>{t('detail.violated', { list: ps.state.zonesViolated.join(', ') })}</li>}
              {ps?.state?.troubles && Object.keys(ps.state.troubles).length > 0 && <li>{t('detail.troubles', { list: Object.keys(ps.state.troubles).join(', ') })}</li>}
              <li>{t('detail.link', { link: ps?.link ?? '?' })}</li>
            </ul>
          )}
          <h2>{t('detail.recorders')}</h2>
          {data.recorders.length === 0 ? <p>{t('detail.none')}</p> : <ul>{data.recorders.map((r) => <Recorder key={r.id} r={r} disabled={!live} />)}</ul>}
        </div>
      </div>
      <h2>{t('detail.events')}</h2>
      <table className="plain">
        <tbody>{data.events.map((e) => (
          <tr key={e.id}><td>{fmt.dateTime(e.observed_at)}</td><td>{e.source}</td><td>{e.kind}{e.restore ? ' ↺' : ''}</td><td className="pre">{eventText(e)}</td></tr>
        ))}</tbody>
      </table>
      <h2>{t('detail.history')}</h2>
      <table className="plain">
        <tbody>{data.actions.map((x) => (
          <tr key={x.id}><td>{fmt.dateTime(x.created_at)}</td><td>{x.username ?? 'system'}</td><td>{x.action}</td><td>{x.from_status ?? ''} → {x.to_status}</td><td>{x.note ?? ''}</td></tr>
        ))}</tbody>
      </table>
      {dialog === 'panel' && a.panel_id !== null && <PanelDialog panelId={a.panel_id} partitions={data.partitions} alarmId={a.alarm_id} onClose={() => setDialog(null)} />}
      {(dialog === 'service-mode' || dialog === 'test-mode') && o && <ModeDialog objectId={o.id} mode={dialog} onClose={() => { setDialog(null); reload(); }} />}
      {dialog && dialog !== 'panel' && dialog !== 'service-mode' && dialog !== 'test-mode' && <ActionDialog alarm={a} act={dialog} onClose={() => setDialog(null)} />}
    </section>
  );
}

async function switchMode(objectId: number, mode: 'service-mode' | 'test-mode', active: boolean, until?: string, reason?: string): Promise<void> {
  try {
    await api(`/api/objects/${objectId}/${mode}`, { method: 'PUT', body: { active, ...(until ? { until } : {}), ...(reason ? { reason } : {}) } });
  } catch (err) { toast(t('action.failed', { message: (err as Error).message })); }
}

function ModeDialog({ objectId, mode, onClose }: { objectId: number; mode: 'service-mode' | 'test-mode'; onClose: () => void }) {
  const name = t(mode === 'service-mode' ? 'detail.serviceMode' : 'detail.testMode');
  const inTwoHours = new Date(Date.now() + 2 * 3_600_000 - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  return (
    <Dialog title={t('detail.switchOn', { mode: name })} submit={t('action.confirm')} onClose={onClose}
      onSubmit={async (f) => { await switchMode(objectId, mode, true, new Date(field(f, 'until')).toISOString(), field(f, 'reason')); onClose(); }}>
      <label>{t('detail.until')} <input type="datetime-local" name="until" required defaultValue={inTwoHours} /></label>
      <label>{t('detail.reason')} <input name="reason" required minLength={3} maxLength={500} /></label>
    </Dialog>
  );
}

/** A recorder's login, shown for a stated reason (audited) and hidden again when the reveal expires. */
function Recorder({ r, disabled }: { r: { id: number; name: string; host: string; port: number; login: string }; disabled: boolean }) {
  const [asking, setAsking] = useState(false);
  const [shown, setShown] = useState<{ login: string; password: string; expires: number } | null>(null);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!shown) return;
    const i = setInterval(() => { setNow(Date.now()); if (Date.now() >= shown.expires) setShown(null); }, 1000);
    return () => clearInterval(i);
  }, [shown]);
  return (
    <li>{r.name} — {r.host}:{r.port}{' '}
      {shown ? <output>{t('detail.revealed', { login: shown.login, password: shown.password, s: Math.max(0, Math.round((shown.expires - now) / 1000)) })}</output>
        : <button type="button" disabled={disabled} onClick={() => setAsking(true)}>{t('detail.reveal')} ({r.name})</button>}
      {asking && (
        <Dialog title={`${t('detail.reveal')} — ${r.name}`} submit={t('detail.reveal')} onClose={() => setAsking(false)}
          onSubmit={async (f) => {
            try {
              const x = await api<{ login: string; password: string; expires_at: string }>(`/api/recorders/${r.id}/reveal`, { method: 'POST', body: { reason: field(f, 'reason') } });
              setShown({ login: x.login, password: x.password, expires: Date.parse(x.expires_at) });
              setAsking(false);
            } catch (err) { toast(t('action.failed', { message: (err as Error).message })); }
          }}>
          <label>{t('detail.revealReason')} <input name="reason" required minLength={5} maxLength={500} /></label>
        </Dialog>
      )}
    </li>
  );
}
