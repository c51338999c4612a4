import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEfentoIntake } from '../../gateway/index.ts';
import { startRole, type RoleProcess } from '../../load-tests/index.ts';
import { createProducer, type Producer } from '../../platform/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { call, createUser, loginInject, startGateway, type GatewayUnderTest } from '../helpers/gateway.ts';
import { addSensor, smsEvents } from '../helpers/sms.ts';
import { waitUntil } from '../helpers/system.ts';

const SECRET = 'efento-webhook-secret-for-tests';

/** Efento Cloud alert webhooks through the gateway into sms.events.v1, the processor and the alarm API. */
describe('POST /api/ingest/efento', () => {
  let env: TestEnv;
  let producer: Producer;
  let gw: GatewayUnderTest;
  let unconfigured: GatewayUnderTest;
  let processor: RoleProcess;
  let objectId: number;
  let token: string;

  const post = (body: string, secret?: string, app = gw.app) => app.inject({
    method: 'POST', url: '/api/ingest/efento', payload: body, headers: { 'content-type': 'application/json', ...(secret ? { 'x-webhook-secret': secret } : {}) },
  });
  const activation = '{ "createdAt": "2023-04-25 09:07:00", "neutralizedAt": null, "organizationName": "Test_org", "locationName": "Chłodnia 1",\n  "ruleName": "test_above", "ruleCondition": "MORE_THAN", "ruleParameters": ["TEMPERATURE"], "ruleType": "MEASUREMENT_MEASUREMENT_THRESHOLD" }';
  const deactivation = activation.replace('"neutralizedAt": null', '"neutralizedAt": "2023-04-25 09:37:00"');

  beforeAll(async () => {
    env = await createTestEnv({ FEATURE_SMS_ENABLED: 'true' });
    objectId = await addSensor(env.pool, { ref: '282C02A1B2C3', sender: 'efento-cloud', name: 'Chłodnia 1', vendor: 'efento' });
    producer = await createProducer(env.kafka);
    gw = await startGateway(env, { efento: createEfentoIntake({ pool: env.pool, producer, topicPrefix: env.id, secret: SECRET }) });
    unconfigured = await startGateway(env, { efento: createEfentoIntake({ pool: env.pool, producer, topicPrefix: env.id, secret: undefined }) });
    processor = startRole('alarm-processor', env.vars);
    await createUser(env.pool, 'op-efento', 'OPERATOR');
    token = (await loginInject(gw.app, { username: 'op-efento', password: 'correct horse battery staple' })).access_token;
    await processor.waitForLog((l) => l.msg === 'alarm processor consuming');
  });
  afterAll(async () => {
    await processor?.stop();
    await gw?.close();
    await unconfigured?.close();
    await producer?.disconnect();
    await env?.cleanup();
  });

  it('refuses a missing or wrong secret (401) and answers 503 while no secret is configured, producing nothing', async () => {
    expect((await post(activation)).statusCode).toBe(401);
    const wrong = await post(activation, 'not-the-secret');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'E_SMS_WEBHOOK' });
    expect(JSON.stringify(wrong.json())).not.toContain(SECRET);
    expect((await post(activation, SECRET, unconfigured.app)).statusCode).toBe(503);
    expect((await post('{"ruleName": "no creation time"}', SECRET)).statusCode).toBe(400);
    expect((await post('{not json', SECRET)).statusCode).toBe(400);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await smsEvents(env.pool)).toEqual([]);
  });

  it('an activation opens the temperature alarm (answered 201, a retry is the same event), the deactivation restores it', async () => {
    const first = await post(activation, SECRET);
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ kind: 'TEMPERATURE_ALARM', sensor_id: '282C02A1B2C3' });
    expect((await post(activation, SECRET)).json()).toMatchObject({ dedup_key: first.json<{ dedup_key: string }>().dedup_key });
    expect((await post(deactivation, SECRET)).statusCode).toBe(201);

    const alarm = async () => (await env.pool.query<{ id: number; restore_count: number; category: string }>('SELECT id, restore_count, category FROM alarms WHERE object_id = $1', [objectId])).rows;
    await waitUntil('alarm and its restore', async () => (await alarm())[0]?.restore_count === 1, 30_000);
    expect(await alarm()).toHaveLength(1);
    expect(await smsEvents(env.pool)).toHaveLength(2);
    const detail = (await call<{ category: string; events: { restore: boolean; payload: Record<string, unknown> }[] }>(gw.app, token, 'GET', `/api/alarms/${(await alarm())[0]!.id}`)).body;
    expect(detail.category).toBe('temperature');
    const raised = detail.events.find((e) => !e.restore)!.payload;
    expect(raised).toMatchObject({ sender: 'efento-cloud', direction: 'HIGH', template: 'efento-webhook', raw_text: activation });
  });
});
