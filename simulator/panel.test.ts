import { describe, expect, it } from 'vitest';
import {
  decodeDeviceName, decodeEventTextAnswer, decodeIntegraVersion, decodeModuleVersion, decodeNewData, decodeReadEventAnswer,
  encodeArm, encodeBypassZones, encodeClearAlarm, encodeClearTroubleMemory, encodeDeviceNameRequest, encodeDisarm,
  encodeEventTextRequest, encodeMonitorRequest, encodeNewDataQuery, encodeOutputsOff, encodeOutputsOn, encodeReadEvent,
} from '../ingest/satel/protocol/index.ts';
import { createPanel, type Answer, type Panel, type Request } from './panel.ts';

const user = { code: '1234' };
const one = (panel: Panel, req: Request): Answer => {
  const answers = panel.handle(req);
  expect(answers).toHaveLength(1);
  return answers[0]!;
};
const resultOf = (panel: Panel, req: Request): number => {
  const a = one(panel, req);
  expect(a.cmd).toBe(0xef);
  return a.data[0]!;
};
const bits = (data: Uint8Array): number[] => {
  const out: number[] = [];
  data.forEach((b, i) => {
    for (let k = 0; k < 8; k++) if (b & (1 << k)) out.push(i * 8 + k + 1);
  });
  return out;
};

describe('panel state queries', () => {
  it('answers zone violations as a 16-byte bitmap, LSB first', () => {
    const p = createPanel({ model: 'integra128' });
    p.violateZone(1);
    p.violateZone(10);
    const a = one(p, { cmd: 0x00 });
    expect(a.data).toHaveLength(16);
    expect(a.data.subarray(0, 2)).toEqual(Buffer.from([0x01, 0x02]));
  });

  it('answers 32 bytes on an INTEGRA 256 Plus behind an ETHM-1 Plus when the query carries one extra byte', () => {
    const p = createPanel({ model: 'integra256plus', module: 'ethm1plus' });
    p.violateZone(200);
    expect(one(p, { cmd: 0x00 }).data).toHaveLength(16);
    const a = one(p, { cmd: 0x00, data: Uint8Array.of(0xff) });
    expect(a.data).toHaveLength(32);
    expect(bits(a.data)).toEqual([200]);
  });

  it('answers 16 bytes when the module cannot (plain ETHM-1) or the panel is not a 256 Plus', () => {
    for (const p of [createPanel({ model: 'integra256plus', module: 'ethm1' }), createPanel({ model: 'integra128', module: 'ethm1plus' })]) {
      expect(p.extendedBitmaps).toBe(false);
      expect(one(p, { cmd: 0x17, data: Uint8Array.of(0x00) }).data).toHaveLength(16);
    }
  });

  it('answers partitions in 4 bytes and troubles at their fixed lengths, for every state command 0x00–0x2F', () => {
    const p = createPanel({ model: 'integra64' });
    const lengths: Record<number, number> = { 0x09: 4, 0x18: 8, 0x1a: 9, 0x1b: 47, 0x1c: 26, 0x1d: 60, 0x1e: 30, 0x1f: 31, 0x20: 47, 0x24: 48, 0x2a: 4, 0x2c: 45, 0x2f: 48 };
    for (let cmd = 0; cmd <= 0x2f; cmd++) {
      const a = one(p, { cmd });
      expect(a.cmd, `cmd 0x${cmd.toString(16)}`).toBe(cmd);
      const want = lengths[cmd];
      if (want !== undefined) expect(a.data, `cmd 0x${cmd.toString(16)}`).toHaveLength(want);
    }
  });

  it('reports the clock in BCD with the troubles flag in the first status byte', () => {
    const p = createPanel({ clock: () => new Date(2024, 4, 17, 13, 45, 30).getTime() });
    p.raiseTrouble('ac');
    const a = one(p, { cmd: 0x1a });
    expect([...a.data.subarray(0, 7)]).toEqual([0x20, 0x24, 0x05, 0x17, 0x13, 0x45, 0x30]);
    expect(a.data[7]! & 0x40).toBe(0x40);
    expect(a.data[7]! & 0x07).toBe(4); // Friday, counted from Monday = 0
  });

  it('reports module and INTEGRA versions with the 32-byte flag only on the ETHM-1 Plus', () => {
    const plus = createPanel({ model: 'integra256plus', module: 'ethm1plus' });
    const plain = createPanel({ model: 'integra24', module: 'ethm1' });
    expect(decodeModuleVersion(one(plus, { cmd: 0x7c })).supports32ByteAnswers).toBe(true);
    expect(decodeModuleVersion(one(plain, { cmd: 0x7c })).supports32ByteAnswers).toBe(false);
    expect(decodeIntegraVersion(one(plus, { cmd: 0x7e })).type).toBe(72);
    expect(decodeIntegraVersion(one(plain, { cmd: 0x7e })).type).toBe(0);
  });
});

describe('new data list (0x7F)', () => {
  it('flags the commands whose data changed and clears a flag when that command is read', () => {
    const p = createPanel();
    p.violateZone(3); // partition 1 also gets "partitions with violated zones" (0x25)
    expect(decodeNewData(one(p, encodeNewDataQuery()))).toEqual(new Set([0x00, 0x25]));
    one(p, { cmd: 0x00 });
    expect(decodeNewData(one(p, encodeNewDataQuery()))).toEqual(new Set([0x25]));
  });

  it('lists 0x28–0x2F only in the 6-byte answer asked for with one extra byte', () => {
    const p = createPanel();
    expect(resultOf(p, encodeArm(1, user, [2]))).toBe(0x00); // mode 1 shows in 0x2A
    expect(one(p, encodeNewDataQuery()).data).toHaveLength(5);
    expect(decodeNewData(one(p, encodeNewDataQuery()))).toEqual(new Set([0x09, 0x0a]));
    expect(one(p, encodeNewDataQuery({ extended: true })).data).toHaveLength(6);
    expect(decodeNewData(one(p, encodeNewDataQuery({ extended: true })))).toEqual(new Set([0x09, 0x0a, 0x2a]));
  });

  it('does not flag a command when a change leaves its data as it was', () => {
    const p = createPanel();
    p.violateZone(3);
    one(p, { cmd: 0x00 });
    p.violateZone(3);
    expect(p.store.isNew(0x00)).toBe(false);
  });

  it('accepts monitoring mode (0x7F + 12 bytes) with EF FF on the ETHM-1 Plus and refuses it with EF 08 on the plain ETHM-1', () => {
    expect(resultOf(createPanel({ module: 'ethm1plus' }), encodeMonitorRequest([0x00, 0x17]))).toBe(0xff);
    expect(resultOf(createPanel({ module: 'ethm1' }), encodeMonitorRequest([0x00, 0x17]))).toBe(0x08);
  });

  it('in monitoring mode hands out the changed frames once, 32 bytes wide for zones', () => {
    const p = createPanel();
    p.violateZone(5);
    const frames = p.takeMonitored(new Set([0x00, 0x17]));
    expect(frames.map((f) => f.cmd)).toEqual([0x00]);
    expect(frames[0]!.data).toHaveLength(32);
    expect(p.takeMonitored(new Set([0x00]))).toEqual([]);
  });
});

describe('commands', () => {
  it('refuses to arm a partition with a violated zone (EF 11), force arm succeeds and logs a forced arming', () => {
    const p = createPanel();
    p.violateZone(2); // zone 2 is in partition 1
    expect(resultOf(p, encodeArm(0, user, [1]))).toBe(0x11);
    expect(p.store.get(0x0a, 1)).toBe(false);
    expect(resultOf(p, encodeArm(0, user, [1], { force: true }))).toBe(0x00);
    expect(p.store.get(0x0a, 1)).toBe(true);
    expect(p.log.newest()).toMatchObject({ code: 1001, cls: 2, partition: 1 });
  });

  it('arms a partition whose zones are quiet, even when another partition has a violated zone', () => {
    const p = createPanel();
    p.violateZone(9); // partition 2
    expect(resultOf(p, encodeArm(2, user, [1]))).toBe(0x00);
    expect([p.store.get(0x0a, 1), p.store.get(0x0b, 1)]).toEqual([true, true]);
    expect(p.log.newest()).toMatchObject({ code: 401, restore: true, source: 1 });
  });

  it('answers a wrong user code with EF 01 and a partition the user may not use with EF 02', () => {
    const p = createPanel({ users: [{ number: 2, code: '5555', partitions: [1] }] });
    expect(resultOf(p, encodeArm(0, { code: '9999' }, [1]))).toBe(0x01);
    expect(resultOf(p, encodeArm(0, { code: '5555' }, [2]))).toBe(0x02);
    expect(resultOf(p, encodeDisarm({ code: '9999' }, [1]))).toBe(0x01);
    expect(p.store.any(0x0a)).toBe(false);
  });

  it('shows exit time after arming with an exit delay, then armed once the delay has passed', () => {
    let now = 1_000_000;
    const p = createPanel({ exitDelayMs: 30_000, clock: () => now });
    expect(resultOf(p, encodeArm(0, user, [1]))).toBe(0x00);
    expect([p.store.get(0x0f, 1), p.store.get(0x09, 1), p.store.get(0x0a, 1)]).toEqual([true, true, false]);
    now += 29_000;
    p.tick();
    expect(p.store.get(0x0a, 1)).toBe(false);
    now += 1_000;
    expect(p.tick()).toBe(false);
    expect([p.store.get(0x0f, 1), p.store.get(0x0a, 1)]).toEqual([false, true]);
  });

  it('raises a zone alarm when a zone of an armed partition is violated; clear alarm keeps the memory, disarm logs', () => {
    const p = createPanel();
    resultOf(p, encodeArm(0, user, [1]));
    expect(p.violateZone(4)[0]).toMatchObject({ code: 130, cls: 0, restore: false, source: 4, partition: 1 });
    expect([p.store.get(0x02, 4), p.store.get(0x04, 4), p.store.get(0x13, 1), p.store.get(0x15, 1)]).toEqual([true, true, true, true]);
    expect(resultOf(p, encodeClearAlarm(user, [1]))).toBe(0x00);
    expect([p.store.get(0x02, 4), p.store.get(0x13, 1), p.store.get(0x15, 1)]).toEqual([false, false, true]);
    expect(p.log.newest()).toMatchObject({ code: 406 });
    expect(resultOf(p, encodeDisarm(user, [1]))).toBe(0x00);
    expect(p.store.any(0x0a)).toBe(false);
    expect(p.log.newest()).toMatchObject({ code: 401, restore: false });
  });

  it('logs a fire alarm with the fire code, and its restore as the fire zone restore, until the alarm is cleared', () => {
    const p = createPanel();
    expect(p.fireZone(6)[0]).toMatchObject({ code: 110, cls: 0, restore: false, source: 6 });
    expect([p.store.get(0x14, 1), p.store.get(0x16, 1)]).toEqual([true, true]);
    expect(p.restoreZone(6)[0]).toMatchObject({ code: 110, restore: true, source: 6 });
    expect(resultOf(p, encodeClearAlarm(user, [1]))).toBe(0x00);
    p.violateZone(6);
    expect(p.restoreZone(6)[0]).toMatchObject({ code: 99, restore: true, source: 6 });
  });

  it('switches outputs (0x88/0x89) and bypasses zones (0x86), which then do not block arming', () => {
    const p = createPanel();
    expect(resultOf(p, encodeOutputsOn(user, [3, 7]))).toBe(0x00);
    expect(bits(one(p, { cmd: 0x17 }).data)).toEqual([3, 7]);
    expect(resultOf(p, encodeOutputsOff(user, [3]))).toBe(0x00);
    expect(bits(one(p, { cmd: 0x17 }).data)).toEqual([7]);
    p.violateZone(1);
    expect(resultOf(p, encodeBypassZones(user, [1]))).toBe(0x00);
    expect(bits(one(p, { cmd: 0x06 }).data)).toEqual([1]);
    expect(resultOf(p, encodeArm(0, user, [1]))).toBe(0x00);
  });

  it('keeps trouble memory after a trouble clears, until 0x8B clears it', () => {
    const p = createPanel();
    p.raiseTrouble('ac');
    p.raiseTrouble('battery');
    p.clearTrouble('ac');
    expect(p.snapshot().troubles).toEqual({ active: ['battery'], memory: ['ac', 'battery'], zones: [] });
    expect(one(p, { cmd: 0x1b }).data[40]).toBe(0x40);
    expect(resultOf(p, encodeClearTroubleMemory(user))).toBe(0x00);
    expect(p.snapshot().troubles.memory).toEqual(['battery']);
  });

  it('answers unknown commands and malformed requests with EF 08', () => {
    const p = createPanel();
    expect(resultOf(p, { cmd: 0x42 })).toBe(0x08);
    expect(resultOf(p, { cmd: 0x80, data: Uint8Array.of(1, 2) })).toBe(0x08);
    expect(resultOf(p, { cmd: 0x09, data: Uint8Array.of(0) })).toBe(0x08);
  });
});

describe('event log over 0x8C, texts and names', () => {
  it('pages from the newest record back to the end of the log (Z = 0)', () => {
    const p = createPanel({ clock: () => new Date(2024, 0, 2, 3, 4).getTime() });
    p.violateZone(1);
    p.restoreZone(1);
    p.raiseTrouble('ac');
    const seen: Array<[number, boolean]> = [];
    let req = encodeReadEvent();
    for (let i = 0; i < 10; i++) {
      const a = decodeReadEventAnswer(one(p, req), { currentYear: 2024 });
      if (!a.record.notEmpty) break;
      seen.push([a.record.code, a.record.restore]);
      if (i === 0) expect(a.record).toMatchObject({ year: 2024, month: 1, day: 2, minuteOfDay: 184, eventClass: 5 });
      req = encodeReadEvent(a.eventIndex);
    }
    expect(seen).toEqual([[301, false], [99, true], [99, false]]);
  });

  it('gives event texts for the codes it writes, short and long', () => {
    const p = createPanel();
    const short = decodeEventTextAnswer(one(p, encodeEventTextRequest({ code: 130, restore: false, long: false })));
    const long = decodeEventTextAnswer(one(p, encodeEventTextRequest({ code: 301, restore: true, long: true })));
    expect([short.text, short.kind]).toEqual(['Burglary alarm', 1]);
    expect(long.text).toBe('AC supply ok');
  });

  it('names zones (with their partition), partitions, outputs and users; a missing one gets EF 08', () => {
    const p = createPanel({ model: 'integra24' });
    expect(decodeDeviceName(one(p, encodeDeviceNameRequest(5, 9)))).toMatchObject({ name: 'Zone 9', extra: 2 });
    expect(decodeDeviceName(one(p, encodeDeviceNameRequest(0, 4))).name).toBe('Partition 4');
    expect(decodeDeviceName(one(p, encodeDeviceNameRequest(2, 1))).name).toBe('User 1');
    expect(resultOf(p, encodeDeviceNameRequest(1, 25))).toBe(0x08);
  });
});
