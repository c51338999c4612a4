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
  const intake = createIntake({
    run: (c) => { sent.push(c.line); return Promise.resolve(answer(c)); }, commandTimeoutMs: 100, multipartTimeoutMs: 60_000, log,
    produce: async (e) => { await produce(e); produced.push(...e); },
    interpret: (s) => interpretSms(s, { templates: [], directory: createSensorDirectory([]), timeZone: 'Europe/Warsaw' }),
    received: () => undefined,
  });
  return { intake, sent, produced };
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

  it('an undecodable PDU is produced as UNCLASSIFIED with the PDU as its text, then deleted', async () => {
    const r = rig(() => ok());
    await r.intake.accept([{ index: 2, length: 3, pdu: '0006FFFFFF' }]);
    await settle();
    expect(r.produced[0]).toMatchObject({ kind: 'UNCLASSIFIED', raw_text: '0006FFFFFF', sender: 'unknown' });
    expect(r.sent).toEqual(['AT+CMGD=2']);
  });
});
