import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, safeConfigView } from './config.ts';

const flags = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'stam-flags-'));
  const f = join(dir, 'feature_flags.yaml');
  writeFileSync(f, text);
  return f;
};

describe('configuration', () => {
  it('fills defaults and coerces types from strings', () => {
    const c = loadConfig({ GATEWAY_PORT: '9000', KAFKA_PARTITIONS: '6' });
    expect(c.GATEWAY_PORT).toBe(9000);
    expect(c.KAFKA_PARTITIONS).toBe(6);
    expect(c.KAFKA_BROKERS).toBe('127.0.0.1:9092');
  });

  it('a wrong value stops start-up with a message naming the variable', () => {
    expect(() => loadConfig({ GATEWAY_PORT: 'eighty' })).toThrow(/GATEWAY_PORT must be integer/);
    expect(() => loadConfig({ KAFKA_PARTITIONS: '0' })).toThrow(/KAFKA_PARTITIONS must be >= 1/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ SIMULATOR_USER_CODE: '12ab' })).toThrow(/SIMULATOR_USER_CODE/);
  });

  it('reads feature flags from the yaml file, and the environment overrides them', () => {
    const f = flags('FEATURE_SMS_ENABLED: true\nFEATURE_PUSH_ENABLED: false\n');
    expect(loadConfig({}, f)).toMatchObject({ FEATURE_SMS_ENABLED: true, FEATURE_PUSH_ENABLED: false, FEATURE_HA_ENABLED: false });
    expect(loadConfig({ FEATURE_SMS_ENABLED: 'false', FEATURE_PUSH_ENABLED: 'true' }, f)).toMatchObject({ FEATURE_SMS_ENABLED: false, FEATURE_PUSH_ENABLED: true });
  });

  it('rejects an unknown flag or a malformed flags file, naming the file', () => {
    expect(() => loadConfig({}, flags('FEATURE_TELEPORT_ENABLED: true\n'))).toThrow(/unknown feature flag FEATURE_TELEPORT_ENABLED/);
    expect(() => loadConfig({}, flags('- a\n- b\n'))).toThrow(/must be a mapping/);
    expect(() => loadConfig({ FEATURE_SMS_ENABLED: 'maybe' })).toThrow(/FEATURE_SMS_ENABLED must be boolean/);
  });

  it('the committed flags file enables every feature (the demo)', () => {
    const c = loadConfig({});
    expect([c.FEATURE_REALTIME_ENABLED, c.FEATURE_PUSH_ENABLED, c.FEATURE_SMS_ENABLED, c.FEATURE_ARM_DISARM_ENABLED, c.FEATURE_HA_ENABLED]).toEqual([true, true, true, true, true]);
  });

  it('never shows passwords in URLs when the configuration is printed', () => {
    const view = safeConfigView(loadConfig({ RABBITMQ_URL: 'amqp://stam:s3cret@mq:5672', DATABASE_URL: 'postgres://u:pw@db/stam' }));
    expect(JSON.stringify(view)).not.toMatch(/s3cret|:pw@/);
    expect(view.RABBITMQ_URL).toBe('amqp://stam:***@mq:5672');
  });

  it('never shows the Efento webhook secret, and reads the SMS settings with their defaults', () => {
    const c = loadConfig({ SMS_EFENTO_WEBHOOK_SECRET: 'efento-shared-secret-123' });
    expect(JSON.stringify(safeConfigView(c))).not.toMatch(/efento-shared-secret-123/);
    expect(c).toMatchObject({ SMS_MODEM_BAUD: 115_200, SMS_SILENCE_ALERT_S: 3600, SMS_MODEM_STORAGE: 'SM' });
    expect(c.SMS_MODEM_DEVICE).toBeUndefined();
    expect(() => loadConfig({ SMS_MODEM_BAUD: 'fast' })).toThrow(/SMS_MODEM_BAUD must be integer/);
  });
});
