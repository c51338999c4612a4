import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandResult, createCommandLedger, RESULT_STAGE_HEADER } from '../../commands/index.ts';
import { createLogger, createProducer, type Producer } from '../../platform/index.ts';
import { createCommandResultsProcessor, createCommandSweeper } from '../../processors/index.ts';
import { codecFor, topicName, type CommandResult } from '../../schemas/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createPanel, waitUntil } from '../helpers/system.ts';
import { auditTrail, commandRow } from '../helpers/commands.ts';

const log = createLogger('cmd-results-test', 'silent');

/** The terminal state of a command: first result wins, duplicates change nothing, contradictions are audited, the sweeper ends the unanswered. */
describe('command results: processor and sweeper', () => {
  let env: TestEnv;
  let producer: Producer;
  let panelId: number;
  const codec = codecFor('CommandResult');

  const newCommand = async (expiresInS: number): Promise<string> => {
    const id = randomUUID();
    await env.pool.query(`INSERT INTO commands (id, panel_id, action, params, reason, expires_at) VALUES ($1, $2, 'arm', '{"partitions":[1]}', 'test', now() + make_interval(secs => $3))`,
      [id, panelId, expiresInS]);
    return id;
  };
  const send = (results: CommandResult[], stage: string | null, raw?: Buffer) => producer.send({
    topic: topicName('command.results.v1', env.id), acks: -1,
    messages: raw ? [{ key: 'x', value: raw }] : results.map((r) => ({ key: r.command_id, value: codec.encode(r), headers: stage ? { [RESULT_STAGE_HEADER]: stage } : {} })),
  });
  const outbox = async (id: string) => (await env.pool.query<{ payload: CommandResult }>(`SELECT payload FROM outbox WHERE kind = 'command.result' AND key = $1`, [id])).rows.map((r) => r.payload);

  beforeAll(async () => {
    env = await createTestEnv();
    producer = await createProducer(env.kafka);
    panelId = (await createPanel(env.pool, 17100, 'RES-1')).panelId;
  });

  afterAll(async () => {
    await producer?.disconnect();
    await env?.cleanup();
  });

  it('the first reported result is recorded with an outbox row; a repeat changes nothing, a contradiction is ignored and audited; `final` and junk are not applied', async () => {
    const a = await newCommand(60);
    const b = await newCommand(60);
    const ok = commandResult({ command_id: a, panel_id: panelId, action: 'arm', trace: null }, 'SUCCEEDED', 'partitions 1 armed', 0);
    const processor = createCommandResultsProcessor({ kafka: env.kafka, producer, pool: env.pool, log, groupId: `${env.id}-results`, topicPrefix: env.id });
    await processor.start();
    try {
      await send([ok], 'reported');
      await send([{ ...ok, status: 'FAILED', reason: 'late contradicting report' }, ok], 'reported');
      await send([commandResult({ command_id: b, panel_id: panelId, action: 'arm', trace: null }, 'REJECTED', 'relayed final, not a report', 1)], 'final');
      await send([], null, Buffer.from('not avro'));
      const consumed = async () => (await env.pool.query<{ n: string }>('SELECT COALESCE(sum(next_offset), 0) AS n FROM consumer_offsets WHERE group_id = $1', [`${env.id}-results`])).rows[0]!.n;
      // All five messages consumed (they may sit on different partitions and land in different batches).
      await waitUntil('all five messages consumed', async () => Number(await consumed()) >= 5, 30_000);
      expect(Number(await consumed())).toBe(5);
      expect(await commandRow(env.pool, a)).toMatchObject({ status: 'SUCCEEDED', result_reason: 'partitions 1 armed', panel_result_code: 0 });
      expect(await outbox(a)).toEqual([ok]);
      expect(await auditTrail(env.pool, a)).toEqual(['command.succeeded', 'command.result_ignored']);
      expect((await commandRow(env.pool, b)).status).toBe('PENDING');
    } finally {
      await processor.stop();
    }
  });

  it('the sweeper ends commands unanswered past expiry + grace, taking what the execution ledger knows', async () => {
    const nobody = await newCommand(-120);
    const interrupted = await newCommand(-120);
    const unreported = await newCommand(-120);
    const young = await newCommand(-1); // inside the grace: left alone
    const ledger = createCommandLedger(env.pool);
    await env.pool.query(`INSERT INTO command_executions (command_id, driver_id) VALUES ($1, 'driver-x')`, [interrupted]);
    const remembered = commandResult({ command_id: unreported, panel_id: panelId, action: 'arm', trace: null }, 'SUCCEEDED', 'partitions 1 armed', 0);
    expect(await ledger.settle(remembered, 'driver-y')).toEqual(remembered);
    const sweeper = createCommandSweeper({ pool: env.pool, log, graceMs: 60_000, intervalMs: 60_000 });
    expect(await sweeper.sweepOnce()).toBe(3);
    expect(await commandRow(env.pool, nobody)).toMatchObject({ status: 'FAILED', result_reason: 'no answer from any driver by the expiry (+ grace): failed by the sweeper' });
    expect((await commandRow(env.pool, interrupted)).result_reason).toMatch(/^interrupted: driver driver-x took the command at .* and never answered; outcome unknown, not repeated$/);
    expect(await commandRow(env.pool, unreported)).toMatchObject({ status: 'SUCCEEDED', result_reason: 'partitions 1 armed' });
    expect((await commandRow(env.pool, young)).status).toBe('PENDING');
    for (const id of [nobody, interrupted, unreported]) expect(await outbox(id)).toHaveLength(1);
    // A driver arriving afterwards cannot claim what the sweeper ended: it is answered from the ledger.
    expect(await ledger.claim({ commandId: nobody, panelId, driverId: 'late', fencing: 1, expiredHere: false })).toMatchObject({ kind: 'answered', result: { status: 'FAILED' } });
    expect(await sweeper.sweepOnce()).toBe(0);
  });
});
