/** The public API over fetch: a short-lived access token in memory, refreshed with the rotating refresh token. */
export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly code: string, readonly details?: unknown) { super(message); }
}
/** The gateway did not answer at all (down, or no network). */
export class OfflineError extends Error {}

export interface User { id: number; username: string; display_name: string; role: string }
export interface Tokens { access_token: string; refresh_token: string; expires_in: number; user: User }

const REFRESH_KEY = 'stam.refresh';
let access: string | null = null;
let refreshing: Promise<Tokens> | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let onSession: (t: Tokens | null) => void = () => undefined;

export function onSessionChange(fn: (t: Tokens | null) => void): void { onSession = fn; }
export const hasRefresh = (): boolean => sessionStorage.getItem(REFRESH_KEY) !== null;

export function signedIn(t: Tokens): void {
  access = t.access_token;
  sessionStorage.setItem(REFRESH_KEY, t.refresh_token);
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { refresh().catch(() => undefined); }, Math.max(10, t.expires_in - 60) * 1000);
  onSession(t);
}

export function signOut(): void {
  const rt = sessionStorage.getItem(REFRESH_KEY);
  sessionStorage.removeItem(REFRESH_KEY);
  access = null;
  clearTimeout(refreshTimer);
  if (rt) void fetch('/api/auth/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: rt }) }).catch(() => undefined);
  onSession(null);
}

/** One refresh at a time: concurrent 401s wait for the same rotation (a second use of a spent token would revoke the family). */
export function refresh(): Promise<Tokens> {
  refreshing ??= (async () => {
    try {
      const rt = sessionStorage.getItem(REFRESH_KEY);
      if (!rt) throw new ApiError('not signed in', 401, 'E_AUTH_REFRESH');
      const t = await request<Tokens>('/api/auth/refresh', { method: 'POST', body: { refresh_token: rt } }, false);
      signedIn(t);
      return t;
    } catch (err) {
      if (err instanceof ApiError) { sessionStorage.removeItem(REFRESH_KEY); access = null; onSession(null); }
      throw err;
    } finally { refreshing = null; }
  })();
  return refreshing;
}

async function request<T>(path: string, init: { method?: string; body?: unknown }, auth: boolean): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...(auth && access ? { authorization: `Bearer ${access}` } : {}) },
      body: init.body === undefined ? null : JSON.stringify(init.body),
    });
  } catch (err) { throw new OfflineError((err as Error).message); }
  // A proxy answering for a gateway that is down is as good as no answer.
  if (res.status === 502 || res.status === 503 && !res.headers.get('content-type')?.includes('json')) throw new OfflineError(`gateway ${res.status}`);
  const data: unknown = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = data as { message?: string; code?: string; details?: unknown };
    throw new ApiError(e.message ?? res.statusText, res.status, e.code ?? 'E_HTTP', e.details);
  }
  return data as T;
}

export async function api<T = Record<string, unknown>>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  try {
    return await request<T>(path, init, true);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && !path.startsWith('/api/auth/') && hasRefresh()) {
      await refresh();
      return request<T>(path, init, true);
    }
    throw err;
  }
}

/** A file download with the bearer token (reports as CSV or PDF). */
export async function download(path: string, filename: string): Promise<void> {
  const res = await fetch(path, { headers: access ? { authorization: `Bearer ${access}` } : {} });
  if (!res.ok) throw new ApiError(`download failed: ${res.status}`, res.status, 'E_HTTP');
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
