import { startRegistration } from '@simplewebauthn/browser';
import { useEffect, useMemo, useState } from 'react';
import { api } from '../api.ts';
import { formatters } from '../i18n/index.ts';
import { t, toast, useStore } from '../store.ts';

interface Phone { id: number; username: string; platform: string; app_version: string; token_hint: string; created_at: string; last_seen_at: string; quarantined: boolean; quarantine_reason: string | null }
interface Passkey { id: number; label: string; created_at: string; last_used_at: string | null }

/** My phones (push), my passkeys, my quick-unlock PIN, and browser notifications. */
export function Security() {
  const lang = useStore((s) => s.lang);
  const live = useStore((s) => s.link === 'live');
  const fmt = useMemo(() => formatters(lang), [lang]);
  const [phones, setPhones] = useState<Phone[] | null>(null);
  const [keys, setKeys] = useState<Passkey[]>([]);
  const reload = async () => {
    const [p, k] = await Promise.all([api<{ items: Phone[] }>('/api/devices').catch(() => ({ items: [] })), api<{ items: Passkey[] }>('/api/passkeys').catch(() => ({ items: [] }))]);
    setPhones(p.items);
    setKeys(k.items);
  };
  useEffect(() => { void reload(); }, []);
  const fail = (err: unknown) => toast(t('action.failed', { message: (err as Error).message }));

  return (
    <section aria-labelledby="sec-title" className="security">
      <h1 id="sec-title">{t('security.title')}</h1>
      <h2>{t('security.phones')}</h2>
      {phones?.length === 0 && <p>{t('security.noPhones')}</p>}
      {!!phones?.length && (
        <table className="plain" aria-label={t('security.phones')}>
          <tbody>{phones.map((d) => (
            <tr key={d.id} data-device={d.id}>
              <td>{d.username}</td><td>{d.platform}</td><td>{d.app_version}</td><td>{d.token_hint}</td><td>{fmt.dateTime(d.created_at)}</td><td>{fmt.dateTime(d.last_seen_at)}</td>
              <td>{d.quarantined ? `quarantined: ${d.quarantine_reason ?? ''}` : 'active'}</td>
              <td><button type="button" disabled={!live} aria-label={`${t('security.remove')} ${d.platform} ${d.token_hint}`}
                onClick={() => { if (confirm(t('security.removeConfirm'))) api(`/api/devices/${d.id}`, { method: 'DELETE' }).then(() => { toast(t('security.removed')); return reload(); }).catch(fail); }}>{t('security.remove')}</button></td>
            </tr>
          ))}</tbody>
        </table>
      )}
      <h2>{t('security.passkeys')}</h2>
      <ul aria-label={t('security.passkeys')}>{keys.map((k) => <li key={k.id}>{k.label} · {fmt.dateTime(k.created_at)}</li>)}</ul>
      <button type="button" disabled={!live} onClick={() => void (async () => {
        try {
          const options = await api<Parameters<typeof startRegistration>[0]['optionsJSON']>('/api/passkeys/register/options', { method: 'POST', body: {} });
          const response = await startRegistration({ optionsJSON: options });
          await api('/api/passkeys', { method: 'POST', body: { response, label: navigator.platform || 'this device' } });
          toast(t('security.passkeyAdded'));
          await reload();
        } catch (err) { fail(err); }
      })()}>{t('security.addPasskey')}</button>
      <h2>{t('security.pin')}</h2>
      <form className="inline-form" onSubmit={(ev) => {
        ev.preventDefault();
        const f = new FormData(ev.currentTarget);
        const form = ev.currentTarget;
        api('/api/me/pin', { method: 'PUT', body: { pin: f.get('pin'), password: f.get('password') } }).then(() => { toast(t('security.pinSet')); form.reset(); }).catch(fail);
      }}>
        <label>{t('lock.pin')} <input name="pin" type="password" inputMode="numeric" pattern="[0-9]{4,8}" required autoComplete="off" /></label>
        <label>{t('security.currentPassword')} <input name="password" type="password" required autoComplete="current-password" /></label>
        <button type="submit" disabled={!live}>{t('security.setPin')}</button>
      </form>
      <h2>{t('security.notifications')}</h2>
      <button type="button" disabled={typeof Notification === 'undefined'} onClick={() => void Notification.requestPermission()}>{t('security.enableNotifications')}</button>
    </section>
  );
}
