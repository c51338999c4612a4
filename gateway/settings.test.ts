import { describe, expect, it } from 'vitest';
import { loadConfig } from '../platform/index.ts';
import { settingsFromConfig, withDefaults } from './settings.ts';

describe('gateway settings', () => {
  it('without a configuration they are what the configuration has when nothing is set', () => {
    expect(withDefaults()).toEqual(settingsFromConfig(loadConfig({})));
  });

  it('a caller sets some and gets the defaults for the rest', () => {
    const s = withDefaults({ loginMaxFailures: 3 });
    expect(s.loginMaxFailures).toBe(3);
    expect(s.refreshTtlS).toBe(loadConfig({}).REFRESH_TTL_S);
  });

  it('follow the configuration they are given', () => {
    expect(settingsFromConfig(loadConfig({ WS_PING_INTERVAL_MS: '300', LOGIN_LOCK_S: '2' }))).toMatchObject({ wsPingIntervalMs: 300, loginLockS: 2 });
  });
});
