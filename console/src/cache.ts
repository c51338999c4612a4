import { openDB, type IDBPDatabase } from 'idb';

/**
 * The offline cache (IndexedDB, the browser's counterpart of the specification's SQLite cache): the last
 * known queue, the open alarms' details, the objects, who was signed in, and the intents recorded offline.
 */
export interface PendingIntent { client_id: string; alarm_id: number; action: 'claim'; seen_version: number; recorded_at: string; username: string }

let db: Promise<IDBPDatabase> | undefined;
const open = () => (db ??= openDB('stam-console', 1, {
  upgrade(d) {
    d.createObjectStore('kv');
    d.createObjectStore('intents', { keyPath: 'client_id' });
  },
}));

export async function cacheGet<T>(key: string): Promise<T | undefined> {
  try { return (await (await open()).get('kv', key)) as T | undefined; } catch { return undefined; }
}

export async function cachePut(key: string, value: unknown): Promise<void> {
  try { await (await open()).put('kv', value, key); } catch { /* a full or blocked store: the live view goes on */ }
}

export async function cacheDelete(key: string): Promise<void> {
  try { await (await open()).delete('kv', key); } catch { /* nothing to remove */ }
}

export async function pendingIntents(username: string): Promise<PendingIntent[]> {
  try { return ((await (await open()).getAll('intents')) as PendingIntent[]).filter((i) => i.username === username); } catch { return []; }
}

export async function addIntent(i: PendingIntent): Promise<void> {
  await (await open()).put('intents', i);
}

export async function removeIntents(ids: string[]): Promise<void> {
  const tx = (await open()).transaction('intents', 'readwrite');
  await Promise.all([...ids.map((id) => tx.store.delete(id)), tx.done]);
}
