import { ApiError, OfflineError, api, hasRefresh, onSessionChange, refresh, signOut, type User } from './api.ts';
import { prefetchDetails } from './details.ts';
import { addIntent, cacheGet, cachePut, pendingIntents, removeIntents } from './cache.ts';
import { OPEN, applyUpdate, type Alarm } from './queue.ts';
import { isMuted, play, repeatWhile, stopRepeat } from './sound.ts';
import { alarmsChanged, getState, setState, t, toast, type ConsoleSettings, type IntentOutcome, type ObjectInfo, type PanelState } from './store.ts';

/**
 * The live link: the WebSocket stream (single-use ticket, epoch + position to resume exactly where it
 * stopped, a resync snapshot when the gap is too old), the offline cache it keeps up to date, and the
 * intents recorded while it was down, sent as soon as it is back.
 */
interface CommandWait { action: string; panel: number }
const commands = new Map<string, CommandWait>();
let ws: WebSocket | null = null;
let cursor: { epoch: string | null; position: number | null } = { epoch: null, position: null };
let retry = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let saveTimer: ReturnType<typeof setTimeout> | undefined;
let includeTest = false;

export const me = (): User | null => getState().user;

export function expectCommand(id: string, w: CommandWait): void { commands.set(id, w); }

/** The queue and objects are written to IndexedDB at most every second, never per update. */
function saveSoon(): void {
  if (saveTimer) return;
  saveTimer = setTimeout(() => {
    saveTimer = undefined;
    const s = getState();
    if (!s.user || s.fromCache) return;
    void cachePut(`queue:${s.user.username}`, [...s.alarms.values()].filter((a) => OPEN.includes(a.status) || a.status === 'RESOLVED'));
  }, 1000);
}

function notifyHidden(a: Alarm): void {
  if (typeof document === 'undefined' || !document.hidden || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  const obj = getState().objects.get(a.object_id)?.name ?? String(a.object_id);
  new Notification(t('notify.title', { severity: t(`severity.${a.severity}` as 'severity.CRITICAL') }), { body: `#${a.alarm_id} ${a.title} — ${obj}`, tag: `alarm-${a.alarm_id}` });
}

function onAlarm(a: Alarm, isNew: boolean): void {
  const s = getState();
  if (!applyUpdate(s.alarms, a)) return;
  alarmsChanged();
  saveSoon();
  prefetchDetails([a]);
  if (isNew && !a.test && !a.service) {
    if (!s.muted) play(a.severity);
    notifyHidden(a);
  }
}

function onMessage(raw: string): void {
  const msg = JSON.parse(raw) as Record<string, unknown> & { type: string };
  if (typeof msg.epoch === 'string') cursor.epoch = msg.epoch;
  if (typeof msg.position === 'number') cursor.position = msg.position;
  const s = getState();
  switch (msg.type) {
    case 'hello':
      retry = 0;
      setState({ link: 'live', fromCache: false, caughtUp: msg.resume === 'replay' ? Number(msg.missed ?? 0) : null });
      void flushIntents();
      break;
    case 'resync':
      s.alarms.clear();
      for (const a of msg.alarms as Alarm[]) applyUpdate(s.alarms, a);
      alarmsChanged();
      saveSoon();
      prefetchDetails(s.alarms.values());
      break;
    case 'alarm.new': case 'alarm.updated':
      onAlarm(msg.alarm as Alarm, msg.type === 'alarm.new');
      break;
    case 'panel.state': {
      const ps = new Map(s.panelStates);
      ps.set(msg.panel_id as number, msg as unknown as PanelState);
      setState({ panelStates: ps });
      break;
    }
    case 'command.result': {
      const r = msg.result as { command_id: string; panel_id: number; action: string; status: string; reason?: string | null };
      const w = commands.get(r.command_id);
      if (!w) break;
      commands.delete(r.command_id);
      toast(`${t('cmd.result', { panel: r.panel_id, action: t(`cmd.${r.action}` as 'cmd.arm'), status: r.status })}${r.reason ? ` — ${r.reason}` : ''}`);
      break;
    }
    default: break;
  }
}

function scheduleReconnect(immediate = false): void {
  clearTimeout(retryTimer);
  const wait = immediate ? 200 : Math.min(5_000, 500 * 2 ** retry++);
  retryTimer = setTimeout(() => { void connect(); }, wait);
}

function goOffline(): void {
  if (getState().link !== 'offline') setState({ link: 'offline' });
}

export async function connect(): Promise<void> {
  if (!getState().user) return;
  try {
    if (!getState().fromCache || hasRefresh()) await ensureSession();
    const { ticket } = await api<{ ticket: string }>('/api/ws-ticket', { method: 'POST', body: {} });
    const q = new URLSearchParams({ ticket, ...(cursor.epoch && cursor.position !== null ? { epoch: cursor.epoch, position: String(cursor.position) } : {}), ...(includeTest ? { include_test: 'true' } : {}) });
    const sock = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?${q.toString()}`);
    ws = sock;
    let lastSeen = Date.now();
    const watchdog = setInterval(() => { if (Date.now() - lastSeen > 70_000) sock.close(4000, 'no heartbeat'); }, 10_000);
    sock.onmessage = (ev) => { lastSeen = Date.now(); onMessage(ev.data as string); };
    sock.onclose = (ev) => {
      clearInterval(watchdog);
      if (ws !== sock) return;
      ws = null;
      goOffline();
      if (getState().user) scheduleReconnect(ev.code === 1012 || ev.code === 1013);
    };
  } catch (err) {
    goOffline();
    if (err instanceof ApiError && err.status === 401) { signOut(); return; }
    scheduleReconnect();
  }
}

/** After a reload while offline there is no access token: get one with the refresh token once the gateway answers. */
async function ensureSession(): Promise<void> {
  if (getState().fromCache) {
    const tk = await refresh();
    setState({ user: tk.user });
  }
}

export function setIncludeTest(v: boolean): void {
  if (includeTest === v) return;
  includeTest = v;
  cursor = { epoch: null, position: null };
  ws?.close();
}

/** Everything a signed-in console loads: settings, objects, pending intents; then the stream. */
export async function start(user: User): Promise<void> {
  setState({ user, muted: isMuted(user.username), intents: new Set((await pendingIntents(user.username)).map((i) => i.alarm_id)) });
  repeatWhile(() => [...getState().alarms.values()].some((a) => a.severity === 'CRITICAL' && a.status === 'NEW' && !a.test && !a.service), () => getState().muted);
  void loadObjects();
  void connect();
}

const zonesAsked = new Set<number>();
/** The names of a panel's zones, read once per panel (and kept for offline use). */
export function ensureZones(panelId: number): void {
  if (zonesAsked.has(panelId)) return;
  zonesAsked.add(panelId);
  void (async () => {
    let zones: { number: number; name: string }[] | undefined;
    try {
      zones = (await api<{ zones: { number: number; name: string }[] }>(`/api/panels/${panelId}`)).zones;
      await cachePut(`zones:${panelId}`, zones);
    } catch (err) {
      zones = await cacheGet<{ number: number; name: string }[]>(`zones:${panelId}`);
      if (err instanceof OfflineError) zonesAsked.delete(panelId); // asked again once the gateway answers
    }
    if (zones) setState({ zoneNames: new Map(getState().zoneNames).set(panelId, new Map(zones.map((z) => [z.number, z.name]))) });
  })();
}

async function loadObjects(): Promise<void> {
  try {
    const { items } = await api<{ items: ObjectInfo[] }>('/api/objects?limit=500');
    setState({ objects: new Map(items.map((o) => [o.id, o])) });
    await cachePut('objects', items);
  } catch { /* names are a nicety; the cache has them */ }
}

export async function loadSettings(): Promise<void> {
  try {
    const s = await api<ConsoleSettings>('/api/console/settings');
    setState({ settings: s });
    await cachePut('settings', s);
  } catch {
    const s = await cacheGet<ConsoleSettings>('settings');
    if (s) setState({ settings: s });
  }
}

/** A reload while the gateway is down: the last known queue and objects, read-only. */
export async function startFromCache(): Promise<boolean> {
  const user = await cacheGet<User>('user');
  if (!user) return false;
  const [queue, objects] = await Promise.all([cacheGet<Alarm[]>(`queue:${user.username}`), cacheGet<ObjectInfo[]>('objects')]);
  const alarms = new Map((queue ?? []).map((a) => [a.alarm_id, a]));
  setState({ user, fromCache: true, link: 'offline', alarms, objects: new Map((objects ?? []).map((o) => [o.id, o])), muted: isMuted(user.username) });
  alarmsChanged();
  setState({ intents: new Set((await pendingIntents(user.username)).map((i) => i.alarm_id)) });
  scheduleReconnect();
  return true;
}

export function stop(): void {
  clearTimeout(retryTimer);
  stopRepeat();
  const sock = ws;
  ws = null;
  sock?.close();
  cursor = { epoch: null, position: null };
  setState({ user: null, alarms: new Map(), rev: getState().rev + 1, link: 'connecting', fromCache: false, intents: new Set(), outcomes: [] });
}

/** Offline: "I will handle alarm X", kept in IndexedDB until the gateway has arbitrated it. */
export async function recordIntent(a: Alarm): Promise<void> {
  const user = me();
  if (!user) return;
  await addIntent({ client_id: crypto.randomUUID(), alarm_id: a.alarm_id, action: 'claim', seen_version: a.version, recorded_at: new Date().toISOString(), username: user.username });
  setState({ intents: new Set([...getState().intents, a.alarm_id]) });
  toast(t('intent.recorded', { id: a.alarm_id }));
}

let flushing = false;
async function flushIntents(): Promise<void> {
  const user = me();
  if (!user || flushing) return;
  flushing = true;
  try {
    const pending = await pendingIntents(user.username);
    if (pending.length === 0) return;
    const { results } = await api<{ results: IntentOutcome[] }>('/api/intents', {
      method: 'POST', body: { intents: pending.map(({ username: _u, ...i }) => i) },
    });
    await removeIntents(results.map((r) => r.client_id));
    setState({ outcomes: [...results, ...getState().outcomes].slice(0, 20), intents: new Set() });
    for (const r of results) {
      toast(r.outcome === 'claimed' ? t('intent.claimed', { id: r.alarm_id }) : t('intent.refused', { id: r.alarm_id, reason: intentReason(r) }));
    }
  } catch (err) {
    if (!(err instanceof OfflineError)) toast(t('action.failed', { message: (err as Error).message }));
  } finally { flushing = false; }
}

export function intentReason(r: IntentOutcome): string {
  return r.reason === 'taken' ? t('intent.reason.taken', { owner: r.owner ?? '?' }) : t('intent.reason.other', { reason: r.reason ?? '' });
}

onSessionChange((tk) => {
  if (tk) { void cachePut('user', tk.user); if (getState().user?.id !== tk.user.id) setState({ user: tk.user }); } else if (getState().user) stop();
});
