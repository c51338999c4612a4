import { useEffect, useState } from 'react';
import { ApiError, OfflineError, api, signOut } from '../api.ts';
import { getState, setState, t, useStore } from '../store.ts';
import { field } from './form.ts';

/** Locks the screen after the configured idle time (the stream and alarm sounds go on underneath). */
export function useIdleLock(): void {
  const idle = useStore((s) => s.settings.idle_lock_s);
  const user = useStore((s) => s.user);
  useEffect(() => {
    if (!user || idle <= 0) return;
    let last = Date.now();
    const seen = () => { last = Date.now(); };
    const events = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const;
    for (const e of events) window.addEventListener(e, seen, { passive: true });
    // Not while the gateway is away: the PIN could not be checked, and the desk would be shut out of the cached queue.
    const i = setInterval(() => {
      const s = getState();
      if (s.link !== 'live') last = Date.now();
      else if (!s.locked && Date.now() - last > idle * 1000) setState({ locked: true });
    }, 1000);
    return () => { clearInterval(i); for (const e of events) window.removeEventListener(e, seen); };
  }, [idle, user]);
}

export function LockScreen() {
  const user = useStore((s) => s.user);
  const [error, setError] = useState('');
  return (
    <div className="lock" role="dialog" aria-modal="true" aria-labelledby="lock-title">
      <form onSubmit={(ev) => {
        ev.preventDefault();
        const pin = field(new FormData(ev.currentTarget), 'pin');
        api('/api/auth/unlock', { method: 'POST', body: { pin } }).then(() => { setError(''); setState({ locked: false }); })
          .catch((err: unknown) => {
            if (err instanceof ApiError && err.status === 423) { setError(t('lock.noPin')); return; }
            if (err instanceof OfflineError) { setError(t('lock.offline')); return; }
            setError((err as Error).message);
          });
        ev.currentTarget.reset();
      }}>
        <h1 id="lock-title">{t('lock.title')}</h1>
        <p>{t('lock.who', { user: user?.display_name ?? '' })}</p>
        <label>{t('lock.pin')} <input name="pin" type="password" inputMode="numeric" pattern="[0-9]{4,8}" autoComplete="off" required autoFocus /></label>
        <button type="submit" className="primary">{t('lock.unlock')}</button>
        {error && <p role="alert" className="err">{error}</p>}
        <button type="button" onClick={() => { setState({ locked: false }); signOut(); }}>{t('lock.other')}</button>
      </form>
    </div>
  );
}
