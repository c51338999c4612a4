import { describe, expect, it } from 'vitest';
import { decodeAnswer } from './answers.ts';
import { encodeBitmapState, encodeIntegraVersion, encodeModuleVersion, encodeNewData, encodeRtc, encodeTroubles } from './commands.ts';
import { encodeDeviceName } from './devices.ts';
import { encodeEventTextAnswer, encodeReadEventAnswer } from './eventlog.ts';
import { encodeResult } from './result.ts';
import { message } from './types.ts';

const opts = { currentYear: 2026 };

describe('decodeAnswer (client side, any answer by its command)', () => {
  it('dispatches state, RTC and troubles answers', () => {
    expect(decodeAnswer(encodeBitmapState(0x17, [3]), opts)).toEqual({ answer: 'state', cmd: 0x17, kind: 'outputs', active: [3], capacity: 128 });
    expect(decodeAnswer(encodeRtc({ year: 2026, month: 1, day: 2, hour: 3, minute: 4, second: 5, status1: 0, status2: 0 }), opts)).toMatchObject({ answer: 'rtc', year: 2026, second: 5 });
    expect(decodeAnswer(encodeTroubles(0x1f), opts)).toMatchObject({ answer: 'troubles', part: 5, any: false });
  });
  it('dispatches versions, new data, event log, texts, names and results', () => {
    expect(decodeAnswer(encodeModuleVersion({ raw: '12320120527', flags: 1 }), opts)).toMatchObject({ answer: 'moduleVersion', supports32ByteAnswers: true });
    expect(decodeAnswer(encodeIntegraVersion({ type: 72, raw: '12120150728', language: 0, settingsInFlash: true }), opts)).toMatchObject({ answer: 'integraVersion', typeName: 'INTEGRA 256 Plus' });
    expect(decodeAnswer(encodeNewData([0x17]), opts)).toEqual({ answer: 'newData', changed: new Set([0x17]) });
    const record = { notEmpty: true, present: true, s1: 0, s2: 0, year: 2026, month: 3, day: 4, minuteOfDay: 61, eventClass: 0 as const, partitionRaw: 0, restore: false, code: 1, source: 2, object: 0, userControlNumber: 0 };
    expect(decodeAnswer(encodeReadEventAnswer({ record, eventIndex: 5, calledIndex: 0xffffff }), opts)).toMatchObject({ answer: 'readEvent', eventIndex: 5, record: { year: 2026, time: '01:01' } });
    expect(decodeAnswer(encodeEventTextAnswer({ code: 1, restore: false, long: false, kind: 3, text: 'Alarm' }), opts)).toMatchObject({ answer: 'eventText', text: 'Alarm', kind: 3 });
    expect(decodeAnswer(encodeDeviceName({ type: 4, number: 9, function: 2, name: 'Siren' }), opts)).toMatchObject({ answer: 'deviceName', type: 4, name: 'Siren' });
    expect(decodeAnswer(encodeResult(0x12), opts)).toEqual({ answer: 'result', code: 0x12, ok: false, text: 'cannot arm' });
  });
  it('rejects commands that have no answer and malformed answers with E_SATEL_PROTOCOL', () => {
    expect(() => decodeAnswer(message(0x80, Buffer.alloc(12)), opts)).toThrow(expect.objectContaining({ code: 'E_SATEL_PROTOCOL', details: { cmd: 0x80 } }));
    expect(() => decodeAnswer(message(0x00, Buffer.alloc(17)), opts)).toThrow(/17 bytes, expected 16 or 32/);
  });
});
