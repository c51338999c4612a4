import { useSyncExternalStore } from 'react';
import type { User } from './api.ts';
import { detectLang, translate, type Lang, type MessageKey } from './i18n/index.ts';
import type { Alarm } from './queue.ts';

export interface ObjectInfo { id: number; code: string; name: string; address: string; latitude: number | null; longitude: number | null }
export interface PanelState { panel_id: number; state?: { partitionsArmed?: number[]; zonesViolated?: number[]; troubles?: Record<string, string> } | null; link?: string | null; last_seen?: string | number | null }
export interface IntentOutcome { client_id: string; alarm_id: number; outcome: 'claimed' | 'refused'; reason: string | null; owner: string | null }
export interface ConsoleSettings { idle_lock_s: number; map_tile_url: string; webauthn_rp_id: string }
export type Link = 'connecting' | 'live' | 'offline';

export interface State {
  lang: Lang;
  user: User | null;
  /** The stream is up: mutations allowed. */
  link: Link;
  caughtUp: number | null;
  /** Shown from the offline cache (a reload while the gateway was down). */
  fromCache: boolean;
  alarms: Map<number, Alarm>;
  /** Bumped on every change of `alarms` (the map is mutated in place: 2,000 alarms are not copied per update). */
  rev: number;
  objects: Map<number, ObjectInfo>;
  panelStates: Map<number, PanelState>;
  /** Zone names per panel (GET /api/panels/:id, once per panel). */
  zoneNames: Map<number, Map<number, string>>;
  /** Alarm ids with an intent waiting to be sent. */
  intents: Set<number>;
  outcomes: IntentOutcome[];
  toast: { text: string; id: number } | null;
  locked: boolean;
  settings: ConsoleSettings;
  muted: boolean;
}

const initialLang = (): Lang => detectLang(typeof navigator === 'undefined' ? [] : navigator.languages, typeof localStorage === 'undefined' ? null : localStorage.getItem('stam.lang'));

let state: State = {
  lang: initialLang(), user: null, link: 'connecting', caughtUp: null, fromCache: false, alarms: new Map(), rev: 0, objects: new Map(),
  panelStates: new Map(), zoneNames: new Map(), intents: new Set(), outcomes: [], toast: null, locked: false,
  settings: { idle_lock_s: 0, map_tile_url: '', webauthn_rp_id: '' }, muted: false,
};
const listeners = new Set<() => void>();
let frame: number | null = null;

export const getState = (): State => state;

export function setState(patch: Partial<State>): void {
  state = { ...state, ...patch };
  for (const l of listeners) l();
}

/** Alarm changes arrive up to hundreds a second: they are applied at once and drawn once per frame. */
export function alarmsChanged(): void {
  if (frame !== null) return;
  const flush = () => { frame = null; setState({ rev: state.rev + 1 }); };
  frame = typeof requestAnimationFrame === 'undefined' ? window.setTimeout(flush, 16) : requestAnimationFrame(flush);
}

export function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useStore<T>(select: (s: State) => T): T {
  return useSyncExternalStore(subscribe, () => select(state));
}

export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  return translate(state.lang, key, vars);
}

let toastSeq = 0;
let toastTimer: ReturnType<typeof setTimeout> | undefined;
export function toast(text: string): void {
  clearTimeout(toastTimer);
  setState({ toast: { text, id: ++toastSeq } });
  toastTimer = setTimeout(() => setState({ toast: null }), 8000);
}
