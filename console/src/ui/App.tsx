import { useEffect, useState } from 'react';
import { signOut } from '../api.ts';
import { setMuted } from '../sound.ts';
import { getState, setState, t, useStore } from '../store.ts';
import { stop } from '../sync.ts';
import { Admin } from './Admin.tsx';
import { Detail } from './Detail.tsx';
import { LockScreen, useIdleLock } from './Lock.tsx';
import { Login } from './Login.tsx';
import { Queue } from './Queue.tsx';
import { Reports } from './Reports.tsx';
import { Security } from './Security.tsx';

/** Routes live in the hash (#/alarm/12): the gateway serves one page, and a reload keeps the view. */
function useRoute(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => { const on = () => setHash(location.hash); window.addEventListener('hashchange', on); return () => window.removeEventListener('hashchange', on); }, []);
  return hash.replace(/^#\/?/, '').split('/').filter(Boolean);
}
const go = (path: string) => { location.hash = `#/${path}`; };

export function App() {
  const user = useStore((s) => s.user);
  const link = useStore((s) => s.link);
  const caughtUp = useStore((s) => s.caughtUp);
  const fromCache = useStore((s) => s.fromCache);
  const lang = useStore((s) => s.lang);
  const muted = useStore((s) => s.muted);
  const locked = useStore((s) => s.locked);
  const toast = useStore((s) => s.toast);
  const outcomes = useStore((s) => s.outcomes);
  const route = useRoute();
  useIdleLock();
  useEffect(() => { document.documentElement.lang = lang; document.title = t('app.title'); }, [lang]);

  const status = link === 'live' ? (caughtUp ? t('status.caughtUp', { n: caughtUp }) : t('status.live')) : link === 'offline' ? t('status.offline') : t('status.connecting');
  const role = user?.role ?? '';
  const view = !user ? null
    : route[0] === 'alarm' && route[1] ? <Detail id={Number(route[1])} back={() => go('')} />
    : route[0] === 'reports' ? <Reports />
    : route[0] === 'admin' ? <Admin tab={route[1] ?? 'objects'} />
    : route[0] === 'security' ? <Security />
    : <Queue open={(id) => go(`alarm/${id}`)} />;

  return (
    <>
      <header className="top">
        <strong>{t('app.name')}</strong>
        {user && (
          <nav aria-label="main">
            <a href="#/" aria-current={route.length === 0 ? 'page' : undefined}>{t('nav.queue')}</a>
            {['ADMIN', 'SUPERVISOR', 'ANALYST'].includes(role) && <a href="#/reports">{t('nav.reports')}</a>}
            {['ADMIN', 'SUPERVISOR'].includes(role) && <a href="#/admin/objects">{t('nav.admin')}</a>}
            <a href="#/security">{t('nav.security')}</a>
          </nav>
        )}
        <span className="who">{user ? `${user.display_name} (${user.role})` : ''}</span>
        <span className={`status ${link}`} role="status" aria-label={`status: ${status}`}>{status}</span>
        <label className="lang">{t('nav.language')}{' '}
          <select value={lang} onChange={(e) => { const l = e.target.value as 'pl' | 'en'; localStorage.setItem('stam.lang', l); setState({ lang: l }); }}>
            <option value="pl">polski</option><option value="en">English</option>
          </select>
        </label>
        {user && (
          <>
            <button type="button" aria-pressed={muted} onClick={() => { setMuted(user.username, !muted); setState({ muted: !muted }); }}>{muted ? t('nav.unmute') : t('nav.mute')}</button>
            <button type="button" onClick={() => setState({ locked: true })}>{t('nav.lock')}</button>
            <button type="button" onClick={() => { signOut(); stop(); }}>{t('nav.logout')}</button>
          </>
        )}
      </header>
      <main>
        {user && link !== 'live' && (fromCache || link === 'offline') && (
          <div className="offline-banner" role="alert">
            <strong>{t('offline.banner')}</strong>
            <p>{t('offline.readOnly')}</p>
          </div>
        )}
        {outcomes.length > 0 && (
          <section className="outcomes" aria-label={t('intent.title')}>
            <h2>{t('intent.title')}</h2>
            <ul>{outcomes.map((o) => <li key={o.client_id} className={o.outcome}>{o.outcome === 'claimed' ? t('intent.claimed', { id: o.alarm_id }) : t('intent.refused', { id: o.alarm_id, reason: o.reason === 'taken' ? t('intent.reason.taken', { owner: o.owner ?? '?' }) : o.reason ?? '' })}</li>)}</ul>
            <button type="button" onClick={() => setState({ outcomes: [] })}>{t('action.cancel')}</button>
          </section>
        )}
        {user ? view : <Login />}
      </main>
      <div className="toast" role="status" aria-live="polite">{toast?.text ?? ''}</div>
      {user && locked && <LockScreen />}
    </>
  );
}

/** For the console's own tests: the state, as a read-only view. */
export const debugState = () => getState();
