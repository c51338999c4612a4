import { createLogger, type Pool } from '../../platform/index.ts';
import { codecFor, topicName, type SmsEvent } from '../../schemas/index.ts';
import { createModemSimulator, type ModemSimulator } from '../../simulator/index.ts';
import { startRole, type RoleProcess } from '../../load-tests/index.ts';
import type { TestEnv } from './env.ts';
import { waitUntil } from './system.ts';

/** The modem simulator on a pty of its own for this test (real socat pty, real serialport on the other side). */
export async function startModem(env: TestEnv, opts: Parameters<typeof createModemSimulator>[0] = {}): Promise<ModemSimulator> {
  const modem = createModemSimulator({ device: `${process.cwd()}/.data/test-modem/${env.id}/ttyGSM${Math.random().toString(36).slice(2, 6)}`, log: createLogger('modem-sim', process.env.TEST_LOG_LEVEL ?? 'silent'), ...opts });
  await modem.start();
  return modem;
}

/** `stam sms-ingest` as a child process against the test's resources and this modem, with fast supervision. */
export function startSmsIngest(env: TestEnv, modem: ModemSimulator, extra: Record<string, string> = {}): RoleProcess {
  return startRole('sms-ingest', {
    ...env.vars, FEATURE_SMS_ENABLED: 'true', SMS_MODEM_DEVICE: modem.device, SMS_HEARTBEAT_S: '1', SMS_DRAIN_INTERVAL_S: '3',
    SMS_COMMAND_TIMEOUT_MS: '1500', SMS_REOPEN_MAX_S: '2', SMS_SENSOR_REFRESH_S: '1', ...extra,
  });
}

export const modemReady = (r: RoleProcess, timeoutMs = 30_000) =>
  r.waitForLog((l) => l.msg === 'modem ready (PDU mode, +CMTI indications); sweeping the store', timeoutMs);

/** One sensor on a new object; returns the object id. */
export async function addSensor(pool: Pool, s: { ref: string; sender: string; name: string; vendor: 'efento' | 'blulog' | 'other'; aliases?: string[]; objectId?: number }): Promise<number> {
  const objectId = s.objectId ?? (await pool.query<{ id: number }>('INSERT INTO objects (code, name) VALUES ($1, $2) RETURNING id', [`SENS-${s.ref}`, `site of ${s.name}`])).rows[0]!.id;
  await pool.query('INSERT INTO sensors (object_id, vendor, sender, sensor_ref, name, aliases) VALUES ($1, $2, $3, $4, $5, $6)',
    [objectId, s.vendor, s.sender, s.ref, s.name, s.aliases ?? []]);
  return objectId;
}

export interface SmsTail { items: SmsEvent[]; waitFor(what: string, check: (items: SmsEvent[]) => boolean, timeoutMs?: number): Promise<void>; stop(): Promise<void> }

/** Reads sms.events.v1 of the test from its beginning. */
export async function tailSms(env: TestEnv): Promise<SmsTail> {
  const codec = codecFor('SmsEvent');
  const consumer = env.kafka.consumer({ groupId: `${env.id}-tail-sms-${Math.random().toString(36).slice(2, 8)}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: topicName('sms.events.v1', env.id), fromBeginning: true });
  const items: SmsEvent[] = [];
  await consumer.run({ eachMessage: ({ message }) => { items.push(codec.decode(message.value!)); return Promise.resolve(); } });
  return { items, waitFor: (what, check, timeoutMs = 30_000) => waitUntil(what, () => check(items), timeoutMs, 50), stop: () => consumer.disconnect() };
}

/** Events rows of SMS (what the processor recorded). */
export async function smsEvents(pool: Pool): Promise<{ dedup_key: string; kind: string; sensor_ref: string; object_id: number | null; payload: SmsEvent }[]> {
  return (await pool.query(`SELECT dedup_key, kind, sensor_ref, object_id, payload FROM events WHERE source = 'sms' ORDER BY id`)).rows as never;
}
