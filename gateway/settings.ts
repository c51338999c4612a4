import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from '../platform/index.ts';

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
  modeSweepIntervalS: number;
  panelStateTimeoutMs: number;
  breakerFailures: number;
  breakerOpenMs: number;
  wsResumeMaxGap: number;
  wsPingIntervalMs: number;
  wsSlowBytes: number;
  wsMaxBytes: number;
  wsMaxCoalesced: number;
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
    loginAddressMaxFailures: c.LOGIN_ADDRESS_MAX_FAILURES, loginAddressWindowS: c.LOGIN_ADDRESS_WINDOW_S, revealTtlS: c.SECRET_REVEAL_TTL_S,
    modeSweepIntervalS: c.MODE_SWEEP_INTERVAL_S, panelStateTimeoutMs: c.PANEL_STATE_TIMEOUT_MS, breakerFailures: BREAKER_FAILURES, breakerOpenMs: BREAKER_OPEN_MS,
    wsResumeMaxGap: c.WS_RESUME_MAX_GAP, wsPingIntervalMs: c.WS_PING_INTERVAL_MS, wsSlowBytes: c.WS_SLOW_BYTES, wsMaxBytes: c.WS_MAX_BYTES,
    wsMaxCoalesced: c.WS_MAX_COALESCED,
    webauthnRpId: c.WEBAUTHN_RP_ID, webauthnRpName: c.WEBAUTHN_RP_NAME,
    webauthnOrigins: c.WEBAUTHN_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean),
    pinMaxFailures: c.PIN_MAX_FAILURES, consoleIdleLockS: c.CONSOLE_IDLE_LOCK_S, consoleMapTileUrl: c.CONSOLE_MAP_TILE_URL,
  };
}

let defaults: Config | undefined;
/** The configuration with nothing set: every value the default of `ConfigSchema`, the one place defaults are written. */
export function configDefaults(): Config {
  defaults ??= Value.Create(ConfigSchema);
  return defaults;
}

/** The given settings, the rest as the default configuration has them (for callers without a configuration: tests). */
export function withDefaults(settings: Partial<GatewaySettings> = {}): GatewaySettings {
  return { ...settingsFromConfig(configDefaults()), ...settings };
}
