import { readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createProducer, type Producer } from '../../platform/index.ts';
import { createAlarmProcessor, type AlarmProcessor } from '../../processors/index.ts';
import { codecFor, topicName, type SatelEvent } from '../../schemas/index.ts';
import { startRole } from '../../load-tests/index.ts';
import { adminUrl, createTestEnv, type TestEnv } from '../helpers/env.ts';
import { satelEvent } from '../helpers/events.ts';
import { createPanel, waitUntil } from '../helpers/system.ts';

const MIN = 60_000;
const log = createLogger('test-replay', 'silent');

interface Row { key: string; actual: number; whatIf: number; delta: number }
interface ReplayJson {
  result: { applied: number; messages: number; notes: string[]; bad: unknown[]; whatIf?: { alarms: number; byCategory: Record<string, number> } };
  actual: { alarms: number; floods: number; byCategory: Record<string, number>; byObject: Record<string, number> };
  rebuilt?: { alarms: number; byCategory: Record<string, number>; byObject: Record<string, number> };
  comparison: { totals: Row[]; byCategory: Row[]; byObject: Row[] };
}

/**
 * `stam replay` against events the real processor applied: the replay reproduces the pipeline's alarms, a
 * what-if with a longer bundling window gives the fewer alarms a direct count of the events gives, a rebuild
 * into an empty database makes the same alarm rows, and an export writes every event.
 */
describe('stam replay', () => {
  let env: TestEnv;
  let producer: Producer;
  let processor: AlarmProcessor;
  const sent: SatelEvent[] = [];
  let from = '';
  let to = '';
  const intoDb = () => `${env.config.DATABASE_URL}_into`;

  /** Produces with the record time stamp the driver would give it (when it observed the event). */
  const send = async (events: SatelEvent[]) => {
    sent.push(...events);
    await producer.send({
      topic: topicName('satel.events.v1', env.id), acks: -1,
      messages: events.map((e) => ({ key: String(e.panel_id), value: codecFor('SatelEvent').encode(e), timestamp: String(e.observed_at) })),
    });
  };
  let runs = 0;
  /** `stam replay` as a child process; its JSON result (written to a file) and everything it printed. */
  const replay = async (...args: string[]): Promise<{ code: number | null; json: ReplayJson; out: string }> => {
    const file = `${process.cwd()}/.data/${env.id}-replay-${++runs}.json`;
    const role = startRole('replay', env.vars, ['--from', from, '--to', to, '--no-progress', ...(args.includes('--export') ? [] : ['--json', file]), ...args]);
    const exit = await role.exited;
    const out = role.lines.map((l) => (l.raw ? String(l.msg) : JSON.stringify(l))).join('\n');
    const json = args.includes('--export') ? ({} as ReplayJson) : JSON.parse(readFileSync(file, 'utf8')) as ReplayJson;
    return { code: exit.code, json, out };
  };

  beforeAll(async () => {
    env = await createTestEnv();
    producer = await createProducer(env.kafka);
    const a = await createPanel(env.pool, 42001, 'RPL-A');
    const b = await createPanel(env.pool, 42002, 'RPL-B');
    const t = Date.now() - 3 * 60 * MIN;
    // A: zone 1 violated three times 12 min apart (three alarms with the 10 min window, one with 15), zone 2 once, and a repeat (same dedup key).
    const a1 = [0, 12, 24].map((m) => satelEvent(a.panelId, 'ZONE_VIOLATION', 1, t + m * MIN));
    await send([...a1, satelEvent(a.panelId, 'ZONE_VIOLATION', 2, t + MIN), { ...a1[0]! }]);
    // B: 14 zone alarms within a minute: ten alarms, then a flood alarm absorbs four.
    await send(Array.from({ length: 14 }, (_, i) => satelEvent(b.panelId, 'ZONE_ALARM', i + 1, t + 2 * MIN + i * 1000)));
    from = new Date(t - MIN).toISOString();
    to = new Date(t + 30 * MIN).toISOString();
    processor = createAlarmProcessor({
      kafka: env.kafka, producer, pool: env.pool, log, groupId: env.config.PROCESSOR_GROUP, topicPrefix: env.id, maxBatch: 500,
      bundlingWindowMs: env.config.BUNDLING_WINDOW_S * 1000, smsEnabled: false, flood: { threshold: env.config.FLOOD_THRESHOLD, windowMs: env.config.FLOOD_WINDOW_S * 1000 },
    });
    await processor.start();
    await waitUntil('the pipeline applied every event', async () => (await env.pool.query('SELECT count(*)::int AS n FROM events')).rows[0].n === 18, 60_000);
  });

  afterAll(async () => {
    await processor?.stop();
    await producer?.disconnect();
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${new URL(intoDb()).pathname.slice(1)} WITH (FORCE)`).finally(() => admin.end());
    await env?.cleanup();
  });

  it('with the current settings, reproduces the alarms the pipeline made: the same counts per object and category', async () => {
    const { code, json } = await replay();
    expect(code).toBe(0);
    expect(json.result.applied).toBe(19);
    expect(json.actual).toMatchObject({ alarms: 15, floods: 1, byCategory: { 'zone-violation': 4, intrusion: 10, flood: 1 } });
    expect(json.comparison.totals).toEqual([
      { key: 'alarms', actual: 15, whatIf: 15, delta: 0 }, { key: 'flood alarms', actual: 1, whatIf: 1, delta: 0 },
    ]);
    expect(json.comparison.byCategory.every((r) => r.delta === 0)).toBe(true);
    expect(json.comparison.byObject.map((r) => [r.key, r.actual, r.whatIf]).sort()).toEqual([['RPL-A', 4, 4], ['RPL-B', 11, 11]]);
  });

  it('a what-if with a 15 min bundling window shows fewer alarms, as many as counting the events directly gives', async () => {
    const file = `${process.cwd()}/.data/${env.id}-what-if.yaml`;
    writeFileSync(file, 'bundling_window_s: 900\n');
    const { json } = await replay('--what-if', file);
    // Directly: zone 1 of A is one alarm (gaps of 12 min < 15), zone 2 one; B unchanged (ten alarms and a flood).
    const zone1 = sent.filter((e) => e.panel_id === sent[0]!.panel_id && e.object_number === 1).map((e) => e.observed_at).sort();
    const zone1Alarms = 1 + zone1.slice(1).filter((t, i) => t - zone1[i]! > 15 * MIN).length;
    expect(zone1Alarms).toBe(1);
    expect(json.comparison.totals[0]).toEqual({ key: 'alarms', actual: 15, whatIf: 15 - 3 + zone1Alarms, delta: zone1Alarms - 3 });
    expect(json.comparison.byObject.find((r) => r.key === 'RPL-A')).toEqual({ key: 'RPL-A', actual: 4, whatIf: 2, delta: -2 });
  });

  it('--into rebuilds events and alarms into an empty database, row for row', async () => {
    const { code, out } = await replay('--into', intoDb());
    expect(code, out).toBe(0);
    const q = `SELECT object_id, panel_id, source, zone, category, severity, status, version, event_count, restore_count, first_event_at, last_event_at, test, service, flood
                 FROM alarms ORDER BY object_id, first_event_at, zone, flood`;
    const target = new pg.Pool({ connectionString: intoDb() });
    try {
      const [a, b] = await Promise.all([env.pool.query(q), target.query(q)]);
      expect(b.rows).toHaveLength(15);
      expect(b.rows).toEqual(a.rows);
      expect((await target.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(18);
    } finally {
      await target.end();
    }
  });

  it('--export writes every event of the range, as JSON lines or CSV', async () => {
    const jsonl = `${process.cwd()}/.data/${env.id}-events.jsonl`;
    expect((await replay('--export', 'jsonl', '--out', jsonl)).code).toBe(0);
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { dedupKey: string });
    expect(lines).toHaveLength(19);
    expect(new Set(lines.map((l) => l.dedupKey))).toEqual(new Set(sent.map((e) => e.dedup_key)));
    const csv = `${process.cwd()}/.data/${env.id}-events.csv`;
    await replay('--export', 'csv', '--out', csv);
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toMatch(/^event_id,dedup_key,source,kind,panel_id/);
    expect(rows).toHaveLength(20);
  });

  it('says clearly when the range reaches back past what the topic still holds', async () => {
    const admin = env.kafka.admin();
    await admin.connect();
    const topic = topicName('satel.events.v1', env.id);
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.deleteTopicRecords({ topic, partitions: offsets.filter((o) => Number(o.high) > 0).map((o) => ({ partition: o.partition, offset: '1' })) });
    await admin.disconnect();
    from = new Date(Date.now() - 100 * 86_400_000).toISOString();
    const { json } = await replay();
    expect(json.result.notes.join('\n')).toMatch(/keeps 90 days: events before .* are no longer in it/);
  });
});
