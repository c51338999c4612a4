import WebSocket from 'ws';
import { hashPassword } from '../../gateway/index.ts';
import type { Pool } from '../../platform/index.ts';

/** An operator account for tests; returns its credentials. */
export async function createOperator(pool: Pool, username = 'op1', role = 'OPERATOR'): Promise<{ username: string; password: string }> {
  const password = `pw-${username}-${Math.random().toString(36).slice(2)}`;
  await pool.query('INSERT INTO users (username, display_name, password_hash, role) VALUES ($1, $1, $2, $3)', [username, await hashPassword(password), role]);
  return { username, password };
}

/** One object with one panel at host:port; returns their ids. */
export async function createPanel(pool: Pool, port: number, code = `OBJ-${port}`): Promise<{ objectId: number; panelId: number }> {
  const o = await pool.query<{ id: number }>(`INSERT INTO objects (code, name) VALUES ($1, $1) RETURNING id`, [code]);
  const p = await pool.query<{ id: number }>(`INSERT INTO panels (object_id, name, host, port) VALUES ($1, $2, '127.0.0.1', $3) RETURNING id`, [o.rows[0]!.id, `panel ${code}`, port]);
  return { objectId: o.rows[0]!.id, panelId: p.rows[0]!.id };
}

export async function api<T>(base: string, path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export async function login(base: string, creds: { username: string; password: string }): Promise<string> {
  const r = await api<{ access_token: string }>(base, '/api/auth/login', { body: creds });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.access_token;
}

export interface WsClient {
  messages: { at: number; msg: Record<string, unknown> }[];
  waitFor(match: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<{ at: number; msg: Record<string, unknown> }>;
  close(): void;
}

/** Opens /ws with a fresh ticket and records every message with its arrival time. */
export async function openWs(base: string, token: string, query = ''): Promise<WsClient> {
  const { body } = await api<{ ticket: string }>(base, '/api/ws-ticket', { method: 'POST', body: {}, token });
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws?ticket=${encodeURIComponent(body.ticket)}${query}`);
  const messages: WsClient['messages'] = [];
  const waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (x: WsClient['messages'][number]) => void }[] = [];
  ws.on('message', (data: Buffer) => {
    const entry = { at: Date.now(), msg: JSON.parse(data.toString()) as Record<string, unknown> };
    messages.push(entry);
    for (const w of [...waiters]) if (w.match(entry.msg)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(entry); }
  });
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  return {
    messages,
    waitFor(match, timeoutMs = 30_000) {
      const seen = messages.find((e) => match(e.msg));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching WebSocket message within ${timeoutMs} ms; got ${messages.length}: ${JSON.stringify(messages.slice(-3))}`)), timeoutMs);
        waiters.push({ match, resolve: (x) => { clearTimeout(t); resolve(x); } });
      });
    },
    close: () => ws.close(),
  };
}

export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
