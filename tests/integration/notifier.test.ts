import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeFcm } from '../../simulator/index.ts';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { createVhost } from '../helpers/commands.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { eventProducer, satelEvent, type EventProducer } from '../helpers/events.ts';
import {
  acceptedFor, metric, notifierVars, openAlarm, opsBase, publishJobs, queueProbe, startFakeFcm, startNotifierRole, userWithPhone, type QueueProbe,
} from '../helpers/push.ts';
import { createPanel, waitUntil } from '../helpers/system.ts';

/**
 * The push path as it runs: events on Kafka → alarm-processor → outbox-relay → RabbitMQ
 * notifications.push → `stam notifier` (real firebase-admin SDK, the project's own credential) → the fake
 * FCM over HTTPS (private CA trusted through NODE_EXTRA_CA_CERTS). Only FCM and the phones are simulated.
 */
describe('push notifications through RabbitMQ, PostgreSQL and the fake FCM', () => {
  let env: TestEnv;
  let vhost: Awaited<ReturnType<typeof createVhost>>;
  let fcm: FakeFcm;
  let events: EventProducer;
  let probe: QueueProbe;
  let notifier: RoleProcess;
  let ops: string;
  const roles: RoleProcess[] = [];
  let site: { objectId: number; panelId: number };
  let users: Record<'fw' | 'tech' | 'supOn' | 'supOff' | 'fwOther' | 'op' | 'fwDisabled', Awaited<ReturnType<typeof userWithPhone>>>;
  let vars: Record<string, string>;

  const alarmOf = async (panelId: number, zone: number): Promise<number> => {
    let id = 0;
    await waitUntil(`alarm on zone ${zone}`, async () => {
      const { rows } = await env.pool.query<{ id: number }>('SELECT id FROM alarms WHERE panel_id = $1 AND zone = $2 ORDER BY id DESC LIMIT 1', [panelId, zone]);
      id = rows[0]?.id ?? 0;
      return id > 0;
    }, 30_000);
    return id;
  };
  const outboxPublished = (alarmId: number) => waitUntil(`outbox row of alarm ${alarmId} published`, async () =>
    (await env.pool.query(`SELECT 1 FROM outbox WHERE key = $1 AND published_at IS NOT NULL`, [String(alarmId)])).rowCount! > 0, 30_000);

  beforeAll(async () => {
    env = await createTestEnv();
    vhost = await createVhost();
    fcm = await startFakeFcm(env.id);
    probe = await queueProbe(vhost.url);
    site = await createPanel(env.pool, 1, 'PUSH-A');
    const other = await createPanel(env.pool, 2, 'PUSH-C');
    users = {
      fw: await userWithPhone(env.pool, 'fw.assigned', 'FIELD_WORKER', [site.objectId]),
      tech: await userWithPhone(env.pool, 'tech.assigned', 'TECHNICIAN', [site.objectId]),
      supOn: await userWithPhone(env.pool, 'sup.onduty', 'SUPERVISOR'),
      supOff: await userWithPhone(env.pool, 'sup.offduty', 'SUPERVISOR'),
      fwOther: await userWithPhone(env.pool, 'fw.elsewhere', 'FIELD_WORKER', [other.objectId]),
      op: await userWithPhone(env.pool, 'op.console', 'OPERATOR', [site.objectId]),
      fwDisabled: await userWithPhone(env.pool, 'fw.disabled', 'FIELD_WORKER', [site.objectId]),
    };
    await env.pool.query(`UPDATE users SET on_duty_until = now() + interval '8 hours' WHERE id = $1`, [users.supOn.id]);
    await env.pool.query(`UPDATE users SET on_duty_until = now() - interval '1 hour' WHERE id = $1`, [users.supOff.id]);
    await env.pool.query(`UPDATE users SET disabled = true WHERE id = $1`, [users.fwDisabled.id]);
    vars = { ...env.vars, ...notifierVars(fcm, vhost.url, { FCM_RETRY_DEADLINE_S: '8' }) };
    events = await eventProducer(env.kafka, env.id);
    const processor = startRole('alarm-processor', vars);
    const relay = startRole('outbox-relay', vars);
    notifier = await startNotifierRole(vars);
    roles.push(processor, relay, notifier);
    ops = await opsBase(notifier);
    await Promise.all([processor.waitForLog(msgIs('alarm processor consuming')), relay.waitForLog(msgIs('outbox relay publishing'))]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(roles.map((r) => r.stop()));
    await events?.close();
    await probe?.close();
    await fcm?.stop();
    await vhost?.remove();
    await env?.cleanup();
  });

  it('a CRITICAL alarm reaches exactly the devices the rule names (assigned field worker and technician, supervisor on duty), once each', async () => {
    await events.send([satelEvent(site.panelId, 'ZONE_ALARM', 4, Date.now())]);
    const alarmId = await alarmOf(site.panelId, 4);
    const expected = [users.fw.token, users.tech.token, users.supOn.token].sort();
    await waitUntil('pushes accepted', () => acceptedFor(fcm, alarmId).size >= 3, 30_000);
    // The same job again, twice (a redelivery, a replayed dead letter): the ledger answers, nobody is sent to again.
    await publishJobs(vhost.url, [{ alarm_id: alarmId, object_id: site.objectId }, { alarm_id: alarmId, object_id: site.objectId }]);
    await waitUntil('both copies settled as already sent', async () => (await metric(ops, 'stam_notifier_jobs_total', 'outcome="already_sent"')) >= 2, 30_000);
    const got = acceptedFor(fcm, alarmId);
    expect([...got.keys()].sort()).toEqual(expected);
    expect([...got.values()]).toEqual([1, 1, 1]);
    // What the phone shows: the alarm, tagged per alarm, high priority, the site in the body.
    const shown = fcm.phone(users.fw.token);
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ tag: `alarm-${alarmId}`, title: 'Zone 4 alarm', body: 'PUSH-A PUSH-A', deliveries: 1 });
    const sent = fcm.received.find((r) => r.token === users.fw.token && r.tag === `alarm-${alarmId}`)!;
    expect(sent.message.android).toMatchObject({ priority: 'high', collapse_key: `alarm-${alarmId}`, ttl: '3600s' });
    // The ledger holds FCM's own message names, one row per device.
    const { rows } = await env.pool.query<{ device_id: number; fcm_message_name: string; outcome: string }>(
      'SELECT device_id, fcm_message_name, outcome FROM push_sends WHERE alarm_id = $1 ORDER BY device_id', [alarmId]);
    expect(rows.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(rows.map((r) => r.fcm_message_name).sort()).toEqual(fcm.received.filter((r) => r.tag === `alarm-${alarmId}`).map((r) => r.name).sort());
    expect(await metric(ops, 'stam_notifier_push_latency_seconds_count')).toBeGreaterThanOrEqual(3);
  });

  it('a WARNING alarm and an alarm of an object in service mode queue no job and send nothing; service mode switched on while the job waited is seen at send time', async () => {
    const before = fcm.received.length;
    await events.send([satelEvent(site.panelId, 'ZONE_VIOLATION', 5, Date.now())]);
    const warning = await alarmOf(site.panelId, 5);
    await outboxPublished(warning);
    const service = await createPanel(env.pool, 3, 'PUSH-SERVICE');
    await env.pool.query(`INSERT INTO user_objects (user_id, object_id) VALUES ($1, $2)`, [users.fw.id, service.objectId]);
    await env.pool.query(`UPDATE objects SET service_mode_active = true, service_mode_until = now() + interval '1 hour' WHERE id = $1`, [service.objectId]);
    await events.send([satelEvent(service.panelId, 'ZONE_ALARM', 1, Date.now())]);
    const serviceAlarm = await alarmOf(service.panelId, 1);
    await outboxPublished(serviceAlarm);
    const { rows } = await env.pool.query<{ key: string; push: boolean }>('SELECT key, push FROM outbox WHERE key = ANY($1) ORDER BY id', [[String(warning), String(serviceAlarm)]]);
    expect(rows.map((r) => r.push)).toEqual([false, false]);

    // A CRITICAL alarm opened before service mode was switched on: its job is checked again when sent.
    const late = await openAlarm(env.pool, service.objectId);
    await publishJobs(vhost.url, [{ alarm_id: late, object_id: service.objectId }]);
    await waitUntil('job skipped for service mode', async () => (await metric(ops, 'stam_notifier_jobs_total', 'outcome="service_mode"')) >= 1, 30_000);
    expect(await probe.depth()).toEqual({ push: 0, dead: 0 });
    expect(fcm.received.length).toBe(before);
  });

  it('an unregistered token is removed from user_devices (audited) and the other devices still get theirs', async () => {
    fcm.behave(users.fw.token, { answer: 'unregistered' });
    await events.send([satelEvent(site.panelId, 'ZONE_TAMPER', 6, Date.now())]);
    const alarmId = await alarmOf(site.panelId, 6);
    await waitUntil('the others get it', () => acceptedFor(fcm, alarmId).size >= 2, 30_000);
    await waitUntil('the job settled', async () => (await metric(ops, 'stam_notifier_sends_total', 'outcome="remove_token"')) >= 1, 30_000);
    expect([...acceptedFor(fcm, alarmId).keys()].sort()).toEqual([users.tech.token, users.supOn.token].sort());
    expect((await env.pool.query('SELECT 1 FROM user_devices WHERE id = $1', [users.fw.deviceId])).rowCount).toBe(0);
    const audit = await env.pool.query<{ username: string; details: { user_id: number; reason: string } }>(
      `SELECT username, details FROM audit_log WHERE action = 'device.unregistered' AND target_id = $1`, [String(users.fw.deviceId)]);
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]!.username).toBe('system:notifier');
    expect(audit.rows[0]!.details).toMatchObject({ user_id: users.fw.id, reason: expect.stringMatching(/registration-token-not-registered/) as unknown });
    const { rows } = await env.pool.query<{ outcome: string }>('SELECT outcome FROM push_sends WHERE alarm_id = $1 AND device_id = $2', [alarmId, users.fw.deviceId]);
    expect(rows).toEqual([{ outcome: 'token_removed' }]);
  });

  it('a 503 storm is retried with backoff and then dead-lettered with its reason; a malformed job is dead-lettered at once', async () => {
    fcm.behave('*', { answer: 'unavailable' });
    const unavailableBefore = fcm.answered('unavailable');
    const alarmId = await openAlarm(env.pool, site.objectId);
    const t0 = Date.now();
    await publishJobs(vhost.url, [{ alarm_id: alarmId, object_id: site.objectId }], [Buffer.from('{"alarm_id": "seven"}')]);
    await waitUntil('both jobs dead-lettered', async () => (await probe.depth()).dead >= 2, 60_000, 250);
    const elapsed = Date.now() - t0;
    fcm.behave('*', { answer: 'ok' });
    const dead = await probe.takeDead();
    const storm = dead.find((d) => d.body.alarm_id === alarmId)!;
    expect(storm.headers['x-push-error-code']).toBe('E_FCM_UNAVAILABLE');
    expect(String(storm.headers['x-push-reason'])).toMatch(/still failing after \d+ attempts .*messaging\/server-unavailable/);
    const bad = dead.find((d) => d.body.alarm_id === 'seven')!;
    expect(bad.headers['x-push-error-code']).toBe('E_PUSH_JOB_INVALID');
    expect(String(bad.headers['x-push-reason'])).toMatch(/alarm_id/);
    // Retried, not given up at the first 503: several attempts per device (the SDK's own and ours), and at least the deadline.
    expect(fcm.answered('unavailable') - unavailableBefore).toBeGreaterThanOrEqual(4);
    expect(elapsed).toBeGreaterThanOrEqual(8_000);
    expect(acceptedFor(fcm, alarmId).size).toBe(0);
    const { rows } = await env.pool.query<{ outcome: string }>('SELECT DISTINCT outcome FROM push_sends WHERE alarm_id = $1', [alarmId]);
    expect(rows).toEqual([{ outcome: 'dead_lettered' }]);
    expect(await probe.depth()).toEqual({ push: 0, dead: 0 });
  });

  it('a refused credential stops sending, fails /readyz and raises the alert; once accepted, the waiting job goes out', async () => {
    await notifier.stop();
    const stranger = fcm.untrustedServiceAccount();
    const file = `.data/test-fcm/${env.id}/stranger.json`;
    writeFileSync(file, stranger.json, { mode: 0o600 });
    const refused = startRole('notifier', { ...vars, FCM_CREDENTIALS_FILE: file, FCM_CREDENTIAL_RETRY_S: '1' });
    roles.push(refused);
    await refused.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('FCM refused the credential'));
    const base = await opsBase(refused);
    await waitUntil('readiness fails on the credential', async () => (await fetch(`${base}/readyz`)).status === 503, 15_000);
    const ready = await (await fetch(`${base}/readyz`)).json() as { failures: Record<string, string> };
    expect(ready.failures.fcm).toMatch(/invalid_grant/);
    expect(await metric(base, 'stam_notifier_credential_failed')).toBe(1);
    const alarmId = await openAlarm(env.pool, site.objectId);
    await publishJobs(vhost.url, [{ alarm_id: alarmId, object_id: site.objectId }]);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(acceptedFor(fcm, alarmId).size).toBe(0);
    expect((await probe.depth()).push).toBe(1); // waiting in the queue, not lost

    await fcm.trustKey(stranger.publicPem);
    await waitUntil('the job is sent once the credential is accepted', () => acceptedFor(fcm, alarmId).size >= 2, 30_000);
    expect(await metric(base, 'stam_notifier_credential_failed')).toBe(0);
    await waitUntil('ready again', async () => (await fetch(`${base}/readyz`)).status === 200, 15_000);
  }, 120_000);

  it('with FEATURE_PUSH_ENABLED off a CRITICAL alarm queues nothing at all', async () => {
    await Promise.all(roles.map((r) => r.stop()));
    const off = await createVhost();
    const offProbe = await queueProbe(off.url); // the queue exists, so anything published would wait here
    try {
      const offVars = { ...vars, RABBITMQ_URL: off.url, FEATURE_PUSH_ENABLED: 'false' };
      const processor = startRole('alarm-processor', offVars);
      const relay = startRole('outbox-relay', offVars);
      roles.push(processor, relay);
      await Promise.all([processor.waitForLog(msgIs('alarm processor consuming')), relay.waitForLog(msgIs('outbox relay publishing'))]);
      const before = fcm.received.length;
      await events.send([satelEvent(site.panelId, 'ZONE_ALARM', 7, Date.now())]);
      const alarmId = await alarmOf(site.panelId, 7);
      await outboxPublished(alarmId);
      const { rows } = await env.pool.query<{ push: boolean }>('SELECT push FROM outbox WHERE key = $1', [String(alarmId)]);
      expect(rows).toEqual([{ push: false }]);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await offProbe.depth()).toEqual({ push: 0, dead: 0 });
      expect(fcm.received.length).toBe(before);
    } finally {
      await offProbe.close();
      await off.remove();
    }
  });
});
