import { describe, expect, it } from 'vitest';
import {
  Cmd,
  cmdName,
  decodeBitmapState,
  decodeIntegraVersion,
  decodeModuleVersion,
  decodeNewData,
  decodeNewDataQuery,
  decodeRtc,
  decodeStateQuery,
  decodeTroubles,
  encodeBitmapState,
  encodeIntegraVersion,
  encodeModuleVersion,
  encodeMonitorRequest,
  encodeNewData,
  encodeNewDataQuery,
  encodeRtc,
  encodeStateQuery,
  encodeTroubles,
  integraTypeName,
  stateKind,
  supportsExtendedAnswers,
  TROUBLE_PART_BYTES,
} from './commands.ts';
import { encodeFrame } from './frame.ts';
import { message } from './types.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const protocolError = expect.objectContaining({ code: 'E_SATEL_PROTOCOL' });

describe('command table', () => {
  it('names every command code and falls back to hex for unknown ones', () => {
    expect(cmdName(0x17)).toBe('outputsState');
    expect(cmdName(0x2a)).toBe('partitionsArmedMode1');
    expect(cmdName(0xa3)).toBe('forceArmMode3');
    expect(cmdName(0x42)).toBe('0x42');
    expect(new Set(Object.values(Cmd)).size).toBe(Object.keys(Cmd).length);
  });
  it('classifies state commands by their answer', () => {
    expect([0x00, 0x06, 0x08].map(stateKind)).toEqual(['zones', 'zones', 'zones']);
    expect(stateKind(0x17)).toBe('outputs');
    expect([0x09, 0x0a, 0x16, 0x2a].map(stateKind)).toEqual(['partitions', 'partitions', 'partitions', 'partitions']);
    expect([0x18, 0x19].map(stateKind)).toEqual(['doors', 'doors']);
    expect(stateKind(0x1a)).toBe('rtc');
    expect([0x1b, 0x1f].map(stateKind)).toEqual(['troubles', 'troubles']);
    expect(stateKind(0x20)).toBeUndefined();
  });
});

describe('state queries 0x00–0x2F', () => {
  it('asks for zones violation with no data, or with one extra byte for 32 bytes', () => {
    const q = encodeStateQuery(Cmd.zonesViolation);
    expect(encodeFrame(q.cmd, q.data)).toEqual(hex('FE FE 00 D7 E2 FE 0D'));
    expect(encodeStateQuery(Cmd.zonesViolation)).toEqual({ cmd: 0x00, data: Buffer.alloc(0) });
    expect(encodeStateQuery(Cmd.outputsState, { extended: true })).toEqual({ cmd: 0x17, data: hex('FF') });
  });
  it('refuses the extra byte for partition states and non-state commands', () => {
    expect(() => encodeStateQuery(Cmd.armedPartitionsReally, { extended: true })).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
    expect(() => encodeStateQuery(0x84)).toThrow(/not a state query/);
  });
  it('panel side: reads the extra byte whatever its value', () => {
    expect(decodeStateQuery(message(0x01, hex('00')))).toEqual({ cmd: 1, kind: 'zones', extended: true });
    expect(decodeStateQuery(message(0x01, hex('FF')))).toEqual({ cmd: 1, kind: 'zones', extended: true });
    expect(decodeStateQuery(message(0x0a))).toEqual({ cmd: 0x0a, kind: 'partitions', extended: false });
    expect(() => decodeStateQuery(message(0x0a, hex('FF')))).toThrow(protocolError);
    expect(() => decodeStateQuery(message(0x00, hex('FF FF')))).toThrow(/at most 1/);
  });
  it('decodes a 16-byte zone answer into zone numbers', () => {
    const s = decodeBitmapState(message(0x00, hex(`05 00 ${'00 '.repeat(13)} 80`)));
    expect(s).toEqual({ cmd: 0, kind: 'zones', active: [1, 3, 128], capacity: 128 });
  });
  it('decodes a 32-byte output answer (INTEGRA 256 Plus)', () => {
    const data = Buffer.alloc(32);
    data[31] = 0x80;
    expect(decodeBitmapState(message(0x17, data))).toEqual({ cmd: 0x17, kind: 'outputs', active: [256], capacity: 256 });
  });
  it('decodes 4-byte partition and 8-byte door answers', () => {
    expect(decodeBitmapState(message(0x0a, hex('01 00 00 80'))).active).toEqual([1, 32]);
    expect(decodeBitmapState(message(0x18, hex('00 00 00 00 00 00 00 80'))).active).toEqual([64]);
  });
  it('rejects answers of the wrong length or command', () => {
    expect(() => decodeBitmapState(message(0x00, Buffer.alloc(15)))).toThrow(/15 bytes, expected 16 or 32/);
    expect(() => decodeBitmapState(message(0x0a, Buffer.alloc(16)))).toThrow(/expected 4/);
    expect(() => decodeBitmapState(message(0x1a, Buffer.alloc(9)))).toThrow(protocolError);
  });
  it('panel side: encodes answers of the right size and they decode back', () => {
    expect(encodeBitmapState(0x02, [5]).data).toHaveLength(16);
    expect(encodeBitmapState(0x02, [200], { extended: true }).data).toHaveLength(32);
    expect(encodeBitmapState(0x13, [2], { extended: true }).data).toEqual(hex('02 00 00 00'));
    expect(decodeBitmapState(encodeBitmapState(0x19, [1, 64])).active).toEqual([1, 64]);
    expect(() => encodeBitmapState(0x02, [200])).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
  });
  it('names an 0xEF refusal instead of a length error', () => {
    expect(() => decodeBitmapState(message(0xef, hex('08')))).toThrow(protocolError);
    expect(() => decodeRtc(message(0xef, hex('08')))).toThrow('panel answered rtcAndStatus with result 0x08: other error');
  });
});

describe('0x1A RTC and status', () => {
  it('decodes 7 BCD bytes YYYY MM DD hh mm ss and the 2 status bytes', () => {
    expect(decodeRtc(message(0x1a, hex('20 24 02 29 23 59 58 41 48')))).toEqual({
      year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 58, status1: 0x41, status2: 0x48,
    });
  });
  it('round-trips through the encoder', () => {
    const rtc = { year: 2031, month: 12, day: 1, hour: 0, minute: 5, second: 9, status1: 0, status2: 0xff };
    expect(encodeRtc(rtc).data).toEqual(hex('20 31 12 01 00 05 09 00 FF'));
    expect(decodeRtc(encodeRtc(rtc))).toEqual(rtc);
  });
  it('rejects a short answer and non-BCD digits', () => {
    expect(() => decodeRtc(message(0x1a, hex('20 24 02 29 23 59 58 41')))).toThrow(/8 data bytes, expected 9/);
    expect(() => decodeRtc(message(0x1a, hex('20 2A 02 29 23 59 58 41 48')))).toThrow(/not a BCD byte/);
  });
});

describe('0x1B–0x1F troubles', () => {
  it('has the lengths 47 / 26 / 60 / 30 / 31', () => {
    expect(TROUBLE_PART_BYTES).toEqual({ 0x1b: 47, 0x1c: 26, 0x1d: 60, 0x1e: 30, 0x1f: 31 });
  });
  it('decodes each part with its length, reporting whether any bit is set', () => {
    for (const [cmd, len] of Object.entries(TROUBLE_PART_BYTES).map(([c, l]) => [Number(c), l] as const)) {
      const clear = decodeTroubles(message(cmd, Buffer.alloc(len)));
      expect(clear).toMatchObject({ cmd, part: cmd - 0x1a, any: false });
      const data = Buffer.alloc(len);
      data[len - 1] = 1;
      expect(decodeTroubles(message(cmd, data)).any).toBe(true);
      expect(() => decodeTroubles(message(cmd, Buffer.alloc(len + 1)))).toThrow(protocolError);
    }
  });
  it('panel side: pads a part to its length', () => {
    expect(encodeTroubles(0x1c, hex('01')).data).toEqual(Buffer.concat([hex('01'), Buffer.alloc(25)]));
    expect(() => encodeTroubles(0x1c, Buffer.alloc(27))).toThrow(/holds 26 bytes/);
  });
});

describe('0x7C module version and 0x7E INTEGRA version', () => {
  it('decodes 11 ASCII digits as version 1.23 of 2012-05-27 and flag bit0 as 32-byte support', () => {
    const v = decodeModuleVersion(message(0x7c, Buffer.concat([Buffer.from('12320120527'), hex('01')])));
    expect(v).toEqual({ raw: '12320120527', version: '1.23', date: '2012-05-27', flags: 1, supports32ByteAnswers: true });
    expect(decodeModuleVersion(encodeModuleVersion({ raw: '20520200101', flags: 0x02 })).supports32ByteAnswers).toBe(false);
  });
  it('decodes the INTEGRA type (72 = INTEGRA 256 Plus), version, language and the flash flag', () => {
    const v = decodeIntegraVersion(message(0x7e, Buffer.concat([hex('48'), Buffer.from('12120150728'), hex('00 FF')])));
    expect(v).toEqual({
      type: 72, typeName: 'INTEGRA 256 Plus', raw: '12120150728', version: '1.21', date: '2015-07-28', language: 0, settingsInFlash: true,
    });
  });
  it('knows the whole type table and names unknown types', () => {
    expect([0, 1, 2, 3, 4, 66, 67, 72, 132].map(integraTypeName)).toEqual([
      'INTEGRA 24', 'INTEGRA 32', 'INTEGRA 64', 'INTEGRA 128', 'INTEGRA 128-WRL SIM300',
      'INTEGRA 64 Plus', 'INTEGRA 128 Plus', 'INTEGRA 256 Plus', 'INTEGRA 128-WRL LEON',
    ]);
    expect(integraTypeName(99)).toBe('unknown INTEGRA type 99');
  });
  it('round-trips the INTEGRA version', () => {
    const msg = encodeIntegraVersion({ type: 67, raw: '11920140101', language: 1, settingsInFlash: false });
    expect(decodeIntegraVersion(msg)).toMatchObject({ type: 67, raw: '11920140101', language: 1, settingsInFlash: false });
  });
  it('asks for 32-byte answers only with module flag bit0 and INTEGRA 256 Plus', () => {
    const mod = (flags: number) => decodeModuleVersion(encodeModuleVersion({ raw: '12320120527', flags }));
    const panel = (type: number) => decodeIntegraVersion(encodeIntegraVersion({ type, raw: '12120150728', language: 0, settingsInFlash: true }));
    expect(supportsExtendedAnswers(mod(1), panel(72))).toBe(true);
    expect(supportsExtendedAnswers(mod(0), panel(72))).toBe(false);
    expect(supportsExtendedAnswers(mod(1), panel(67))).toBe(false);
  });
  it('rejects wrong lengths and non-digit versions', () => {
    expect(() => decodeModuleVersion(message(0x7c, Buffer.from('12320120527')))).toThrow(/11 data bytes, expected 12/);
    expect(() => decodeModuleVersion(message(0x7c, Buffer.from('1.232012052x')))).toThrow(/not 11 digits/);
    expect(() => decodeIntegraVersion(message(0x7e, Buffer.alloc(13)))).toThrow(protocolError);
    expect(() => encodeModuleVersion({ raw: '1.23', flags: 0 })).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
  });
});

describe('0x7F new data list', () => {
  it('queries with no data (5 bytes back) or one extra byte (6 bytes back)', () => {
    expect(encodeNewDataQuery()).toEqual({ cmd: 0x7f, data: Buffer.alloc(0) });
    expect(encodeNewDataQuery({ extended: true }).data).toHaveLength(1);
  });
  it('decodes bit n as command n', () => {
    expect([...decodeNewData(message(0x7f, hex('01 00 80 00 00')))]).toEqual([0x00, 0x17]);
    expect([...decodeNewData(message(0x7f, hex('00 00 00 00 00 04')))]).toEqual([0x2a]);
    expect(decodeNewData(message(0x7f, hex('00 00 00 00 00'))).size).toBe(0);
  });
  it('round-trips the panel-side encoder and rejects other lengths', () => {
    expect(encodeNewData([0x0a, 0x17, 0x27]).data).toEqual(hex('00 04 80 00 80'));
    expect([...decodeNewData(encodeNewData([0x2f], { extended: true }))]).toEqual([0x2f]);
    expect(() => encodeNewData([0x28])).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
    expect(() => decodeNewData(message(0x7f, hex('00 00 00 00')))).toThrow(protocolError);
  });
  it('builds the 0x7F + 12 bytes monitoring request and the panel reads it back', () => {
    const req = encodeMonitorRequest([0x00, 0x17, 0x5f]);
    expect(req.data).toEqual(hex('01 00 80 00 00 00 00 00 00 00 00 80'));
    const q = decodeNewDataQuery(req);
    expect(q.mode).toBe('monitor');
    expect(q.mode === 'monitor' ? [...q.cmds] : []).toEqual([0x00, 0x17, 0x5f]);
    expect(decodeNewDataQuery(message(0x7f))).toEqual({ mode: 'poll', extended: false });
    expect(decodeNewDataQuery(message(0x7f, hex('00')))).toEqual({ mode: 'poll', extended: true });
    expect(() => decodeNewDataQuery(message(0x7f, hex('00 00')))).toThrow(protocolError);
  });
});
