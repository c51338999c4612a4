import { isIP } from 'node:net';
import { StamError, configDefaults, type Config } from '../platform/index.ts';

/** One TRUSTED_PROXIES entry, an address or a CIDR, checked so that a typo stops the start with its name. */
function proxyAddress(entry: string): string {
  const [addr, bits, ...rest] = entry.split('/');
  const family = isIP(addr ?? '');
  const max = family === 6 ? 128 : 32;
  const prefixOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
  if (family === 0 || !prefixOk || rest.length > 0) throw new StamError('E_CONFIG', `TRUSTED_PROXIES: "${entry}" is not an address or a CIDR`);
  return entry;
}

/** Fixed by design, not configured: how long a WebSocket ticket lives (single use). */
export const TICKET_TTL_S = 30;
/** Fixed by design: failed live-state reads in a row that open the Redis breaker, and how long it stays open. */
export const BREAKER_FAILURES = 3;
export const BREAKER_OPEN_MS = 30_000;

/** Gateway behaviour knobs, from the validated configuration (tests shorten them). */
export interface GatewaySettings {
  ticketTtlS: number;
  refreshTtlS: number;
  loginMaxFailures: number;
  loginLockS: number;
  loginAddressMaxFailures: number;
  loginAddressWindowS: number;
  revealTtlS: number;
  revealsPerHour: number;
  /** Reverse proxies whose X-Forwarded-For gives the client address (login throttle, audit); empty: none. */
  trustedProxies: string[];
  modeSweepIntervalS: number;
  panelStateTimeoutMs: number;
  breakerFailures: number;
  breakerOpenMs: number;
  wsResumeMaxGap: number;
  wsPingIntervalMs: number;
  wsSlowBytes: number;
  wsMaxBytes: number;
  wsMaxCoalesced: number;
  /** Origins allowed for /ws besides the request's own host (normalized `scheme://host[:port]`). */
  wsAllowedOrigins: string[];
  wsMaxConnectionsPerUser: number;
  wsTicketsPerMinute: number;
  wsReadConcurrency: number;
  webauthnRpId: string;
  webauthnRpName: string;
  /** Accepted origins of passkey ceremonies; empty: the request's own origin when its host is the RP id. */
  webauthnOrigins: string[];
  pinMaxFailures: number;
  consoleIdleLockS: number;
  consoleMapTileUrl: string;
}

export function settingsFromConfig(c: Config): GatewaySettings {
  return {
    ticketTtlS: TICKET_TTL_S, refreshTtlS: c.REFRESH_TTL_S, loginMaxFailures: c.LOGIN_MAX_FAILURES, loginLockS: c.LOGIN_LOCK_S,
    loginAddressMaxFailures: c.LOGIN_ADDRESS_MAX_FAILURES, loginAddressWindowS: c.LOGIN_ADDRESS_WINDOW_S, revealTtlS: c.SECRET_REVEAL_TTL_S, revealsPerHour: c.SECRET_REVEALS_PER_HOUR,
    trustedProxies: c.TRUSTED_PROXIES.split(',').map((p) => p.trim()).filter(Boolean).map(proxyAddress),
    modeSweepIntervalS: c.MODE_SWEEP_INTERVAL_S, panelStateTimeoutMs: c.PANEL_STATE_TIMEOUT_MS, breakerFailures: BREAKER_FAILURES, breakerOpenMs: BREAKER_OPEN_MS,
    wsResumeMaxGap: c.WS_RESUME_MAX_GAP, wsPingIntervalMs: c.WS_PING_INTERVAL_MS, wsSlowBytes: c.WS_SLOW_BYTES, wsMaxBytes: c.WS_MAX_BYTES,
    wsMaxCoalesced: c.WS_MAX_COALESCED, wsAllowedOrigins: c.WS_ALLOWED_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean).map((o) => new URL(o).origin),
    wsMaxConnectionsPerUser: c.WS_MAX_CONNECTIONS_PER_USER, wsTicketsPerMinute: c.WS_TICKETS_PER_MINUTE, wsReadConcurrency: c.WS_READ_CONCURRENCY,
    webauthnRpId: c.WEBAUTHN_RP_ID, webauthnRpName: c.WEBAUTHN_RP_NAME,
    webauthnOrigins: c.WEBAUTHN_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean),
    pinMaxFailures: c.PIN_MAX_FAILURES, consoleIdleLockS: c.CONSOLE_IDLE_LOCK_S, consoleMapTileUrl: c.CONSOLE_MAP_TILE_URL,
  };
}

/** The given settings, the rest as the default configuration has them (for callers without a configuration: tests). */
export function withDefaults(settings: Partial<GatewaySettings> = {}): GatewaySettings {
  return { ...settingsFromConfig(configDefaults()), ...settings };
}
