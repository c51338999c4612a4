import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { OfflineError, hasRefresh, refresh } from './api.ts';
import { setState } from './store.ts';
import { loadSettings, start, startFromCache, stop } from './sync.ts';
import { App } from './ui/App.tsx';
import './styles.css';

// The service worker keeps the built console itself available offline, so a reload with the gateway down still opens it.
if ('serviceWorker' in navigator) void navigator.serviceWorker.register('/sw.js').catch(() => undefined);

createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>);

async function boot(): Promise<void> {
  await loadSettings();
  if (!hasRefresh()) { setState({ link: 'offline' }); return; }
  try {
    const tk = await refresh();
    await start(tk.user);
  } catch (err) {
    // The gateway is down: the last known queue, read-only, until it answers again.
    if (err instanceof OfflineError && await startFromCache()) return;
    stop();
  }
}
void boot();
