import { startAuthentication } from '@simplewebauthn/browser';
import { useState } from 'react';
import { api, signedIn, type Tokens } from '../api.ts';
import { t } from '../store.ts';
import { start } from '../sync.ts';

/** Password or passkey (a discoverable credential of this device: no username to type). */
export function Login() {
  const [error, setError] = useState('');
  const done = async (tk: Tokens) => { signedIn(tk); await start(tk.user); };
  const passkey = async () => {
    setError('');
    try {
      const { challenge_id, options } = await api<{ challenge_id: string; options: Parameters<typeof startAuthentication>[0]['optionsJSON'] }>('/api/auth/passkey/options', { method: 'POST', body: {} });
      const response = await startAuthentication({ optionsJSON: options });
      await done(await api<Tokens>('/api/auth/passkey', { method: 'POST', body: { challenge_id, response } }));
    } catch (err) { setError(t('login.failed', { message: (err as Error).message })); }
  };
  return (
    <section className="login-box" aria-labelledby="login-title">
      <h1 id="login-title">{t('login.title')}</h1>
      <form className="login" onSubmit={(ev) => {
        ev.preventDefault();
        const f = new FormData(ev.currentTarget);
        setError('');
        api<Tokens>('/api/auth/login', { method: 'POST', body: { username: f.get('username'), password: f.get('password') } })
          .then(done).catch((err: Error) => setError(t('login.failed', { message: err.message })));
      }}>
        <label>{t('login.username')} <input name="username" autoComplete="username webauthn" required autoFocus /></label>
        <label>{t('login.password')} <input name="password" type="password" autoComplete="current-password" required /></label>
        <button type="submit" className="primary">{t('login.submit')}</button>
      </form>
      <button type="button" onClick={() => void passkey()}>{t('login.passkey')}</button>
      {error && <p role="alert" className="err">{error}</p>}
    </section>
  );
}
