import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDeliver } from '../../ingest/sms/core/index.ts';
import { startRole, type RoleProcess } from '../../load-tests/index.ts';
import { createRng } from '../../platform/random.ts';
import type { ModemSimulator } from '../../simulator/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { modemReady, smsEvents, startModem, startSmsIngest, tailSms, type SmsTail } from '../helpers/sms.ts';
import { waitUntil } from '../helpers/system.ts';

const MESSAGES = 500;
const LONG_EVERY = 10; // every tenth message is a three-part UCS2 one
const MIN_KILLS = 10;
const MIN_IN_WINDOW = 6;

/**
 * Chaos: 500 SMS arrive at the modem (a tenth of them long Polish UCS2 messages in three parts) while
 * `stam sms-ingest` is killed with SIGKILL again and again — chosen at moments when an event is already on
 * the broker but its message is still on the SIM (produced, not yet deleted; the simulated SIM takes 30 ms
 * per delete, as SIM writes do). Afterwards every message is exactly one event in PostgreSQL and the SIM
 * is empty; the broker may hold copies (re-produced after a kill), which the dedup_key folds into one.
 */
describe('SIGKILL of sms-ingest between produce and delete', () => {
  let env: TestEnv;
  let modem: ModemSimulator;
  let processor: RoleProcess;
  let ingest: RoleProcess;
  let tail: SmsTail;

  beforeAll(async () => {
    env = await createTestEnv({ FEATURE_SMS_ENABLED: 'true' });
    modem = await startModem(env, { capacity: 50 });
    modem.modem.delay('CMGD', 30);
    tail = await tailSms(env);
    processor = startRole('alarm-processor', env.vars);
    await processor.waitForLog((l) => l.msg === 'alarm processor consuming');
  });
  afterAll(async () => {
    await ingest?.stop();
    await processor?.stop();
    await tail?.stop();
    await modem?.stop();
    await env?.cleanup();
  });

  it('every message is exactly one event, however often the driver dies', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
    console.log(`[sms-chaos] seed ${seed} (CHAOS_SEED=${seed} repeats this run)`);
    const rand = createRng(seed);
    const texts = Array.from({ length: MESSAGES }, (_, i) => (i % LONG_EVERY === 0
      ? `Wiadomość ${i}: w chłodni numer ${i % 7} temperatura przekroczyła próg, proszę sprawdzić drzwi, zasilanie i agregat; żółć, gęś, źdźbło — ${'ąęś'.repeat(12)} koniec ${i}.`
      : `BLULOG ALARM: Rejestrator ${i} ${8 + (i % 5)},${i % 10}°C > max 8,0°C`));
    const produced = new Set<string>();
    const seenOnTopic = () => { for (const e of tail.items.splice(0)) { produced.add(e.raw_text); copies.push(e.raw_text); } };
    const copies: string[] = [];
    const decoded = new Map<string, string | null>();
    const textOf = (pdu: string) => {
      if (!decoded.has(pdu)) { const p = decodeDeliver(pdu); decoded.set(pdu, p.concat ? null : p.text); }
      return decoded.get(pdu);
    };
    /** An event is on the broker while its message is still on the SIM. */
    const inWindow = () => { seenOnTopic(); return modem.stored().some((s) => { const t = textOf(s.pdu); return t !== null && t !== undefined && produced.has(t); }); };

    ingest = startSmsIngest(env, modem);
    await modemReady(ingest);

    let delivering = true;
    const delivery = (async () => {
      for (let i = 0; i < texts.length; i++) {
        modem.deliver({ from: `+4860010${String(i % 50).padStart(4, '0')}`, text: texts[i]!, order: i % LONG_EVERY === 0 ? 'shuffle' : 'in-order' });
        await new Promise((r) => setTimeout(r, 20 + rand() * 60));
      }
      delivering = false;
    })();

    const kills: string[] = [];
    let inWindowKills = 0;
    const killer = (async () => {
      while (delivering || kills.length < MIN_KILLS || inWindowKills < MIN_IN_WINDOW) {
        await new Promise((r) => setTimeout(r, 600 + rand() * 1200));
        await modemReady(ingest, 60_000);
        // Wait (briefly) for the moment between produce and delete.
        const until = Date.now() + 3_000;
        let hit = false;
        while (Date.now() < until && !(hit = inWindow())) await new Promise((r) => setTimeout(r, 5));
        if (!hit && !delivering && kills.length >= MIN_KILLS) {
          modem.deliver({ from: '+48600999000', text: `BLULOG ALARM: Dodatkowy ${kills.length} 9,0°C > max 8,0°C` }); // something to be in flight
          texts.push(`BLULOG ALARM: Dodatkowy ${kills.length} 9,0°C > max 8,0°C`);
          continue;
        }
        ingest.proc.kill('SIGKILL');
        await ingest.exited;
        if (hit) inWindowKills++;
        kills.push(`${hit ? 'window' : 'random'}@${modem.store.used}`);
        ingest = startSmsIngest(env, modem);
      }
    })();
    await Promise.all([delivery, killer]);
    console.log(`[sms-chaos] ${kills.length} kills (${inWindowKills} between produce and delete): ${kills.join(', ')}`);

    await waitUntil('every message recorded', async () => (await smsEvents(env.pool)).length >= texts.length, 240_000, 500);
    await waitUntil('SIM and network empty', () => modem.store.used === 0 && modem.store.queued === 0, 60_000, 200);
    await new Promise((r) => setTimeout(r, 2_000));
    seenOnTopic();

    const rows = await smsEvents(env.pool);
    const byText = new Map<string, number>();
    for (const r of rows) byText.set(r.payload.raw_text, (byText.get(r.payload.raw_text) ?? 0) + 1);
    expect(rows.length).toBe(texts.length);
    expect(texts.filter((t) => byText.get(t) !== 1)).toEqual([]);
    expect(new Set(rows.map((r) => r.dedup_key)).size).toBe(texts.length);
    expect(kills.length).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(inWindowKills).toBeGreaterThanOrEqual(MIN_IN_WINDOW);
    const copiesProduced = copies.length - new Set(copies).size;
    console.log(`[sms-chaos] ${texts.length} messages (${Math.ceil(MESSAGES / LONG_EVERY)} in three parts), ${copies.length} events on the broker (${copiesProduced} re-produced copies), ${rows.length} recorded, SIM empty`);
  }, 420_000);
});
