import { describe, expect, it } from 'vitest';
import { encodeDeliver, interpretSms, createSensorDirectory, type AtCommand, type Reply } from '../core/index.ts';
import { createLogger } from '../../../platform/index.ts';
import type { SmsEvent } from '../../../schemas/index.ts';
import { createIntake } from './intake.ts';

const log = createLogger('test', 'silent');
const sms = (text: string) => encodeDeliver({ sender: '+48600100200', text, smscTimeMs: Date.UTC(2025, 5, 15, 10, 30), smscTzMinutes: 120 });
const ok = (info: Reply['info'] = []): Reply => ({ ok: true, info });

/** An intake over a scripted modem: each command's reply comes from `answer`, every command is recorded. */
function rig(answer: (c: AtCommand) => Reply, produce: (e: SmsEvent[]) => Promise<void> = () => Promise.resolve()) {
  const sent: string[] = [];
  const produced: SmsEvent[] = [];
  const acked = new Set<string>();
  const intake = createIntake({
    run: (c) => { sent.push(c.line); return Promise.resolve(answer(c)); }, commandTimeoutMs: 100, multipartTimeoutMs: 60_000, log,
    produce: async (e) => { await produce(e); produced.push(...e); },
    interpret: (s) => interpretSms(s, { templates: [], directory: createSensorDirectory([]), timeZone: 'Europe/Warsaw' }),
    received: () => undefined,
    remember: (parts) => { for (const p of parts) acked.add(p.pdu); return Promise.resolve(); },
    remembered: (pdus) => Promise.resolve(new Set(pdus.filter((p) => acked.has(p)))),
  });
  return { intake, sent, produced, acked };
}
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('SMS intake: delete only after the broker acknowledged, never blind', () => {
  it('deletes a slot once its event is acknowledged, and a slot listed again meanwhile is not produced twice', async () => {
    const m = sms('one');
    const r = rig(() => ok());
    await r.intake.accept([{ index: 3, length: m.tpduLength, pdu: m.pdu }, { index: 3, length: m.tpduLength, pdu: m.pdu }]);
    await settle();
    expect(r.produced.map((e) => e.raw_text)).toEqual(['one']);
    expect(r.sent).toEqual(['AT+CMGD=3']);
    expect(r.intake.pending).toBe(0);
  });

  it('keeps the message on the SIM while the broker refuses it', async () => {
    const m = sms('two');
    const r = rig(() => ok(), () => Promise.reject(new Error('broker down')));
    await r.intake.accept([{ index: 1, length: m.tpduLength, pdu: m.pdu }]);
    await settle();
    expect(r.sent).toEqual([]);
    expect(r.intake.unsent).toBe(1);
    await r.intake.stop();
  });

  it('after a delete whose answer was lost, reads the slot again and deletes it only if it still holds that message', async () => {
    const first = sms('first');
    const other = sms('a new message in the freed slot');
    let deletes = 0;
    const r = rig((c) => {
      if (c.line === 'AT+CMGD=5') return ++deletes === 1 ? { ok: false, type: 'TIMEOUT', code: null, text: 'no answer', info: [] } : ok();
      if (c.line === 'AT+CMGR=5') return ok([{ header: `+CMGR: 0,,${other.tpduLength}`, pdu: other.pdu }]);
      return ok();
    });
    await r.intake.accept([{ index: 5, length: first.tpduLength, pdu: first.pdu }]);
    await settle();
    expect(r.sent).toEqual(['AT+CMGD=5']);
    await r.intake.resume();
    await settle();
    // The slot now holds another message: the first delete did happen; the new one is not deleted.
    expect(r.sent).toEqual(['AT+CMGD=5', 'AT+CMGR=5']);
    expect(r.intake.pending).toBe(0);
  });

  it('a part of a long SMS already acknowledged, left on the SIM by a crash while deleting, is deleted — not produced again as partial', async () => {
    const parts = [1, 2, 3].map((seq) => encodeDeliver({ sender: '+48600100200', text: `part ${seq} `, smscTimeMs: 1000, smscTzMinutes: 60, concat: { iei: 0, ref: 9, total: 3, seq } }));
    const first = rig(() => ok());
    await first.intake.accept(parts.map((p, i) => ({ index: i + 1, length: p.tpduLength, pdu: p.pdu })));
    await settle();
    expect(first.produced.map((e) => e.raw_text)).toEqual(['part 1 part 2 part 3 ']);
    expect([...first.acked]).toHaveLength(3);
    // A restarted driver finds part 3 still stored.
    const second = rig(() => ok());
    for (const p of first.acked) second.acked.add(p);
    await second.intake.accept([{ index: 3, length: parts[2]!.tpduLength, pdu: parts[2]!.pdu }]);
    await settle();
    expect(second.produced).toEqual([]);
    expect(second.sent).toEqual(['AT+CMGD=3']);
  });

  it('a copy of a part read while its message was on its way is deleted at the timeout, not emitted as partial', async () => {
    const parts = [1, 2].map((seq) => encodeDeliver({ sender: '+48600100200', text: `p${seq} `, smscTimeMs: 1000, smscTzMinutes: 60, concat: { iei: 0, ref: 4, total: 2, seq } }));
    let t = 0;
    const r = rig(() => ok());
    const intake = createIntake({
      run: (c) => { r.sent.push(c.line); return Promise.resolve(ok()); }, commandTimeoutMs: 100, multipartTimeoutMs: 1000, log, now: () => t,
      produce: (e) => { r.produced.push(...e); return Promise.resolve(); },
      interpret: (s) => interpretSms(s, { templates: [], directory: createSensorDirectory([]), timeZone: 'Europe/Warsaw' }),
      received: () => undefined,
      remember: (ps) => { for (const p of ps) r.acked.add(p.pdu); return Promise.resolve(); },
      remembered: (pdus) => Promise.resolve(new Set(pdus.filter((p) => r.acked.has(p)))),
    });
    await intake.accept(parts.map((p, i) => ({ index: i + 1, length: p.tpduLength, pdu: p.pdu })));
    // The network's second copy of part 1 lands in slot 7 and is read before it is known as acknowledged.
    r.acked.clear();
    await intake.accept([{ index: 7, length: parts[0]!.tpduLength, pdu: parts[0]!.pdu }]);
    for (const p of parts) r.acked.add(p.pdu);
    t = 5_000;
    await intake.sweepIncomplete();
    await settle();
    expect(r.produced.map((e) => e.raw_text)).toEqual(['p1 p2 ']);
    expect(r.sent).toContain('AT+CMGD=7');
    expect(intake.pending).toBe(0);
  });

  it('an undecodable PDU is produced as UNCLASSIFIED with the PDU as its text, then deleted', async () => {
    const r = rig(() => ok());
    await r.intake.accept([{ index: 2, length: 3, pdu: '0006FFFFFF' }]);
    await settle();
    expect(r.produced[0]).toMatchObject({ kind: 'UNCLASSIFIED', raw_text: '0006FFFFFF', sender: 'unknown' });
    expect(r.sent).toEqual(['AT+CMGD=2']);
  });
});
