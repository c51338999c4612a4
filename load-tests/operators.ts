/**
 * Operators working the queue through the gateway API while events flow: each one lists the NEW alarms,
 * claims one (another operator may win: 409), acknowledges, resolves and closes it, with a pause between
 * actions. Latency and status codes are recorded per route; a route the gateway does not have (404 for
 * the route itself) is reported as unavailable and no longer tried.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { summarize, type Summary } from './stats.ts';
import type { Credentials } from './system.ts';

export const STEPS = ['claim', 'ack', 'resolve', 'close'] as const;
type Route = 'list' | (typeof STEPS)[number];

export interface RouteStats { calls: number; statuses: Record<string, number>; latency_ms: Summary | null }
export interface OperatorReport {
  operators: number;
  /** Alarms an operator took from NEW to CLOSED. */
  closed: number;
  /** Claims lost to another operator (409). */
  conflicts: number;
  routes: Record<string, RouteStats>;
  /** Routes the gateway answered with "route not found". */
  unavailable: string[];
  errors: string[];
}

interface ListedAlarm { id: number; version: number; status: string }

export function startOperators(gatewayUrl: string, creds: readonly Credentials[], thinkMs: number): { stop(): Promise<OperatorReport> } {
  const samples: Record<Route, number[]> = { list: [], claim: [], ack: [], resolve: [], close: [] };
  const statuses: Record<Route, Record<string, number>> = { list: {}, claim: {}, ack: {}, resolve: {}, close: {} };
  const unavailable = new Set<Route>();
  const errors: string[] = [];
  let closed = 0;
  let conflicts = 0;
  const abort = new AbortController();
  // Every operator's pause listens to the same signal.
  setMaxListeners(creds.length * 2 + 10, abort.signal);

  async function call<T>(route: Route, method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; body: T }> {
    const t0 = performance.now();
    const res = await fetch(`${gatewayUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    samples[route].push(performance.now() - t0);
    statuses[route][String(res.status)] = (statuses[route][String(res.status)] ?? 0) + 1;
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch { parsed = text; }
    if (res.status === 404 && /^Route \w+:/.test((parsed as { message?: string }).message ?? '')) unavailable.add(route);
    return { status: res.status, body: parsed as T };
  }

  async function operator(c: Credentials): Promise<void> {
    const login = await fetch(`${gatewayUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(c) });
    if (login.status !== 200) throw new Error(`login of ${c.username}: ${login.status}`);
    const { access_token: token } = (await login.json()) as { access_token: string };
    while (!abort.signal.aborted) {
      const list = await call<{ items?: ListedAlarm[] }>('list', 'GET', '/api/alarms?status=NEW&limit=50', token);
      const open = (list.body.items ?? []).filter((a) => a.status === 'NEW');
      if (open.length > 0 && !unavailable.has('claim')) {
        let alarm = open[Math.floor(Math.random() * open.length)]!;
        for (const step of STEPS) {
          if (abort.signal.aborted || unavailable.has(step)) break;
          const body = { version: alarm.version, note: 'load test', ...(step === 'resolve' ? { resolution_code: 'TEST' } : {}) };
          const r = await call<{ alarm?: ListedAlarm }>(step, 'POST', `/api/alarms/${alarm.id}/${step}`, token, body);
          if (r.status === 409 && step === 'claim') conflicts++;
          if (r.status !== 200) break;
          alarm = { ...alarm, version: r.body.alarm?.version ?? alarm.version + 1 };
          if (step === 'close') closed++;
          await sleep(thinkMs, undefined, { signal: abort.signal }).catch(() => undefined);
        }
      }
      await sleep(thinkMs, undefined, { signal: abort.signal }).catch(() => undefined);
    }
  }

  const running = creds.map((c) => operator(c).catch((err: Error) => { if (!abort.signal.aborted) errors.push(`${c.username}: ${err.message}`); }));

  return {
    async stop() {
      abort.abort();
      await Promise.all(running);
      const routes: Record<string, RouteStats> = {};
      for (const r of Object.keys(samples) as Route[]) routes[r] = { calls: samples[r].length, statuses: statuses[r], latency_ms: summarize(samples[r]) };
      return { operators: creds.length, closed, conflicts, routes, unavailable: [...unavailable], errors: errors.slice(0, 20) };
    },
  };
}
