import { resolve } from 'node:path';
import type { Service } from '../platform/index.ts';
import { createSmsDriver } from '../ingest/sms/driver/index.ts';
import type { RoleContext } from './context.ts';

/**
 * The sms-ingest role: the GSM modem on SMS_MODEM_DEVICE (or the simulator's pty, SIMULATOR_MODEM_DEVICE,
 * when it is unset), with FEATURE_SMS_ENABLED. /readyz includes the modem.
 */
export const startSmsIngest = async (ctx: RoleContext): Promise<Service> => {
  const c = ctx.config;
  if (!c.FEATURE_SMS_ENABLED) {
    ctx.log.warn('FEATURE_SMS_ENABLED is false: sms-ingest serves its ops endpoints and reads no modem');
    await ctx.startOps();
    return { stop: () => Promise.resolve() };
  }
  const device = resolve(c.SMS_MODEM_DEVICE ?? c.SIMULATOR_MODEM_DEVICE);
  const driver = createSmsDriver({
    kafka: ctx.kafka(), pool: ctx.pool(), log: ctx.log, topicPrefix: c.KAFKA_TOPIC_PREFIX, device, baudRate: c.SMS_MODEM_BAUD,
    storage: c.SMS_MODEM_STORAGE, commandTimeoutMs: c.SMS_COMMAND_TIMEOUT_MS, supervisionMs: c.SMS_SUPERVISION_S * 1000,
    heartbeatMs: c.SMS_HEARTBEAT_S * 1000, drainIntervalMs: c.SMS_DRAIN_INTERVAL_S * 1000, multipartTimeoutMs: c.SMS_MULTIPART_TIMEOUT_S * 1000,
    silenceAlertMs: c.SMS_SILENCE_ALERT_S * 1000, reopenMaxMs: c.SMS_REOPEN_MAX_S * 1000, sensorRefreshMs: c.SMS_SENSOR_REFRESH_S * 1000,
    templatesFile: c.SMS_TEMPLATES_FILE, timeZone: c.SMS_TIME_ZONE,
  });
  ctx.checks.push(driver.readiness);
  await ctx.startOps();
  await driver.start();
  return driver;
};
