import { rmSync } from 'node:fs';
import amqp from 'amqplib';
import { createLogger, type Pool } from '../../platform/index.ts';
import { PUSH_DEAD_QUEUE, PUSH_EXCHANGE, PUSH_QUEUE, PUSH_ROUTING_KEY, declarePushTopology } from '../../processors/index.ts';
import { createFakeFcm, type FakeFcm } from '../../simulator/index.ts';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { createUser, type TestUser } from './gateway.ts';

/** The fake FCM on a free loopback port, with its CA and service account in a directory of the test's own. */
export async function startFakeFcm(id: string): Promise<FakeFcm> {
  const dir = `.data/test-fcm/${id}`;
  const fcm = createFakeFcm({ dir, port: 0, log: createLogger('fake-fcm', process.env.TEST_LOG_LEVEL ?? 'silent') });
  await fcm.start();
  const stop = fcm.stop;
  // Stopping it also removes its CA and service account.
  return Object.assign(fcm, { stop: async () => { await stop(); rmSync(dir, { recursive: true, force: true }); } });
}

/** What points `stam notifier` at the fake FCM and the test's vhost: the real SDK, the fake's CA trusted the standard way. */
export function notifierVars(fcm: FakeFcm, rabbitUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    RABBITMQ_URL: rabbitUrl, FEATURE_PUSH_ENABLED: 'true', FCM_CREDENTIALS_FILE: fcm.credentialsFile, FCM_API_URL: fcm.url,
    NODE_EXTRA_CA_CERTS: fcm.caFile, FCM_RETRY_BASE_MS: '200', FCM_RETRY_MAX_MS: '2000', FCM_QUOTA_BACKOFF_MS: '1500', ...extra,
  };
}

export async function startNotifierRole(env: Record<string, string>): Promise<RoleProcess> {
  const role = startRole('notifier', env);
  await role.waitForLog(msgIs('notifier consuming'));
  return role;
}

/** Publishes push jobs as the relay does (persistent, confirmed), for alarms already in the database. */
export async function publishJobs(url: string, jobs: { alarm_id: number; object_id: number; severity?: string }[], raw: Buffer[] = []): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    await declarePushTopology(ch, false);
    for (const j of jobs) {
      ch.publish(PUSH_EXCHANGE, PUSH_ROUTING_KEY, Buffer.from(JSON.stringify({
        alarm_id: j.alarm_id, version: 1, object_id: j.object_id, severity: j.severity ?? 'CRITICAL', title: 'test', category: 'intrusion', first_event_at: Date.now(),
      })), { persistent: true, contentType: 'application/json', messageId: `alarm-${j.alarm_id}-v1`, headers: { 'x-published-at': Date.now() } });
    }
    for (const b of raw) ch.publish(PUSH_EXCHANGE, PUSH_ROUTING_KEY, b, { persistent: true, messageId: 'raw' });
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

export interface QueueProbe {
  /** Messages ready in notifications.push and in its dead-letter queue. */
  depth(): Promise<{ push: number; dead: number }>;
  /** Takes what is in the dead-letter queue (acknowledged: gone). */
  takeDead(): Promise<{ body: Record<string, unknown>; headers: Record<string, unknown> }[]>;
  close(): Promise<void>;
}

export async function queueProbe(url: string): Promise<QueueProbe> {
  const conn = await amqp.connect(url);
  const ch = await conn.createConfirmChannel();
  await declarePushTopology(ch, false);
  return {
    async depth() {
      return { push: (await ch.checkQueue(PUSH_QUEUE)).messageCount, dead: (await ch.checkQueue(PUSH_DEAD_QUEUE)).messageCount };
    },
    async takeDead() {
      const out: { body: Record<string, unknown>; headers: Record<string, unknown> }[] = [];
      for (let msg = await ch.get(PUSH_DEAD_QUEUE); msg; msg = await ch.get(PUSH_DEAD_QUEUE)) {
        out.push({ body: JSON.parse(msg.content.toString()) as Record<string, unknown>, headers: (msg.properties.headers ?? {}) });
        ch.ack(msg);
      }
      return out;
    },
    close: () => conn.close(),
  };
}

/** A user of `role` with one registered phone (token = `phone-<username>`), assigned to `objects`. */
export async function userWithPhone(pool: Pool, username: string, role: string, objects: number[] = []): Promise<TestUser & { token: string; deviceId: number }> {
  const user = await createUser(pool, username, role, objects);
  const token = `phone-${username}`;
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO user_devices (user_id, fcm_token, platform, app_version) VALUES ($1, $2, 'android', '1.0.0') RETURNING id`, [user.id, token]);
  return { ...user, token, deviceId: rows[0]!.id };
}

/** A CRITICAL alarm row as the processor opens it (created now). */
export async function openAlarm(pool: Pool, objectId: number, severity = 'CRITICAL'): Promise<number> {
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO alarms (object_id, source, zone, bundle_key, category, severity, title, event_count, first_event_at, last_event_at)
     VALUES ($1, 'satel', 4, 'k:' || gen_random_uuid(), 'fire', $2, 'Fire alarm zone 4', 1, now(), now()) RETURNING id`, [objectId, severity]);
  return rows[0]!.id;
}

/** Accepted sends per token for one alarm, as the fake FCM received them. */
export function acceptedFor(fcm: FakeFcm, alarmId: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of fcm.received) if (r.message.data?.alarm_id === String(alarmId)) out.set(r.token, (out.get(r.token) ?? 0) + 1);
  return out;
}

/** The ops port of a role started with OPS_PORT=0, from its log. */
export async function opsBase(role: RoleProcess): Promise<string> {
  const line = await role.waitForLog((l) => l.msg === 'ops endpoints listening (/healthz /readyz /metrics)');
  return `http://127.0.0.1:${String(line.port)}`;
}

/** The value of one sample of a metric in a role's /metrics (0 when absent). */
export async function metric(base: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}
